"""The record rules: a treatment is completed only with a signed record, a signed record
changes only by amendments that keep its history, expired lots are refused, and only clinical
roles read or write records (every read audited)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import services as booking_services
from bookings.completion import completion_blockers
from bookings.models import HealthDataAccess
from clinic.errors import IllegalTransition, PermissionDenied, ValidationFailed
from records.errors import RecordSigned
from records.models import TreatmentRecord
from records.selectors import lots_selectable, treatment_record_read
from records.services.treatment_records import treatment_record_amend, treatment_record_save
from tests import factories
from tests.factories import complete_record_content


def test_a_treatment_cannot_be_completed_without_a_signed_record(
    session, practitioner_user, reception
):
    with pytest.raises(IllegalTransition) as refused:
        booking_services.appointment_complete(appointment=session, actor=reception)
    assert refused.value.extra["reason"] == "needs_signed_record"

    treatment_record_save(
        actor=practitioner_user, appointment=session, content=complete_record_content()
    )
    with pytest.raises(IllegalTransition, match="Sign the treatment record"):
        booking_services.appointment_complete(appointment=session, actor=reception)
    session.refresh_from_db()
    assert session.status == "arrived"

    treatment_record_save(
        actor=practitioner_user, appointment=session, content=complete_record_content(), sign=True
    )
    assert completion_blockers(session) == []
    assert booking_services.appointment_complete(appointment=session, actor=reception).status == (
        "completed"
    )


def test_a_consultation_needs_no_treatment_record(
    client_person, practitioner, consultation_service, location, reception
):
    consultation = factories.AppointmentFactory(
        client=client_person,
        service=consultation_service,
        practitioner=practitioner,
        location=location,
        start_at=timezone.now() - timedelta(minutes=20),
        status="arrived",
    )
    assert completion_blockers(consultation) == []
    booking_services.appointment_complete(appointment=consultation, actor=reception)


def test_signing_records_who_signed_and_when(session, practitioner_user):
    record = treatment_record_save(
        actor=practitioner_user, appointment=session, content=complete_record_content(), sign=True
    )
    assert record.status == TreatmentRecord.Status.SIGNED
    assert record.signed_by == practitioner_user
    assert abs(record.signed_at - timezone.now()) < timedelta(seconds=5)


def test_signing_needs_the_fields_a_record_must_have(session, practitioner_user):
    with pytest.raises(ValidationFailed) as refused:
        treatment_record_save(
            actor=practitioner_user,
            appointment=session,
            content=complete_record_content(device="", depths=[]),
            sign=True,
        )
    assert refused.value.field == "device"
    assert refused.value.extra["missing"] == ["device", "depths"]
    assert not TreatmentRecord.objects.exists()


def test_only_the_treating_practitioner_or_a_manager_signs(session, manager, colleague_user):
    with pytest.raises(PermissionDenied):
        treatment_record_save(
            actor=colleague_user, appointment=session, content=complete_record_content(), sign=True
        )
    record = treatment_record_save(
        actor=manager, appointment=session, content=complete_record_content(), sign=True
    )
    assert record.signed_by == manager


@pytest.fixture
def colleague_user(db):
    from clinic import roles
    from tests.conftest import _staff

    return _staff("cara_colleague", roles.PRACTITIONER)


def test_a_signed_record_is_never_overwritten_only_amended_with_history(
    session, practitioner_user, glide_lot
):
    record = treatment_record_save(
        actor=practitioner_user,
        appointment=session,
        content=complete_record_content(passes=3, lot_ids=[glide_lot.pk]),
        sign=True,
    )
    with pytest.raises(RecordSigned):
        treatment_record_save(
            actor=practitioner_user, appointment=session, content=complete_record_content(passes=4)
        )
    with pytest.raises(ValidationFailed) as no_reason:
        treatment_record_amend(
            actor=practitioner_user,
            record=record,
            content=complete_record_content(passes=4),
            reason="  ",
        )
    assert no_reason.value.field == "reason"

    first = treatment_record_amend(
        actor=practitioner_user,
        record=record,
        content=complete_record_content(passes=4, lot_ids=[glide_lot.pk]),
        reason="Counted the passes wrong",
    )
    second = treatment_record_amend(
        actor=practitioner_user,
        record=record,
        content=complete_record_content(passes=4, lot_ids=[], notes="Glide was not used"),
        reason="No glide serum after all",
    )
    record.refresh_from_db()
    assert record.passes == 4
    assert record.revision == 2
    assert list(record.product_uses.all()) == []
    assert [a.number for a in record.amendments.all()] == [1, 2]
    assert first.changed_fields == ["passes"]
    assert first.previous["passes"] == 3
    assert first.previous["signed_by"] == practitioner_user.username
    assert second.changed_fields == ["notes", "lot_ids"]
    assert second.previous["lots"] == [
        {"lot_id": glide_lot.pk, "product": "Hyaluronic glide", "lot_number": "HG-2026-07"}
    ]
    # The original signature stands; each amendment carries its own author and time.
    assert record.signed_by == practitioner_user
    assert second.amended_by == practitioner_user


def test_an_amendment_that_changes_nothing_is_refused(session, practitioner_user):
    record = treatment_record_save(
        actor=practitioner_user, appointment=session, content=complete_record_content(), sign=True
    )
    with pytest.raises(ValidationFailed, match="Nothing was changed"):
        treatment_record_amend(
            actor=practitioner_user, record=record, content=complete_record_content(), reason="x"
        )
    assert record.amendments.count() == 0


def test_an_expired_lot_cannot_be_selected(session, practitioner_user, glide_lot, expired_lot):
    assert expired_lot not in lots_selectable(on=session.local_start.date())
    assert glide_lot in lots_selectable(on=session.local_start.date())
    with pytest.raises(ValidationFailed, match="expired") as refused:
        treatment_record_save(
            actor=practitioner_user,
            appointment=session,
            content=complete_record_content(lot_ids=[glide_lot.pk, expired_lot.pk]),
        )
    assert refused.value.field == "lot_ids"
    assert not TreatmentRecord.objects.exists()


def test_a_lot_that_expired_after_the_session_stays_valid_for_its_record(
    session, practitioner_user, glide_lot
):
    glide_lot.expires_on = session.local_start.date()
    glide_lot.save()
    record = treatment_record_save(
        actor=practitioner_user,
        appointment=session,
        content=complete_record_content(lot_ids=[glide_lot.pk]),
    )
    assert [use.lot for use in record.product_uses.all()] == [glide_lot]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"depths": [{"area": "cheeks", "depth_mm": "5"}]}, "depths"),
        ({"depths": [{"area": "", "depth_mm": "0.5"}]}, "depths"),
        ({"depths": "deep"}, "depths"),
        ({"erythema_grade": 4}, "erythema_grade"),
        ({"passes": "many"}, "passes"),
        ({"pinpoint_bleeding": "perhaps"}, "pinpoint_bleeding"),
        ({"lot_ids": [999999]}, "lot_ids"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_content_names_the_field_and_saves_nothing(session, practitioner_user, changes, field):
    with pytest.raises(ValidationFailed) as refused:
        treatment_record_save(
            actor=practitioner_user,
            appointment=session,
            content=complete_record_content(**changes),
        )
    assert refused.value.field == field
    assert not TreatmentRecord.objects.exists()


def test_reception_can_neither_write_nor_read_records_and_the_try_is_logged(
    session, practitioner_user, reception
):
    with pytest.raises(PermissionDenied):
        treatment_record_save(actor=reception, appointment=session, content={})
    treatment_record_save(
        actor=practitioner_user, appointment=session, content=complete_record_content()
    )
    with pytest.raises(PermissionDenied):
        treatment_record_read(actor=reception, appointment=session)
    denied = HealthDataAccess.objects.filter(actor=reception, action="denied")
    assert denied.count() == 2


def test_every_read_of_a_record_is_audited_without_values(session, practitioner_user, manager):
    record = treatment_record_save(
        actor=practitioner_user,
        appointment=session,
        content=complete_record_content(notes="Client prefers the left side first"),
    )
    assert treatment_record_read(actor=manager, appointment=session) == record
    read = HealthDataAccess.objects.get(actor=manager, action="read")
    assert read.record == f"treatment_record:{record.pk}"
    assert read.client_id == session.client_id
    assert "notes" in read.fields
    assert "left side" not in str(read.fields)


def test_the_policy_gives_needs_signed_record_as_the_reason_until_the_record_is_signed(
    session, practitioner_user, reception
):
    from bookings import policy

    decision = policy.decide(appointment=session, action=policy.Action.COMPLETE, actor=reception)
    assert decision.refusal == policy.Refusal.NEEDS_SIGNED_RECORD
    assert policy.Action.COMPLETE not in policy.allowed_actions(
        appointment=session, actor=reception
    )
    factories.sign_treatment_record(session, signer=practitioner_user)
    assert policy.Action.COMPLETE in policy.allowed_actions(appointment=session, actor=reception)


def test_the_clients_data_export_includes_their_records_photos_consent_and_history(
    session, practitioner_user, manager, reception
):
    from bookings.services.data_protection import client_data_export
    from records.services.photos import photo_consent_record

    record = factories.sign_treatment_record(session, signer=practitioner_user, passes=3)
    treatment_record_amend(
        actor=practitioner_user,
        record=record,
        content=complete_record_content(passes=4),
        reason="Miscounted",
    )
    photo_consent_record(actor=reception, client=session.client)
    export = client_data_export(
        actor=manager, client=session.client, reason="Client asked by email"
    )
    [exported] = export["treatment_records"]
    assert exported["passes"] == 4
    assert exported["amendments"][0]["previous"]["passes"] == 3
    assert exported["signed_by"] == practitioner_user.username
    assert export["photo_consents"][0]["allows_marketing"] is False
