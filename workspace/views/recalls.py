"""Product-lot recalls (managers): open one, see who was treated with the product, send the
notices through the outbox, follow notices and replies, and export the list for the
regulator."""

from __future__ import annotations

import csv
from datetime import date

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.errors import ApplicationError
from clinic.parsing import optional_local_date
from records.selectors import products_for_recall, recall_read, recalls_list
from records.services.recalls import recall_create
from reminders.services.recalls import recall_notices_send
from workspace.selectors.recalls import recall_rows
from workspace.views.access import input_region_for, render_staff, staff_member_required


def _date(raw: str, field: str, request: HttpRequest) -> date | None:
    return optional_local_date(raw, field=field, region=input_region_for(request))


def _int(raw: str) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


@require_http_methods(["GET", "POST"])
@staff_member_required
def recall_list(request: HttpRequest) -> HttpResponse:
    """GET: recalls and the form to open one. POST: open a recall."""
    error = None
    posted = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            recall = recall_create(
                actor=request.user,
                product_id=_int(request.POST.get("product", "")),
                lot_id=_int(request.POST.get("lot", "")),
                treated_from=_date(request.POST.get("treated_from", ""), "treated_from", request),
                treated_to=_date(request.POST.get("treated_to", ""), "treated_to", request),
                reason=request.POST.get("reason", ""),
                client_instructions=request.POST.get("client_instructions", ""),
            )
        except ApplicationError as exc:
            error = exc
        else:
            return redirect("staff-recall", recall_id=recall.id)
    recalls = recalls_list(actor=request.user)
    return render_staff(
        request,
        "workspace/recalls.html",
        {
            "nav": "recalls",
            "recalls": recalls,
            "products": products_for_recall(),
            "error": error,
            "posted": posted,
        },
        status=error.status if error else 200,
    )


@require_GET
@staff_member_required
def recall_detail(request: HttpRequest, recall_id: int) -> HttpResponse:
    recall = recall_read(actor=request.user, recall_id=recall_id)
    return render_staff(
        request,
        "workspace/recall.html",
        {"nav": "recalls", "recall": recall, "rows": recall_rows(recall=recall)},
    )


@require_POST
@staff_member_required
def recall_send(request: HttpRequest, recall_id: int) -> HttpResponse:
    recall = recall_read(actor=request.user, recall_id=recall_id)
    result = recall_notices_send(actor=request.user, recall=recall)
    summary = f"{result.queued} notice(s) queued."
    if result.cannot_receive_sms:
        summary += f" {result.cannot_receive_sms} client(s) cannot get texts: please call them."
    messages.success(request, summary)
    return redirect("staff-recall", recall_id=recall.id)


@require_GET
@staff_member_required
def recall_csv(request: HttpRequest, recall_id: int) -> HttpResponse:
    """The recipients for the regulator: who was treated with the product, when, and whether
    they were notified and replied."""
    recall = recall_read(actor=request.user, recall_id=recall_id, via="export")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="recall-{recall.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "recall_id",
            "product",
            "manufacturer",
            "lot",
            "lot_expires_on",
            "client",
            "phone",
            "treated_on",
            "appointment_id",
            "practitioner",
            "notice_status",
            "notice_sent_at",
            "replied_at",
        ]
    )
    for row in recall_rows(recall=recall):
        writer.writerow(
            [
                recall.pk,
                recall.product.name,
                recall.product.manufacturer,
                recall.lot.lot_number if recall.lot else "",
                recall.lot.expires_on.isoformat() if recall.lot else "",
                row.client_name,
                row.phone,
                row.treated_on.isoformat(),
                row.recipient.appointment_id,
                row.practitioner,
                row.notice_status,
                row.notice_sent_at.isoformat() if row.notice_sent_at else "",
                row.replied_at.isoformat() if row.replied_at else "",
            ]
        )
    return response
