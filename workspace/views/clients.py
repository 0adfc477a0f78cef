from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from bookings.selectors.staff import client_for_staff, client_overview, clients_search
from bookings.services.data_protection import client_data_export, client_erase
from clinic import roles
from clinic.errors import ApplicationError
from workspace.views.access import render_staff, staff_member_required


@staff_member_required
def client_list(request: HttpRequest) -> HttpResponse:
    """Search clients by name or phone."""
    query = request.GET.get("q", "")
    found = clients_search(actor=request.user, query=query)
    template = (
        "workspace/_client_rows.html"
        if request.headers.get("HX-Request")
        else "workspace/clients.html"
    )
    return render_staff(request, template, {"nav": "clients", "clients": found, "query": query})


@staff_member_required
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    """Appointments, course progress, consultation status, consent and the message timeline."""
    overview = client_overview(actor=request.user, client_id=client_id)
    return render_staff(
        request,
        "workspace/client.html",
        {
            "nav": "clients",
            "overview": overview,
            "client": overview.client,
            "messages_url": reverse("staff-client-messages", args=[overview.client.id]),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_member_required
def client_data(request: HttpRequest, client_id: int) -> HttpResponse:
    """Data-protection rights for a manager: export everything held (JSON, or a printable
    summary) or erase the client, each with a written reason (audited by the service)."""
    roles.require_role(request.user, roles.MANAGER)
    client = client_for_staff(actor=request.user, client_id=client_id)
    error = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        reason = request.POST.get("reason", "")
        try:
            if action == "erase":
                client_erase(actor=request.user, client=client, reason=reason)
                return redirect("staff-client", client_id=client.pk)
            export = client_data_export(actor=request.user, client=client, reason=reason)
        except ApplicationError as refusal:
            error = refusal
        else:
            if action == "export_html":
                return render(request, "bookings/client_data_export.html", {"export": export})
            response = HttpResponse(
                json.dumps(export, indent=2, ensure_ascii=False),
                content_type="application/json; charset=utf-8",
            )
            response["Content-Disposition"] = f'attachment; filename="client-{client.pk}.json"'
            return response
    return render_staff(
        request,
        "workspace/client_data.html",
        {"nav": "clients", "client": client, "error": error},
        status=error.status if error else 200,
    )
