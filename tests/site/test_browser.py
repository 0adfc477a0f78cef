"""What clients click, in Debian's chromium through Playwright, at phone width (390 px).

Screenshots of every step go to ``var/screenshots/`` (not committed). The code a client types is
read from the locmem SMS backend's outbox after running the dispatcher, as a phone would get it.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from bookings.models import Appointment, Client
from bookings.services import appointment_book, client_register
from tests import factories
from tests.conftest import REQUIRE_SERVICES

# Live-server tests need real transactions; tests/conftest.py restores the rows data
# migrations install (questionnaire, consent form, reminder protocol) after each flush.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE_INPUT = "07911 123456"
PHONE = "+447911123456"


@pytest.fixture
def browser(_django_db_helper, monkeypatch):
    # Function scope, started after the test database is set up and stopped before it is
    # flushed: while Playwright's event loop runs, Django's connection handler resolves to
    # another context.
    executable = shutil.which("chromium")
    if executable is None:
        reason = "browser tests need Debian's chromium (apt-get install chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason}; CI/REQUIRE_SERVICES is set, so this is a failure")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def phone_page(browser, request):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=1,
        timezone_id=getattr(request, "param", "Europe/London"),
        locale="en-GB",
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def shoot(request):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = request.node.name.removeprefix("test_")[:40]
    counter = iter(range(1, 100))

    def take(page, step: str) -> None:
        page.screenshot(path=SCREENSHOTS / f"{name}-{next(counter):02d}-{step}.png", full_page=True)

    return take


@pytest.fixture
def open_every_day(practitioner, location):
    """The clinic also opens at weekends, so the tests find times whatever day they run."""
    for weekday in (5, 6):
        factories.WorkingHoursFactory(
            practitioner=practitioner,
            location=location,
            weekday=weekday,
            start_time=time(9),
            end_time=time(17),
        )
    return practitioner


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    from reminders.backends import locmem

    locmem.reset()
    yield
    locmem.reset()


def local_today(location):
    return timezone.now().astimezone(location.zone).date()


def local_start(location, days_ahead: int, hour: int) -> datetime:
    day = local_today(location) + timedelta(days=days_ahead)
    return datetime.combine(day, time(hour), tzinfo=location.zone)


def received_code(phone: str) -> str:
    """Run the dispatcher (a worker would) and read the code from the text the phone got."""
    from reminders.backends import locmem
    from reminders.tasks import dispatch_due_messages

    dispatch_due_messages()
    texts = [sms.body for sms in locmem.outbox if sms.to == phone]
    assert texts, "no verification text was sent"
    return re.search(r"\b(\d{6})\b", texts[-1]).group(1)


def choose_day_and_first_time(page, location, days_ahead: int, shoot, label: str) -> None:
    day = local_today(location) + timedelta(days=days_ahead)
    day_link = page.locator(f'a.day[href*="day={day.isoformat()}"]')
    # Mark the picker page itself, once htmx has run on it: a click that only started the
    # navigation here would mark the page being left (a loaded machine makes that likely).
    day_link.wait_for()
    page.wait_for_load_state("load")
    page.evaluate("window.stillSamePage = true")
    day_link.click()
    page.wait_for_selector(f'a.day[aria-current="date"][href*="day={day.isoformat()}"]')
    # HTMX swapped the picker in place: no full reload, and the address follows the day.
    assert page.evaluate("window.stillSamePage === true")
    # htmx pushes the new address after the swap settles, a moment after the markup changes.
    # Polled from outside the page: a predicate evaluated inside it would need 'unsafe-eval',
    # which the CSP refuses.
    from playwright.sync_api import expect

    expect(page).to_have_url(re.compile(f"day={day.isoformat()}"), timeout=10_000)
    shoot(page, f"{label}-day")
    page.locator("button.time").first.click()


def fill_details(
    page, shoot, *, first_name="Maya", last_name="Okafor", also_email: bool = False
) -> None:
    page.get_by_label("First name").fill(first_name)
    page.get_by_label("Last name").fill(last_name)
    page.get_by_label("Mobile number").fill(PHONE_INPUT)
    page.get_by_label("Email (optional)").fill("maya@example.test")
    if also_email:
        page.get_by_label(re.compile("Also email me")).check()
    page.locator("#id_sms_consent").check()
    page.locator("#id_policy_accepted").check()
    shoot(page, "details")
    page.get_by_role("button", name="Continue").click()


def enter_code(page, shoot) -> None:
    page.wait_for_selector("text=Check your phone")
    page.get_by_label("6-digit code").fill(received_code(PHONE))
    shoot(page, "code")
    page.get_by_role("button", name="Confirm my booking").click()


def test_a_new_client_books_a_consultation_verifies_and_reaches_the_screening(
    live_server,
    phone_page,
    shoot,
    open_every_day,
    location,
    consultation_service,
    treatment_service,
):
    page = phone_page
    page.goto(f"{live_server.url}/book/")
    shoot(page, "start")
    page.get_by_role("link", name=re.compile("Skin consultation")).click()
    page.wait_for_selector("text=Choose a time")
    shoot(page, "times")

    choose_day_and_first_time(page, location, 2, shoot, "times")
    page.wait_for_selector("text=Your details")
    assert page.locator(".countdown__clock").inner_text() in {"10:00", "9:59", "9:58"}
    fill_details(page, shoot)
    enter_code(page, shoot)

    page.wait_for_selector("text=You're booked, Maya")
    shoot(page, "confirmed")
    appointment = Appointment.objects.get(service=consultation_service)
    assert appointment.status == Appointment.Status.BOOKED
    assert Client.objects.get().phone_verified_at is not None
    link = page.get_by_role("link", name="Fill in the questionnaire")
    assert link.get_attribute("href").endswith("/screening/")
    assert page.get_by_role("link", name=re.compile("Add to calendar")).is_visible()
    link.click()
    page.wait_for_load_state()
    shoot(page, "screening")
    for radio in page.locator('input[type=radio][value="no"]').all():
        radio.check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_load_state()
    shoot(page, "screening-sent")
    appointment.consultation.refresh_from_db()
    assert appointment.consultation.submitted_at is not None


def test_a_client_without_clearance_is_led_to_the_consultation_and_can_hold_a_treatment(
    live_server,
    phone_page,
    shoot,
    open_every_day,
    location,
    consultation_service,
    treatment_service,
):
    page = phone_page
    page.goto(f"{live_server.url}/book/")
    page.get_by_role("link", name=re.compile("Micro-needling")).click()
    page.wait_for_selector("text=Have you had a consultation with us in the last 6 months?")
    shoot(page, "question")
    page.get_by_label(re.compile("No, not yet")).check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("text=Let's start with a consultation")
    shoot(page, "consultation-first")
    page.get_by_role("link", name="Book a consultation").click()

    choose_day_and_first_time(page, location, 1, shoot, "consultation")
    fill_details(page, shoot)
    enter_code(page, shoot)
    page.wait_for_selector("text=Hold your first treatment now?")
    shoot(page, "confirmed")
    page.get_by_role("link", name="Choose a treatment time").click()
    page.wait_for_selector("text=Hold your first micro-needling")
    shoot(page, "first-treatment")
    choose_day_and_first_time(page, location, 3, shoot, "first-treatment")
    page.wait_for_selector("text=Your first treatment is held")
    shoot(page, "treatment-held")

    treatment = Appointment.objects.get(service=treatment_service)
    assert treatment.status == Appointment.Status.PENDING_CLEARANCE
    assert treatment.awaiting_consultation.service == consultation_service


def test_saying_yes_without_a_clearance_is_caught_after_the_code(
    live_server,
    phone_page,
    shoot,
    open_every_day,
    location,
    consultation_service,
    treatment_service,
):
    page = phone_page
    page.goto(f"{live_server.url}/book/{location.slug}/{treatment_service.slug}/?consulted=yes")
    choose_day_and_first_time(page, location, 2, shoot, "times")
    fill_details(page, shoot)
    enter_code(page, shoot)

    page.wait_for_selector("text=Book your consultation first")
    shoot(page, "not-eligible")
    assert not Appointment.objects.filter(status__in=["held", "booked"]).exists()


def test_a_cleared_client_books_a_treatment(
    live_server,
    phone_page,
    shoot,
    open_every_day,
    location,
    consultation_service,
    treatment_service,
    practitioner_user,
):
    from bookings.services.consultations import (
        consultation_open_for_appointment,
        consultation_record_outcome,
    )

    maya = client_register(first_name="Maya", last_name="Okafor", phone=PHONE, sms_consent=True)
    # Maya's consultation was yesterday (an outcome is recorded only once it has started).
    consultation = factories.AppointmentFactory(
        client=maya,
        service=consultation_service,
        location=location,
        practitioner=open_every_day,  # Pat saw Maya, so Pat may record the outcome
        start_at=local_start(location, -1, 9),
        status=Appointment.Status.COMPLETED,
    )
    consultation_record_outcome(
        consultation=consultation_open_for_appointment(appointment=consultation),
        actor=practitioner_user,
        outcome="cleared",
        services=[treatment_service],
        screened_in_person=True,
    )

    page = phone_page
    page.goto(f"{live_server.url}/book/")
    page.get_by_role("link", name=re.compile("Micro-needling")).click()
    page.get_by_label(re.compile("Yes")).check()
    page.get_by_role("button", name="Continue").click()
    choose_day_and_first_time(page, location, 4, shoot, "times")
    fill_details(page, shoot)
    enter_code(page, shoot)

    page.wait_for_selector("text=You're booked, Maya")
    shoot(page, "confirmed")
    treatment = Appointment.objects.get(service=treatment_service)
    assert treatment.status == Appointment.Status.BOOKED
    assert treatment.client == maya


@pytest.mark.parametrize("phone_page", ["America/New_York"], indirect=True)
def test_a_client_reschedules_and_cancels_from_the_manage_link(
    live_server, phone_page, shoot, open_every_day, location, consultation_service
):
    from bookings.tokens import manage_token_for

    maya = client_register(first_name="Maya", phone=PHONE, sms_consent=True)
    appointment = appointment_book(
        client=maya,
        service=consultation_service,
        location=location,
        start_at=local_start(location, 3, 10),
    )
    manage_url = f"{live_server.url}/b/{manage_token_for(appointment)}/"

    page = phone_page
    page.goto(manage_url)
    shoot(page, "manage")
    page.get_by_role("link", name="Change time").click()
    page.wait_for_selector("text=Change your time")
    from playwright.sync_api import expect

    # picker.js is deferred: it rewrites the note after the page has parsed, so wait for it.
    expect(page.locator(".tz-note")).to_contain_text("different from your device")
    shoot(page, "reschedule")
    choose_day_and_first_time(page, location, 4, shoot, "reschedule")
    page.wait_for_selector("text=your booking has moved")
    shoot(page, "moved")
    appointment.refresh_from_db()
    assert appointment.version == 2
    assert appointment.start_at.astimezone(location.zone).date() == local_today(
        location
    ) + timedelta(days=4)

    page.get_by_role("link", name="Cancel booking").click()
    shoot(page, "cancel")
    page.get_by_role("button", name="Yes, cancel it").click()
    page.wait_for_selector("text=Your booking is cancelled")
    shoot(page, "cancelled")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED


def test_every_booking_page_stays_under_100_kb_and_fits_a_desktop(
    live_server,
    phone_page,
    shoot,
    open_every_day,
    location,
    consultation_service,
    treatment_service,
):
    page = phone_page
    sizes: dict[str, int] = {}
    page.on(
        "response",
        lambda response: (
            sizes.__setitem__(response.url, len(response.body()))
            if response.request.resource_type in {"document", "script", "stylesheet"}
            else None
        ),
    )
    page.goto(f"{live_server.url}/book/{location.slug}/{consultation_service.slug}/")
    page.wait_for_load_state("networkidle")

    assert sum(sizes.values()) < 100_000, sizes

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/book/")
    shoot(page, "desktop-start")
    page.goto(f"{live_server.url}/book/{location.slug}/{consultation_service.slug}/")
    shoot(page, "desktop-times")
    assert page.locator(".week").bounding_box()["width"] <= 760


def tab_to(page, selector: str, *, limit: int = 80) -> None:
    """Press Tab until the focused element matches ``selector``, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            "(s) => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_client_books_a_consultation_with_the_keyboard_only(
    live_server, phone_page, shoot, open_every_day, location, consultation_service
):
    from playwright.sync_api import expect

    page = phone_page
    page.goto(f"{live_server.url}/book/")
    tab_to(page, "a[href*='skin-consultation']")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Choose a time")

    day = local_today(location) + timedelta(days=2)
    tab_to(page, f"a.day[href*='day={day.isoformat()}']")
    page.keyboard.press("Enter")
    page.wait_for_selector(f'a.day[aria-current="date"][href*="day={day.isoformat()}"]')
    # After the swap the chosen day keeps the focus, so Tab goes on to its times.
    expect(page.locator(f"#day-{day.isoformat()}")).to_be_focused()
    tab_to(page, "button.time", limit=12)
    page.keyboard.press("Enter")

    page.wait_for_selector("text=Your details")
    tab_to(page, "#id_first_name")
    page.keyboard.press("Enter")  # an empty form: the error summary takes the focus
    page.wait_for_selector("#error-summary")
    expect(page.locator("#error-summary")).to_be_focused()
    shoot(page, "keyboard-errors")
    tab_to(page, "#error-summary a", limit=3)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_first_name"
    page.keyboard.type("Maya")
    page.keyboard.press("Tab")
    page.keyboard.type("Okafor")
    tab_to(page, "#id_phone", limit=3)
    page.keyboard.type(PHONE_INPUT)
    tab_to(page, "#id_sms_consent", limit=4)
    page.keyboard.press("Space")
    tab_to(page, "#id_policy_accepted", limit=4)
    page.keyboard.press("Space")
    tab_to(page, "button[type=submit]", limit=4)
    page.keyboard.press("Enter")

    page.wait_for_selector("text=Check your phone")
    tab_to(page, "#id_code")
    page.keyboard.type(received_code(PHONE))
    page.keyboard.press("Enter")
    page.wait_for_selector("text=You're booked, Maya")
    shoot(page, "keyboard-booked")
    assert Appointment.objects.get(service=consultation_service).status == "booked"


@pytest.mark.parametrize("phone_page", ["UTC"], indirect=True)
def test_a_device_on_utc_is_told_of_a_time_zone_difference_only_when_the_clocks_differ(
    live_server, phone_page, open_every_day, location, consultation_service
):
    from playwright.sync_api import expect

    page = phone_page
    url = f"{live_server.url}/book/{location.slug}/{consultation_service.slug}/"
    # In December London keeps UTC: the device shows the same times as the clinic.
    page.clock.set_fixed_time(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    page.goto(url)
    page.wait_for_load_state()
    assert "different" not in page.locator(".tz-note").inner_text()

    # In July London is an hour ahead of UTC.
    page.clock.set_fixed_time(datetime(2026, 7, 1, 10, 0, tzinfo=UTC))
    page.goto(url)
    expect(page.locator(".tz-note")).to_contain_text("different from your device")


def test_the_screening_form_asks_for_the_isotretinoin_date_only_after_yes(
    live_server, phone_page, shoot, open_every_day, location, consultation_service
):
    """At 390 px: the follow-up is hidden after "No" and shown (and required) after "Yes"; the
    date is written day first whatever the device, and is stored as the date the client meant."""
    from playwright.sync_api import expect

    from bookings.tokens import manage_token_for

    maya = client_register(first_name="Maya", phone=PHONE, sms_consent=True)
    appointment = appointment_book(
        client=maya,
        service=consultation_service,
        location=location,
        start_at=local_start(location, 3, 10),
    )
    page = phone_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/b/{manage_token_for(appointment)}/screening/")
    last_six_months = page.get_by_role(
        "group", name=re.compile("taken isotretinoin .* in the last 6 months")
    )
    stopped_on = page.get_by_label("When did you stop taking isotretinoin?")
    expect(stopped_on).to_be_hidden()
    # The sentence for pages without the script is gone once the script runs.
    expect(page.locator(".condition-note")).to_have_count(0)
    for radio in page.locator('input[type=radio][value="no"]').all():
        radio.check()
    expect(last_six_months).to_be_visible()
    expect(stopped_on).to_be_hidden()
    shoot(page, "after-no")

    last_six_months.get_by_label("Yes").check()
    expect(stopped_on).to_be_visible()
    expect(page.locator("#q-isotretinoin_stopped_on-hint")).to_contain_text("dd/mm/yyyy")
    shoot(page, "after-yes")
    page.get_by_role("button", name="Send my answers").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("When did you stop taking isotretinoin?")
    expect(page.get_by_label("When did you stop taking isotretinoin?")).to_be_visible()

    page.get_by_label("When did you stop taking isotretinoin?").fill("01/10/2026")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("your answers are with your practitioner")).to_be_visible()
    shoot(page, "sent")
    appointment.consultation.refresh_from_db()
    answered = {entry["key"]: entry["answer"] for entry in appointment.consultation.answers}
    assert answered["isotretinoin_stopped_on"] == "2026-10-01"
    assert errors == []


def test_a_client_ticks_also_email_me_gets_the_confirmation_by_email_and_can_unsubscribe(
    live_server, phone_page, shoot, open_every_day, location, consultation_service
):
    from playwright.sync_api import expect

    from reminders.models import Message
    from reminders.tokens import email_unsubscribe_token_for

    page = phone_page
    page.goto(f"{live_server.url}/book/")
    page.get_by_role("link", name=re.compile("Skin consultation")).click()
    choose_day_and_first_time(page, location, 2, shoot, "times-email")
    fill_details(page, shoot, also_email=True)
    enter_code(page, shoot)
    expect(page.get_by_text("You're booked, Maya")).to_be_visible()

    client_row = Client.objects.get()
    assert client_row.can_receive_email
    email = Message.objects.get(channel=Message.Channel.EMAIL)
    assert (email.category, email.to) == ("confirmation", "maya@example.test")

    page.goto(f"{live_server.url}/e/unsubscribe/{email_unsubscribe_token_for(client_row.pk)}/")
    shoot(page, "unsubscribe")
    page.get_by_role("button", name="Stop emails").click()
    expect(
        page.get_by_role("heading", name="You won't get any more emails from us")
    ).to_be_visible()
    shoot(page, "unsubscribed")
    client_row.refresh_from_db()
    assert not client_row.can_receive_email
    assert client_row.can_receive_sms
