"""The client's own copy of their data (``/my-data/<token>/``), reached from the link texted
when they ask for it on their manage page. The link alone is not enough: the page texts a fresh
code to the client's phone and hands over the download (JSON, or a printable summary) only for
that code. The rules and the audit live in ``bookings.services.data_protection``."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from bookings.services.data_protection import (
    client_export_code_send,
    client_export_download,
    client_export_link_open,
)
from bookings.services.verification import verification_requester_for
from clinic.errors import ApplicationError, Gone, NotFound
from clinic.http import client_ip

DOWNLOADS = ("json", "html")


def _browser(request: HttpRequest) -> str:
    if request.session.session_key is None:
        request.session.save()
    return verification_requester_for(session_key=request.session.session_key)


@require_http_methods(["GET", "POST"])
def client_data_export_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = client_export_link_open(link_token=token)
    except (NotFound, Gone) as error:
        return render(
            request,
            "bookings/site/link_problem.html",
            {"error": error, "is_expired": isinstance(error, Gone)},
            status=error.status,
        )
    session_key = f"data_export:{link.request_id}"
    action = request.POST.get("action", "")
    context: dict[str, object] = {
        "token": token,
        "phone_ending": link.phone_ending,
        "problem": "",
        "notice": "",
    }
    status = 200
    if request.method == "POST" and action == "send":
        try:
            verification = client_export_code_send(
                link_token=token, ip=client_ip(request), requester=_browser(request)
            )
        except ApplicationError as error:
            context["problem"], status = error.message, error.status
        else:
            request.session[session_key] = verification.handle
            context["notice"] = "We have sent you a code. Codes from earlier texts no longer work."
    elif request.method == "POST" and action in DOWNLOADS:
        try:
            export = client_export_download(
                link_token=token,
                handle=request.session.get(session_key, ""),
                code=request.POST.get("code", ""),
                requester=_browser(request),
            )
        except ApplicationError as error:
            context["problem"], status = error.message, error.status
        else:
            request.session.pop(session_key, None)
            if action == "html":
                return render(request, "bookings/client_data_export.html", {"export": export})
            response = HttpResponse(
                json.dumps(export, indent=2, ensure_ascii=False),
                content_type="application/json; charset=utf-8",
            )
            response["Content-Disposition"] = 'attachment; filename="my-data.json"'
            return response
    context["code_sent"] = bool(request.session.get(session_key))
    return render(request, "bookings/site/my_data.html", context, status=status)
