"""Consultation review queue and the outcome form. Health data is read only through
``consultation_read`` (audited); reception gets the outcome only."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from bookings.models import ConsentFormVersion, Consultation, ScreeningAnswerRule
from bookings.selectors.consultations import consultations_for_review
from bookings.selectors.staff import appointment_for_staff
from bookings.services.consultations import (
    consultation_open_for_appointment,
    consultation_read,
    consultation_record_consent,
    consultation_record_outcome,
)
from clinic import roles
from clinic.errors import ApplicationError, NotFound
from clinic.models import Service
from clinic.parsing import ids_from, optional_local_date
from workspace.views.access import render_staff, row_or_none, staff_member_required

OUTCOME_CHOICES = [
    (Consultation.Outcome.CLEARED, "Cleared for treatment"),
    (Consultation.Outcome.NEEDS_REVIEW, "Needs review"),
    (Consultation.Outcome.NOT_SUITABLE, "Not suitable"),
]


@staff_member_required
def consultation_queue(request: HttpRequest) -> HttpResponse:
    """Consultations still needing an outcome, soonest first."""
    return render_staff(
        request,
        "workspace/consultations.html",
        {"nav": "consultations", "consultations": consultations_for_review(actor=request.user)},
    )


@require_http_methods(["GET", "POST"])
@staff_member_required
def consultation_outcome(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Screening answers (flagged ones highlighted) and the outcome form for clinical staff;
    the outcome alone for reception."""
    appointment = appointment_for_staff(actor=request.user, appointment_id=appointment_id)
    consultation = Consultation.objects.filter(
        appointment=appointment
    ).first() or consultation_open_for_appointment(appointment=appointment)
    if consultation is None:
        raise NotFound("This appointment is not a consultation")
    is_clinical = roles.has_role(request.user, *roles.CLINICAL_ROLES)
    error = None
    status = 200
    region = appointment.location.country
    if request.method == "POST":
        try:
            services = list(
                Service.objects.filter(id__in=ids_from(request.POST.getlist("services")))
            )
            version_id = request.POST.get("consent_version", "")
            consultation_record_outcome(
                consultation=consultation,
                actor=request.user,
                outcome=request.POST.get("outcome", ""),
                services=services,
                valid_until=optional_local_date(
                    request.POST.get("valid_until", ""), field="valid_until", region=region
                ),
                not_before=optional_local_date(
                    request.POST.get("not_before", ""), field="not_before", region=region
                ),
                contraindications=[
                    line.strip()
                    for line in request.POST.get("contraindications", "").splitlines()
                    if line.strip()
                ],
                notes=request.POST.get("notes", ""),
                consent_version=row_or_none(ConsentFormVersion.objects.all(), version_id),
                consent_signed=version_id != "not_signed",
                screened_in_person=request.POST.get("screened_in_person") == "on",
            )
        except ApplicationError as failure:
            error, status = failure, failure.status
        else:
            messages.success(request, "Outcome recorded.")
            return redirect("staff-consultation", appointment_id=appointment.id)
        consultation.refresh_from_db()
    record = consultation_read(
        consultation=consultation, actor=request.user, include_health_data=is_clinical, via="staff"
    )
    flagged_keys = {flag.get("key") for flag in (record.screening_flags or [])}
    answers = [
        {
            **answer,
            "is_flagged": answer.get("flag") not in (None, "", ScreeningAnswerRule.Flag.NONE)
            or answer.get("key") in flagged_keys,
        }
        for answer in (record.answers or [])
    ]
    return render_staff(
        request,
        "workspace/consultation.html",
        {
            "nav": "consultations",
            "appointment": appointment,
            "consultation": consultation,
            "record": record,
            "answers": answers,
            "flags": record.screening_flags or [],
            "is_clinical": is_clinical,
            "can_record": is_clinical
            and consultation.outcome
            in (Consultation.Outcome.PENDING, Consultation.Outcome.NEEDS_REVIEW),
            "outcome_choices": OUTCOME_CHOICES,
            "treatments": Service.objects.filter(
                kind=Service.Kind.TREATMENT, is_active=True
            ).order_by("display_order", "name"),
            "consent_versions": ConsentFormVersion.objects.order_by("-created_at"),
            "cleared_ids": set(ids_from(request.POST.getlist("services")))
            if request.method == "POST"
            else set(consultation.services_cleared.values_list("id", flat=True)),
            "posted": request.POST if request.method == "POST" else {},
            "error": error,
        },
        status=status,
    )


@staff_member_required
@require_http_methods(["POST"])
def consultation_consent(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """The client signed the consent form after a clearance recorded as "not signed"."""
    appointment = appointment_for_staff(actor=request.user, appointment_id=appointment_id)
    consultation = Consultation.objects.filter(appointment=appointment).first()
    if consultation is None:
        raise NotFound("This appointment is not a consultation")
    consultation_record_consent(consultation=consultation, actor=request.user, via="staff")
    messages.success(request, "Signed consent recorded.")
    return redirect("staff-consultation", appointment_id=appointment.id)
