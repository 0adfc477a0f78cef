from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from bookings.selectors.staff import client_overview, clients_search
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
