"""Settings for the test suite: the project's own settings, read from a development
environment, plus what only tests want. Processes the tests start inherit this environment."""

from __future__ import annotations

import os
import secrets

os.environ.setdefault("DEBUG", "1")
# Random per run: nothing may depend on a key written down anywhere.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("SMS_BACKEND", "locmem")

from clinic.settings import *  # noqa: E402, F403

# Hashing passwords properly costs ~0.3 s a user; tests create hundreds.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Worker processes started by integration tests that point EMAIL_HOST at a fake mail server send
# through Django's real SMTP backend; everything else keeps mail in the locmem outbox.
if not os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Test transactions roll back, so a rule change's after-commit reload never runs: rules are
# loaded per plan except in the tests of reminders.rulebook itself.
REMINDER_RULES_CACHE_SECONDS = 0
AVAILABILITY_CACHE_SECONDS = 0
# One nudge per commit, as tests that count nudges expect; the debounce is tested on its own
# (tests/reminders/test_nudge.py).
DISPATCH_NUDGE_INTERVAL_MS = 0
