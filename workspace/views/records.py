"""Treatment record pages: the session record (fill in, sign, amend), its photos (consent,
upload, signed links), the course comparison, and the photo file behind a signed link.

The forms are parsed here into the plain content the records services clean and check; every
rule (who may, expired lots, consent, signatures) is theirs."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings.models import Appointment, Client
from bookings.selectors.staff import appointment_for_staff
from clinic.errors import ApplicationError, NotFound, ValidationFailed
from clinic.models import Service
from records.access import require_clinical_access
from records.models import TreatmentPhoto, TreatmentRecord
from records.selectors import course_for_client, lots_selectable, treatment_record_read
from records.services.photos import (
    PHOTO_CONSENT_WORDING,
    PHOTO_MARKETING_WORDING,
    Variant,
    photo_consent_active,
    photo_consent_record,
    photo_consent_withdraw,
    photo_open,
    photo_token_issue,
    photo_upload,
)
from records.services.treatment_records import (
    CONTENT_FIELDS,
    record_content_of,
    session_client_id,
    treatment_record_amend,
    treatment_record_save,
)
from workspace.views.access import render_staff, staff_member_required

# Rows the depth table starts with; the practitioner may rename or add one.
DEPTH_AREAS = ("forehead", "periorbital", "cheeks", "nose", "chin", "neck")
DEPTH_ROWS = len(DEPTH_AREAS) + 2


def content_from_post(data: QueryDict) -> dict[str, Any]:
    """The record form as the plain content records' services take."""
    depths = [
        {"area": data.get(f"depth_area_{row}", ""), "depth_mm": data.get(f"depth_mm_{row}", "")}
        for row in range(DEPTH_ROWS)
        if data.get(f"depth_mm_{row}", "").strip()
    ]
    content: dict[str, Any] = {
        name: data.get(name, "") for name in CONTENT_FIELDS if name not in ("depths", "lot_ids")
    }
    content["depths"] = depths
    content["lot_ids"] = data.getlist("lot_ids")
    return content


def _depth_rows(given: list[dict[str, str]]) -> list[dict[str, Any]]:
    by_area = {entry["area"].lower(): entry for entry in given}
    rows = [
        {"area": area, "depth_mm": by_area.pop(area, {}).get("depth_mm", "")}
        for area in DEPTH_AREAS
    ]
    rows += [dict(entry) for entry in by_area.values()]
    while len(rows) < DEPTH_ROWS:
        rows.append({"area": "", "depth_mm": ""})
    return [{"index": index, **row} for index, row in enumerate(rows[:DEPTH_ROWS])]


FIELD_LABELS = {
    "device": "Device",
    "cartridge": "Cartridge",
    "depths": "Depth",
    "passes": "Passes",
    "anaesthetic_minutes": "Numbing minutes",
    "erythema_grade": "Erythema",
    "pinpoint_bleeding": "Pinpoint bleeding",
    "reactions": "Reactions",
    "aftercare_given": "Aftercare given",
    "notes": "Notes",
    "lots": "Products",
}


def _previous_lines(previous: dict[str, Any]) -> list[tuple[str, str]]:
    """What an amended record said before, as label and text for the history."""
    lines = []
    for key, label in FIELD_LABELS.items():
        value = previous.get(key)
        if key == "depths":
            text = " · ".join(f"{d['area']} {d['depth_mm']} mm" for d in value or [])
        elif key == "lots":
            text = " · ".join(f"{lot['product']} (lot {lot['lot_number']})" for lot in value or [])
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        else:
            text = "" if value is None else str(value)
        lines.append((label, text or "—"))
    return lines


def _photo_links(actor, photos) -> list[dict[str, Any]]:  # noqa: ANN001
    links = []
    for photo in photos:
        links.append(
            {
                "photo": photo,
                "thumbnail_url": reverse(
                    "staff-photo",
                    args=[photo_token_issue(actor=actor, photo=photo, variant=Variant.THUMBNAIL)],
                ),
                "image_url": reverse(
                    "staff-photo",
                    args=[photo_token_issue(actor=actor, photo=photo, variant=Variant.IMAGE)],
                ),
            }
        )
    return links


def _lot_groups(appointment: Appointment) -> list[tuple[str, list]]:
    groups: dict[str, list] = {}
    for lot in lots_selectable(on=appointment.local_start.date()):
        groups.setdefault(lot.product.get_kind_display(), []).append(lot)
    return list(groups.items())


def _record_page(
    request: HttpRequest,
    appointment: Appointment,
    *,
    error: ApplicationError | None = None,
    posted: dict[str, Any] | None = None,
    posted_reason: str = "",
    status: int = 200,
) -> HttpResponse:
    record = treatment_record_read(actor=request.user, appointment=appointment)
    content = posted if posted is not None else (record_content_of(record) if record else None)
    form: dict[str, Any] = {}
    if content is not None:
        form = dict(content) if isinstance(content, dict) else content.__dict__.copy()
    form["lot_ids"] = {str(lot_id) for lot_id in form.get("lot_ids", [])}
    for name in ("passes", "anaesthetic_minutes", "erythema_grade", "pinpoint_bleeding"):
        value = form.get(name)
        form[name] = "" if value is None else str(value).lower()
    form["pinpoint_bleeding"] = {"yes": "true", "no": "false"}.get(
        form["pinpoint_bleeding"], form["pinpoint_bleeding"]
    )
    photos = list(record.photos.order_by("stage", "angle", "uploaded_at")) if record else []
    context = {
        "nav": "calendar",
        "appointment": appointment,
        "record": record,
        "form": form,
        "depth_rows": _depth_rows(list(form.get("depths") or [])),
        "lot_groups": _lot_groups(appointment),
        "erythema_choices": [(0, "0 none"), (1, "1 mild"), (2, "2 moderate"), (3, "3 marked")],
        "amendments": [
            {"amendment": amendment, "previous": _previous_lines(amendment.previous)}
            for amendment in (record.amendments.all() if record else [])
        ],
        "photo_consent": photo_consent_active(client_id=session_client_id(appointment)),
        "photo_consent_wording": PHOTO_CONSENT_WORDING,
        "photo_marketing_wording": PHOTO_MARKETING_WORDING,
        "photos": _photo_links(request.user, photos),
        "stages": TreatmentPhoto.Stage.choices,
        "angles": TreatmentPhoto.Angle.choices,
        "error": error,
        "posted_reason": posted_reason,
        "course_url": reverse("staff-course", args=[appointment.client_id, appointment.service_id]),
    }
    return render_staff(request, "workspace/record.html", context, status=status)


def _session(request: HttpRequest, appointment_id: int) -> Appointment:
    appointment = appointment_for_staff(actor=request.user, appointment_id=appointment_id)
    if appointment.client_id is not None:
        # Who may is answered before what exists, so a refusal never depends on the kind.
        require_clinical_access(
            actor=request.user,
            client_id=appointment.client_id,
            record=f"treatment_record:appointment:{appointment.pk}",
            fields=CONTENT_FIELDS,
            via="staff",
        )
    if appointment.client is None or appointment.service.kind != Service.Kind.TREATMENT:
        raise NotFound("Only treatment sessions have a treatment record.")
    return appointment


@require_http_methods(["GET", "POST"])
@staff_member_required
def record_page(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """GET: the session record. POST ``intent``: ``save`` (draft), ``sign``, or ``amend`` (a
    signed record, with a reason)."""
    appointment = _session(request, appointment_id)
    if request.method != "POST":
        return _record_page(request, appointment)
    content = content_from_post(request.POST)
    intent = request.POST.get("intent", "save")
    try:
        if intent == "amend":
            record = TreatmentRecord.objects.filter(appointment=appointment).first()
            if record is None:
                raise NotFound("There is no record to amend yet.")
            treatment_record_amend(
                actor=request.user,
                record=record,
                content=content,
                reason=request.POST.get("reason", ""),
            )
        else:
            treatment_record_save(
                actor=request.user, appointment=appointment, content=content, sign=intent == "sign"
            )
    except ApplicationError as error:
        return _record_page(
            request,
            appointment,
            error=error,
            posted=content,
            posted_reason=request.POST.get("reason", ""),
            status=error.status,
        )
    return redirect("staff-record", appointment_id=appointment.id)


@require_POST
@staff_member_required
def record_photo_upload(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = _session(request, appointment_id)
    try:
        upload = request.FILES.get("image")
        if upload is None:
            raise ValidationFailed("Choose or take a photo first.", field="image")
        photo_upload(
            actor=request.user,
            appointment=appointment,
            stage=request.POST.get("stage", ""),
            angle=request.POST.get("angle", ""),
            upload=upload,
        )
    except ApplicationError as error:
        return _record_page(request, appointment, error=error, status=error.status)
    return redirect(f"{reverse('staff-record', args=[appointment.id])}#photos")


@require_POST
@staff_member_required
def photo_consent(request: HttpRequest, client_id: int) -> HttpResponse:
    """Record the client's photo consent, or (``withdraw=yes``) its withdrawal."""
    client = get_object_or_404(Client, pk=client_id)
    if request.POST.get("withdraw") == "yes":
        photo_consent_withdraw(actor=request.user, client=client)
    else:
        photo_consent_record(
            actor=request.user,
            client=client,
            allows_marketing=request.POST.get("allows_marketing") == "yes",
        )
    appointment_id = request.POST.get("appointment", "")
    if appointment_id.isdigit():
        return redirect(f"{reverse('staff-record', args=[int(appointment_id)])}#photos")
    return redirect("staff-client", client_id=client.id)


@require_GET
@staff_member_required
def photo_file(request: HttpRequest, token: str) -> HttpResponse:
    """The photo a signed link names, streamed from private storage; never cached."""
    opened = photo_open(actor=request.user, token=token)
    with opened.file as stored:  # a re-encoded photo of bounded size
        response = HttpResponse(stored.read(), content_type=opened.content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@staff_member_required
def course_page(request: HttpRequest, client_id: int, service_id: int) -> HttpResponse:
    """A client's course of one treatment: sessions, settings and photos side by side."""
    client = get_object_or_404(Client, pk=client_id)
    service = get_object_or_404(Service, pk=service_id)
    course = course_for_client(actor=request.user, client=client, service=service)
    photo_rows = []
    for stage, angle in course.angles:
        cells = []
        for session in course.sessions:
            photo = session.photos.get((stage, angle))
            cells.append(_photo_links(request.user, [photo])[0] if photo else None)
        photo_rows.append(
            {
                "label": f"{TreatmentPhoto.Stage(stage).label} · {TreatmentPhoto.Angle(angle).label}",
                "cells": cells,
            }
        )
    return render_staff(
        request,
        "workspace/course.html",
        {
            "nav": "clients",
            "course": course,
            "photo_rows": photo_rows,
        },
    )
