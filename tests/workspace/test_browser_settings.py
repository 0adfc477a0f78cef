"""A manager changes the clinic's settings in the browser and the booking site follows: Pat's
Tuesday becomes afternoons only and the clinic closes every Wednesday, so the client's time
picker offers no Tuesday morning and no Wednesday at all. Screenshots land in
var/screenshots/ (1280 px)."""

from __future__ import annotations

import re
from datetime import time

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from clinic.models import SettingsChange, TimeOff, WorkingHours
from tests.workspace.test_browser import SCREENSHOTS, page, sign_in  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The world's clock is Tuesday 1 December 2026, 08:00 in London (tests/workspace/conftest.py).
NEXT_TUESDAY = "2026-12-08"
NEXT_WEDNESDAY = "2026-12-09"


def times_offered(page, location, service, day: str) -> list[str]:  # noqa: F811
    page.goto(
        page.base_url + reverse("site-times", args=[location.slug, service.slug]) + f"?day={day}"
    )
    page.wait_for_selector(".week")
    return [text.strip() for text in page.locator("button.time").all_text_contents()]


def test_a_manager_changes_tuesday_hours_and_adds_a_closure_and_the_booking_site_follows(
    page,  # noqa: F811
    manager,
    practitioner,
    location,
    consultation_service,
):
    before_tuesday = times_offered(page, location, consultation_service, NEXT_TUESDAY)
    assert "09:00" in before_tuesday
    assert times_offered(page, location, consultation_service, NEXT_WEDNESDAY)

    sign_in(page, manager.username)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Practitioners").click()
    page.get_by_role("link", name=re.compile("Hours and time off")).click()
    page.get_by_role("link", name=re.compile("Change these hours")).click()
    page.get_by_label("Tuesday, range 1, start").fill("13:00")
    page.get_by_label("Tuesday, range 1, end").fill("17:00")
    page.screenshot(path=str(SCREENSHOTS / "settings-hours-grid.png"), full_page=True)
    page.get_by_role("button", name="Save hours").click()
    expect(page.locator(".flash, [role=status]").first).to_contain_text("Saved")

    page.get_by_role("link", name="← Practitioners").click()
    page.get_by_role("link", name="← Settings").click()
    page.get_by_role("link", name="Clinic closures").click()
    page.get_by_label("From", exact=True).fill(f"{NEXT_WEDNESDAY}T00:00")
    page.get_by_label("Until", exact=True).fill("2026-12-10T00:00")
    page.get_by_label("Reason").fill("Staff training")
    page.get_by_label("Repeats", exact=True).select_option("weekly")
    page.get_by_role("button", name="Add closure").click()
    expect(page.locator("table")).to_contain_text("Wed 9 Dec 2026 00:00")
    expect(page.locator("table")).to_contain_text("every week")
    page.screenshot(path=str(SCREENSHOTS / "settings-closures.png"), full_page=True)

    tuesday = WorkingHours.objects.get(practitioner=practitioner, weekday=1)
    assert (tuesday.start_time, tuesday.end_time) == (time(13), time(17))
    assert TimeOff.objects.get().repeats == "weekly"
    assert SettingsChange.objects.filter(actor=manager).count() == 2

    after_tuesday = times_offered(page, location, consultation_service, NEXT_TUESDAY)
    assert after_tuesday
    assert min(after_tuesday) == "13:00"
    assert times_offered(page, location, consultation_service, NEXT_WEDNESDAY) == []
    assert times_offered(page, location, consultation_service, "2026-12-16") == []
    assert times_offered(page, location, consultation_service, "2026-12-10")
    page.screenshot(path=str(SCREENSHOTS / "settings-site-after-closure.png"), full_page=True)
