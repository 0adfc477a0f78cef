from __future__ import annotations

import json

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from bookings import access
from bookings.selectors.staff import (
    ClientFilter,
    client_changes,
    client_for_staff,
    client_overview,
    client_possible_duplicates,
    clients_browse,
)
from bookings.services.client_merge import clients_merge
from bookings.services.data_protection import client_data_export, client_erase
from bookings.services.staff_clients import client_update_by_staff
from clinic import roles
from clinic.errors import ApplicationError, ValidationFailed
from clinic.parsing import optional_local_date
from waitlist import selectors as waitlist_selectors
from workspace.views.access import input_region_for, render_staff, staff_member_required


@staff_member_required
def client_list(request: HttpRequest) -> HttpResponse:
    """Browse clients a page at a time, filtered (upcoming, course, pending clearance, opted
    out) and searched by name or phone."""
    query = request.GET.get("q", "")
    show = request.GET.get("show", "")
    page = clients_browse(actor=request.user, query=query, show=show, page=request.GET.get("page"))
    template = (
        "workspace/_client_rows.html"
        if request.headers.get("HX-Request")
        else "workspace/clients.html"
    )
    return render_staff(
        request,
        template,
        {
            "nav": "clients",
            "clients": list(page.object_list),
            "page": page,
            "query": query,
            "show": show,
            "filters": ClientFilter.CHOICES,
        },
    )


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
            "client_alert": access.client_alert_read(actor=request.user, client=overview.client),
            "changes": client_changes(client=overview.client),
            "messages_url": reverse("staff-client-messages", args=[overview.client.id]),
            "waitlist_entries": waitlist_selectors.waitlist_entries(
                actor=request.user, client=overview.client, live_only=False
            )[:20],
            "waitlist_offers": waitlist_selectors.offers_for_client(
                actor=request.user, client=overview.client
            )[:20],
        },
    )


@require_http_methods(["GET", "POST"])
@staff_member_required
def client_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    """Edit name, email, date of birth, desk notes and the alert; every change is recorded."""
    client = client_for_staff(actor=request.user, client_id=client_id)
    error = None
    values = {name: getattr(client, name) for name in ("first_name", "last_name", "email", "notes")}
    values["date_of_birth"] = client.date_of_birth.isoformat() if client.date_of_birth else ""
    client_alert = access.client_alert_read(actor=request.user, client=client)
    may_edit_alert = access.may_read_clinical_alert(request.user)
    if may_edit_alert:
        values["alert"] = client_alert.text or ""
    email_consent = client.can_receive_email
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in values}
        email_consent = request.POST.get("email_consent") == "on"
        if "alert" in request.POST:
            # Only a clinical role has the field; anyone else posting it is refused by the
            # service (bookings.access).
            values["alert"] = request.POST["alert"]
        try:
            birthday = optional_local_date(
                values["date_of_birth"],
                field="date_of_birth",
                region=input_region_for(request),
            )
            client_update_by_staff(
                actor=request.user,
                client=client,
                email_consent=email_consent,
                **(values | {"date_of_birth": birthday.isoformat() if birthday else ""}),
            )
        except ApplicationError as failure:
            error = failure
        else:
            flash.success(request, "Details saved.")
            return redirect("staff-client", client.id)
    return render_staff(
        request,
        "workspace/client_edit.html",
        {
            "nav": "clients",
            "client": client,
            "values": values,
            "client_alert": client_alert,
            "may_edit_alert": may_edit_alert,
            "email_consent": email_consent,
            "error": error,
        },
        status=error.status if error else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_member_required
def client_merge(request: HttpRequest, client_id: int) -> HttpResponse:
    """Merge a duplicate (picked from clients who look alike) into this client."""
    client = client_for_staff(actor=request.user, client_id=client_id)
    candidates = client_possible_duplicates(actor=request.user, client=client)
    error = None
    if request.method == "POST":
        duplicate = next(
            (c for c in candidates if str(c.pk) == request.POST.get("duplicate", "")), None
        )
        try:
            if duplicate is None:
                raise ValidationFailed("Choose the duplicate to merge.", field="duplicate")
            clients_merge(
                actor=request.user,
                keep=client,
                duplicate=duplicate,
                reason=request.POST.get("reason", ""),
            )
        except ApplicationError as failure:
            error = failure
        else:
            flash.success(request, f"Merged {duplicate.full_name} into {client.full_name}.")
            return redirect("staff-client", client.id)
    return render_staff(
        request,
        "workspace/client_merge.html",
        {
            "nav": "clients",
            "client": client,
            "candidates": candidates,
            "error": error,
            "reason": request.POST.get("reason", ""),
        },
        status=error.status if error else 200,
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
