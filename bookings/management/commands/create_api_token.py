"""``manage.py create_api_token <username> [--name NAME]``: print a new personal API token once."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bookings.services.api_tokens import api_token_create_for_username
from clinic.errors import PermissionDenied


class Command(BaseCommand):
    help = "Create a personal API token for a staff user and print it (it is shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for, e.g. 'reports'")

    def handle(self, *args: object, username: str, name: str, **options: object) -> None:
        try:
            token, raw_token = api_token_create_for_username(username=username, name=name)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user called {username!r}") from None
        except PermissionDenied as error:
            raise CommandError(error.message) from None
        self.stderr.write(
            f"Token {token.prefix}… created for {username}. Store it now: it is not shown again."
        )
        self.stdout.write(raw_token)
