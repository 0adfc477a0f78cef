"""The client's care page behind the signed link in every reminder (``/c/<token>/``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from bookings.models import Client
from clinic.errors import Gone, NotFound
from reminders.selectors import care_page_for_token, recall_page_for_token
from reminders.services.email_channel import client_email_opt_out
from reminders.tokens import client_id_from_email_unsubscribe_token


def care_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        page = care_page_for_token(token=token)
    except (NotFound, Gone) as exc:
        return render(
            request,
            "reminders/care_page.html",
            {"error": exc.message},
            status=exc.status,
        )
    return render(request, "reminders/care_page.html", {"page": page, "location": page.location})


def recall_page(request: HttpRequest, token: str) -> HttpResponse:
    """What a recall notice's link opens: the product used at the client's visit and what
    the clinic asks them to do."""
    try:
        page = recall_page_for_token(token=token)
    except (NotFound, Gone) as exc:
        return render(
            request, "reminders/recall_page.html", {"error": exc.message}, status=exc.status
        )
    return render(request, "reminders/recall_page.html", {"page": page})


# The signed token in the URL is the only credential, and mail apps' one-click unsubscribe
# (RFC 8058) POSTs here without a CSRF token; a forged POST can only stop someone's emails.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The link in every email: GET asks, POST (the button, or the mail app's one-click
    unsubscribe) stops emails to the client. Texts are not affected."""
    template = "reminders/email_unsubscribe.html"
    try:
        client_id = client_id_from_email_unsubscribe_token(token)
    except NotFound as exc:
        return render(request, template, {"error": exc.message}, status=exc.status)
    client = Client.objects.select_related("preferred_location").filter(pk=client_id).first()
    if client is None or client.erased_at is not None:
        return render(request, template, {"error": "This link is not valid."}, status=404)
    context = {
        "email": client.email,
        "clinic_name": client.preferred_location.name if client.preferred_location else "",
    }
    if request.method == "POST":
        client_email_opt_out(client=client, method="email_link")
        return render(request, template, {**context, "done": True})
    return render(request, template, context)
