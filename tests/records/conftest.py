"""A treatment session in progress, products with lots, photos stored in a temporary folder."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from tests import factories


@pytest.fixture(autouse=True)
def photo_root(settings, tmp_path):
    root = tmp_path / "photos"
    settings.STORAGES = {
        **settings.STORAGES,
        "photos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }
    return root


def consent_signed_at_consultation(
    *, client, treatment_service, consultation_service, practitioner, location
):
    """The client was cleared for the treatment at a consultation six weeks ago and signed the
    consent form there (what completing a treatment needs besides its signed record)."""
    from bookings.models import Consultation

    visit = factories.AppointmentFactory(
        client=client,
        service=consultation_service,
        practitioner=practitioner,
        location=location,
        start_at=timezone.now() - timedelta(days=42),
        status="completed",
    )
    consultation = Consultation.objects.create(
        appointment=visit,
        client=client,
        outcome=Consultation.Outcome.CLEARED,
        valid_until=timezone.localdate() + timedelta(days=120),
        consent_signed_at=visit.start_at,
    )
    consultation.services_cleared.add(treatment_service)
    return consultation


@pytest.fixture
def session(client_person, practitioner, treatment_service, consultation_service, location):
    """A micro-needling session that started half an hour ago; the client, cleared with signed
    consent at a consultation, has arrived."""
    consent_signed_at_consultation(
        client=client_person,
        treatment_service=treatment_service,
        consultation_service=consultation_service,
        practitioner=practitioner,
        location=location,
    )
    start = timezone.now() - timedelta(minutes=30)
    return factories.AppointmentFactory(
        client=client_person,
        service=treatment_service,
        practitioner=practitioner,
        location=location,
        start_at=start,
        status="arrived",
    )


@pytest.fixture
def glide_lot(db):
    return factories.ProductLotFactory(
        product=factories.ProductFactory(name="Hyaluronic glide", kind="serum"),
        lot_number="HG-2026-07",
    )


@pytest.fixture
def expired_lot(db):
    return factories.ProductLotFactory(
        product=factories.ProductFactory(name="Numbing cream", kind="anaesthetic"),
        lot_number="NC-OLD",
        expires_on=timezone.localdate() - timedelta(days=1),
    )


def jpeg_with_gps(size=(1200, 900)) -> bytes:
    """A JPEG whose EXIF carries a GPS position and a camera make, as a phone writes it."""
    image = Image.new("RGB", size, (200, 150, 140))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 12.0)
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 40.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def photo_upload(name="face.jpg", content=None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content or jpeg_with_gps(), content_type="image/jpeg")
