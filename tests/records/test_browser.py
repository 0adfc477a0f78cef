"""A practitioner fills in a treatment record on a tablet (768 px wide, in headless Chromium):
settings, products by lot, the client's photo consent, a photo taken with the tablet's camera
input, the signature, and then the visit can be completed. Then the course comparison shows
two sessions' photos side by side. Screenshots land in var/screenshots/."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image, ImageDraw

from records.models import TreatmentPhoto, TreatmentRecord
from records.services.photos import photo_consent_record, photo_upload
from tests import factories
from tests.conftest import REQUIRE_SERVICES
from tests.workspace.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 768, "height": 1024}


def face_photo(*, redness: int) -> bytes:
    """A stand-in for a face photo: an oval on a plain background, redder cheeks before."""
    image = Image.new("RGB", (900, 1200), (236, 236, 232))
    draw = ImageDraw.Draw(image)
    draw.ellipse((180, 160, 720, 1000), fill=(226, 190, 165))
    for x in (300, 600):
        draw.ellipse((x - 90, 560, x + 90, 700), fill=(226, 190 - redness, 165 - redness))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


@pytest.fixture
def tablet(live_server):
    if CHROMIUM is None:
        if REQUIRE_SERVICES:
            pytest.fail("chromium is not installed (CI/REQUIRE_SERVICES is set)")
        pytest.skip("chromium is not installed: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport=TABLET, has_touch=True)
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.base_url = live_server.url  # type: ignore[attr-defined]
        yield tab
        context.close()
        browser.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def _sign_in(tab, username: str) -> None:
    tab.goto(tab.base_url + "/staff/login/")
    tab.fill("#id_username", username)
    tab.fill("#id_password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url("**/staff/")


def _fits_the_screen(tab) -> bool:
    return tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_practitioner_fills_in_and_signs_a_record_with_a_photo_on_a_tablet(
    tablet, session, practitioner_user, glide_lot, expired_lot
):
    _sign_in(tablet, practitioner_user.username)
    tablet.goto(f"{tablet.base_url}/staff/appointments/{session.id}/record/")
    assert tablet.locator("[data-testid=record-status]").inner_text().startswith("Not started")
    assert tablet.locator("text=NC-OLD").count() == 0  # the expired lot is not offered

    tablet.fill("#device", "Dermapen 4")
    tablet.fill("#cartridge", "16-pin nano")
    tablet.fill("input[name=depth_mm_0]", "0.5")  # forehead
    tablet.fill("input[name=depth_mm_2]", "1.0")  # cheeks
    tablet.fill("#passes", "3")
    tablet.fill("#anaesthetic-minutes", "30")
    tablet.check(f"input[name=lot_ids][value='{glide_lot.id}']")
    tablet.click("label.chip:has-text('2 moderate')")
    tablet.click("fieldset:has(legend:text('Pinpoint bleeding')) label.chip:has-text('Yes')")
    tablet.fill("#aftercare-given", "Aftercare leaflet, SPF 30, no make-up for 24 hours")
    tablet.click("button[value=save]")
    tablet.wait_for_selector("[data-testid=record-status]:has-text('Draft')")
    assert tablet.locator("#cartridge").input_value() == "16-pin nano"

    # No photo consent yet: the page asks for it first.
    tablet.click("text=The client agrees to clinical photos")
    tablet.wait_for_selector("#photo-image")
    assert tablet.get_attribute("#photo-image", "capture") == "environment"
    tablet.select_option("#photo-stage", "before")
    tablet.select_option("#photo-angle", "front")
    tablet.set_input_files(
        "#photo-image",
        files=[
            {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": face_photo(redness=10)}
        ],
    )
    tablet.click("button:has-text('Add photo')")
    thumbnail = tablet.wait_for_selector(".photo-grid img")
    tablet.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail)
    assert "/staff/photos/" in thumbnail.get_attribute("src")
    assert _fits_the_screen(tablet)
    tablet.screenshot(path=str(SCREENSHOTS / "record-form-tablet.png"), full_page=True)

    tablet.click("button[value=sign]")
    tablet.wait_for_selector("[data-testid=record-status]:has-text('Signed')")
    assert _fits_the_screen(tablet)
    tablet.screenshot(path=str(SCREENSHOTS / "record-signed-tablet.png"), full_page=True)
    record = TreatmentRecord.objects.get(appointment=session)
    assert record.is_signed
    assert record.signed_by == practitioner_user
    assert [use.lot for use in record.product_uses.all()] == [glide_lot]
    assert record.depths == [
        {"area": "forehead", "depth_mm": "0.50"},
        {"area": "cheeks", "depth_mm": "1.00"},
    ]
    assert TreatmentPhoto.objects.get().record == record

    # The signed record lets the visit be completed from the appointment page.
    tablet.goto(f"{tablet.base_url}/staff/appointments/{session.id}/")
    tablet.click("button[data-action=completed]")
    tablet.wait_for_selector(".appointment-panel[data-status=completed]")


def test_the_course_comparison_shows_sessions_side_by_side_on_a_tablet(
    tablet, session, practitioner, practitioner_user, reception, glide_lot
):
    first = factories.AppointmentFactory(
        client=session.client,
        service=session.service,
        practitioner=practitioner,
        location=session.location,
        start_at=timezone.now() - timedelta(days=29),
        status="completed",
    )
    factories.sign_treatment_record(
        first, signer=practitioner_user, passes=2, lot_ids=[glide_lot.id]
    )
    factories.sign_treatment_record(
        session,
        signer=practitioner_user,
        depths=[{"area": "cheeks", "depth_mm": "1.25"}],
        lot_ids=[glide_lot.id],
    )
    photo_consent_record(actor=reception, client=session.client)
    for visit, redness in ((first, 60), (session, 25)):
        for stage, extra in (("before", 0), ("after", 30)):
            upload = io.BytesIO(face_photo(redness=redness + extra))
            upload.name = "face.jpg"
            upload.size = len(upload.getvalue())
            photo_upload(
                actor=practitioner_user,
                appointment=visit,
                stage=stage,
                angle="front",
                upload=upload,
            )

    _sign_in(tablet, practitioner_user.username)
    tablet.goto(
        f"{tablet.base_url}/staff/clients/{session.client_id}/courses/{session.service_id}/"
    )
    rows = tablet.locator("tr.photo-row")
    assert rows.count() == 2
    for index in range(2):
        images = rows.nth(index).locator("img")
        assert images.count() == 2
        for n in range(2):
            tablet.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=images.nth(n).element_handle()
            )
    header = tablet.locator(".compare thead").inner_text()
    assert "1 ·" in header
    assert "2 ·" in header
    tablet.screenshot(path=str(SCREENSHOTS / "course-comparison-tablet.png"), full_page=True)
