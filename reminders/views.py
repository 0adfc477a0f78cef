"""The client's care page behind the signed link in every reminder (``/c/<token>/``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.errors import Gone, NotFound
from reminders.selectors import care_page_for_token, recall_page_for_token


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
