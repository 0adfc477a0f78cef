"""What people click at the front desk, in headless Chromium: reception books a phone client
into a free slot, reschedules by drag and by the edit form, and a practitioner records a
consultation outcome that turns a pending treatment into booked. Screenshots (1280 px wide)
land in var/screenshots/."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from bookings import services
from bookings.models import Appointment, Client, ConsentFormVersion, Consultation
from tests import factories
from tests.conftest import REQUIRE_SERVICES
from tests.workspace.conftest import NOW, TUESDAY, WEDNESDAY, at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def page(live_server):
    if CHROMIUM is None:
        if REQUIRE_SERVICES:
            pytest.fail("chromium is not installed (CI/REQUIRE_SERVICES is set)")
        pytest.skip("chromium is not installed: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    # The ORM runs in this thread while Playwright's sync API keeps an event loop in it.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        # A desk in the London clinic: the browser's locale is the location's (en-GB).
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="Europe/London"
        )
        tab = context.new_page()
        # The browser's clock is the server's frozen one: the calendar opens today's grid at
        # the current hour, so on the real 2 December (the test week's Wednesday) a real clock
        # scrolled the morning the tests drag in out of view.
        tab.clock.set_fixed_time(NOW)
        tab.set_default_timeout(10_000)
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.base_url = live_server.url  # type: ignore[attr-defined]
        yield tab
        context.close()
        browser.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def sign_in(page, username: str) -> None:
    page.goto(page.base_url + "/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/")


def open_calendar(page, day=WEDNESDAY) -> None:
    page.goto(f"{page.base_url}/staff/?date={day.isoformat()}")
    page.wait_for_selector(".ec-body .ec-day")


def slot_point(page, column_title: str, hour: int, minute: int = 0) -> tuple[float, float]:
    """Screen point of a time in a practitioner's column, from the grid's own geometry."""
    return page.evaluate(
        """([title, hour, minute]) => {
            const heads = [...document.querySelectorAll('.ec-header .ec-col-head')];
            const days = document.querySelectorAll('.ec-body .ec-day');
            // With a single column EventCalendar shows only the date above it.
            const label = (head) => (head.querySelector('.label-full') || head).textContent.trim();
            const index = days.length === 1 ? 0 : heads.findIndex(h => label(h) === title);
            const day = days[index].getBoundingClientRect();
            const config = JSON.parse(document.getElementById('calendar-config').textContent);
            const minutes = (text) => { const [h, m] = text.split(':'); return (+h) * 60 + (+m); };
            const first = minutes(config.slotMinTime), last = minutes(config.slotMaxTime);
            const perMinute = day.height / (last - first);
            // The middle of the first quarter-hour slot after the wanted time.
            return [day.left + day.width / 2, day.top + (hour * 60 + minute - first + 7) * perMinute];
        }""",
        [column_title, hour, minute],
    )


def drag_event(page, event_text: str, column_title: str, hour: int) -> None:
    """Drag an appointment by its top edge to ``hour`` in a column, as a person would."""
    box = page.locator(f".ec-event:has-text('{event_text}')").bounding_box()
    target_x, target_y = slot_point(page, column_title, hour)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 6)
    page.mouse.down()
    page.mouse.move(target_x, target_y - 10, steps=12)
    page.mouse.move(target_x, target_y, steps=4)
    page.mouse.up()


def test_reception_books_a_phone_client_into_a_free_slot(
    page, reception, practitioner, consultation_service, location
):
    sign_in(page, reception.username)
    open_calendar(page)
    page.screenshot(path=str(SCREENSHOTS / "staff-calendar-empty.png"))

    x, y = slot_point(page, "Pat Lee", 14)
    page.mouse.click(x, y)
    page.wait_for_selector("#booking-form")
    # Written the clinic's way (en-GB), not the browser's.
    assert page.input_value("#booking-start") == "02/12/2026 14:00"
    page.select_option("#booking-service", str(consultation_service.id))
    page.click("details.new-client summary")
    page.fill("#new-first", "Nia")
    page.fill("#new-last", "Phone")
    page.fill("#new-phone", "07911 123456")
    page.check("input[name=sms_consent]")
    page.screenshot(path=str(SCREENSHOTS / "staff-booking-form.png"))
    page.click("#booking-form button[type=submit]")

    page.wait_for_selector(".appointment-panel")
    page.wait_for_selector(".ec-event:has-text('Nia Phone')")
    page.screenshot(path=str(SCREENSHOTS / "staff-booked.png"))
    appointment = Appointment.objects.get(client__phone="+447911123456")
    assert appointment.start_at == at(14)
    assert appointment.channel == "staff"
    assert Client.objects.get(phone="+447911123456").sms_consent_method == "staff_phone"


def test_reception_books_from_the_rooms_view_into_the_clicked_room(
    page, reception, practitioner, location, room
):
    facial = factories.ServiceFactory(name="Hydrating facial", duration_minutes=45)
    second_room = factories.RoomFactory(location=location, name="Room 2")
    facial.rooms.add(room, second_room)
    practitioner.services.add(facial)
    sign_in(page, reception.username)
    page.goto(f"{page.base_url}/staff/?by=room&date={WEDNESDAY.isoformat()}")
    page.wait_for_selector(".ec-body .ec-day")

    x, y = slot_point(page, "Room 2", 15)
    page.mouse.click(x, y)
    page.wait_for_selector("#booking-form")
    assert page.input_value("#booking-room") == str(second_room.id)
    assert page.input_value("#booking-start") == "02/12/2026 15:00"
    page.select_option("#booking-service", str(facial.id))
    page.click("details.new-client summary")
    page.fill("#new-first", "Rhea")
    page.fill("#new-last", "Room")
    page.fill("#new-phone", "07911 123457")
    page.click("#booking-form button[type=submit]")

    page.wait_for_selector(".appointment-panel")
    page.wait_for_selector(".ec-event:has-text('Rhea Room')")
    page.screenshot(path=str(SCREENSHOTS / "staff-rooms-booked.png"))
    appointment = Appointment.objects.get(client__phone="+447911123457")
    assert (appointment.room, appointment.start_at) == (second_room, at(15))

    # Dragged across into Room 1 an hour later.
    drag_event(page, "Rhea Room", "Room 1", 16)
    page.wait_for_selector(".appointment-panel .when:has-text('16:')")
    appointment.refresh_from_db()
    assert (appointment.room, appointment.start_at) == (room, at(16))


def test_reception_finds_an_existing_client_and_a_taken_slot_is_shown_inline(
    page, reception, practitioner, consultation_service, location
):
    ada = factories.ClientFactory(first_name="Ada", last_name="Jones", phone="+447911000222")
    busy = services.appointment_book(
        client=factories.ClientFactory(),
        service=consultation_service,
        location=location,
        start_at=at(11),
        practitioner=practitioner,
    )
    sign_in(page, reception.username)
    open_calendar(page)
    x, y = slot_point(page, "Pat Lee", 12)
    page.mouse.click(x, y)
    page.wait_for_selector("#booking-form")
    page.select_option("#booking-service", str(consultation_service.id))
    page.fill("#client-search", "jones")
    page.click(f"button.pick[data-client-id='{ada.id}']")
    # Reception changes the time to one that is already taken.
    page.fill("#booking-start", "02/12/2026 11:00")
    page.click("#booking-form button[type=submit]")
    page.wait_for_selector("[data-error-code=slot_taken]")
    page.screenshot(path=str(SCREENSHOTS / "staff-booking-slot-taken.png"))
    assert Appointment.objects.filter(client=ada).count() == 0
    assert busy.client.full_name in page.content()  # still on the calendar

    # One click on a suggested free time fills the form.
    page.click("button.use-time[data-start='02/12/2026 11:30']")
    assert page.input_value("#booking-start") == "02/12/2026 11:30"
    page.click("#booking-form button[type=submit]")
    page.wait_for_selector(".appointment-panel")
    assert Appointment.objects.get(client=ada).start_at == at(11, 30)


def test_reception_reschedules_by_drag_and_by_the_edit_form(
    page, reception, practitioner, consultation_service, location
):
    appointment = services.appointment_book(
        client=factories.ClientFactory(first_name="Dora", last_name="Drag"),
        service=consultation_service,
        location=location,
        start_at=at(10),
        practitioner=practitioner,
    )
    services.appointment_book(
        client=factories.ClientFactory(first_name="Bea", last_name="Busy"),
        service=consultation_service,
        location=location,
        start_at=at(12),
        practitioner=practitioner,
    )
    sign_in(page, reception.username)
    open_calendar(page)

    def drag_to(hour: int) -> None:
        drag_event(page, "Dora Drag", "Pat Lee", hour)

    # Onto a taken time: refused inline, the appointment snaps back.
    drag_to(12)
    page.wait_for_selector("#calendar-alert:not([hidden])")
    assert "just booked" in page.inner_text("#calendar-alert")
    page.screenshot(path=str(SCREENSHOTS / "staff-drag-refused.png"))
    appointment.refresh_from_db()
    assert appointment.start_at == at(10)

    drag_to(15)
    page.wait_for_selector(".appointment-panel .when:has-text('15:')")
    page.screenshot(path=str(SCREENSHOTS / "staff-after-drag.png"))
    appointment.refresh_from_db()
    assert appointment.local_start.hour == 15
    assert appointment.version == 2

    page.click(".edit-box summary")
    page.fill(f"#move-start-{appointment.id}", "02/12/2026 09:30")
    page.click(".edit-box button[type=submit]")
    page.wait_for_selector(".appointment-panel .when:has-text('09:30')")
    appointment.refresh_from_db()
    assert appointment.start_at == at(9, 30)

    # Moving outside working hours is refused inline, nothing changes.
    page.click(".edit-box summary")
    page.fill(f"#move-start-{appointment.id}", "02/12/2026 19:00")
    page.click(".edit-box button[type=submit]")
    page.wait_for_selector("[data-error-code=slot_unavailable]")
    page.screenshot(path=str(SCREENSHOTS / "staff-move-refused.png"))
    appointment.refresh_from_db()
    assert appointment.start_at == at(9, 30)


def test_a_practitioner_records_an_outcome_that_books_the_pending_treatment(
    page,
    practitioner_user,
    practitioner,
    client_person,
    consultation_service,
    treatment_service,
    location,
    clock,
):
    consultation = services.appointment_book(
        client=client_person,
        service=consultation_service,
        location=location,
        start_at=at(10),
        practitioner=practitioner,
    )
    treatment = services.appointment_book(
        client=client_person,
        service=treatment_service,
        location=location,
        start_at=at(10, day=WEDNESDAY.replace(day=9)),
        practitioner=practitioner,
        awaiting_consultation=consultation,
    )
    assert treatment.status == Appointment.Status.PENDING_CLEARANCE
    # Transactional tests flush the data migrations' rows; the outcome needs a consent form.
    if not ConsentFormVersion.objects.filter(is_current=True).exists():
        ConsentFormVersion.objects.create(version="test-1", text="I consent.", is_current=True)
    # The client's screening answers, as the questionnaire stores them (one flagged).
    Consultation.objects.filter(appointment=consultation).update(
        submitted_at=at(8),
        answers=[
            {
                "key": "pregnant",
                "text": "Are you pregnant or breastfeeding?",
                "answer": "no",
                "flag": "none",
                "version": 1,
                "answer_type": "yes_no",
            },
            {
                "key": "cold_sore_history",
                "text": "Do you get cold sores?",
                "answer": "yes",
                "flag": "relative",
                "version": 1,
                "answer_type": "yes_no",
            },
        ],
        screening_flags=[
            {
                "key": "cold_sore_history",
                "flag": "relative",
                "note": "Cold sore history: antiviral cover",
                "not_before": None,
                "service_ids": [],
            },
        ],
    )
    clock.move_to(at(10, 35))

    sign_in(page, practitioner_user.username)
    page.goto(page.base_url + "/staff/consultations/")
    page.click(f"a[href='/staff/consultations/{consultation.id}/']")
    page.wait_for_selector("#outcome-form")
    assert page.locator("tr[data-flagged=true]").count() == 1
    assert "cold sores" in page.inner_text("tr[data-flagged=true]")
    page.check("input[name=outcome][value=cleared]")
    page.check(f"input[name=services][value='{treatment_service.id}']")
    page.fill("#notes", "Suitable; advised SPF.")
    page.screenshot(path=str(SCREENSHOTS / "staff-consultation-outcome.png"), full_page=True)
    page.click("#outcome-form button[type=submit]")
    page.wait_for_selector("[data-testid=outcome]:has-text('Cleared')")

    treatment.refresh_from_db()
    assert treatment.status == Appointment.Status.BOOKED
    page.goto(f"{page.base_url}/staff/appointments/{treatment.id}/")
    assert page.locator(".appointment-panel").get_attribute("data-status") == "booked"
    page.screenshot(path=str(SCREENSHOTS / "staff-treatment-booked.png"))


def test_changes_from_another_desk_appear_without_a_reload(
    page, reception, practitioner, consultation_service, location
):
    sign_in(page, reception.username)
    page.goto(f"{page.base_url}/staff/?date={WEDNESDAY.isoformat()}&poll=2")
    page.wait_for_selector(".ec-body .ec-day")
    page.evaluate("() => { window.notReloaded = true; }")
    # Someone else books on the phone at another desk.
    services.appointment_book(
        client=factories.ClientFactory(first_name="Otto", last_name="Otherdesk"),
        service=consultation_service,
        location=location,
        start_at=at(16),
        practitioner=practitioner,
    )
    page.wait_for_selector(".ec-event:has-text('Otto Otherdesk')", timeout=8_000)
    assert page.evaluate("() => window.notReloaded") is True


def tab_to(page, selector: str, *, limit: int = 80) -> None:
    """Press Tab until the focused element matches ``selector``, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            "(s) => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_reception_books_a_phone_client_with_the_keyboard_only(
    page, reception, practitioner, consultation_service, location
):
    page.goto(page.base_url + "/staff/login/")
    tab_to(page, "#id_username")
    page.keyboard.type(reception.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/")
    open_calendar(page)

    tab_to(page, "a.new-booking")
    page.keyboard.press("Enter")
    page.wait_for_selector("#booking-form")
    tab_to(page, "#booking-start")
    # A plain text input in the clinic's format (a native one would order its parts by the
    # browser's locale): select what is there and type the time as the hint shows it.
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("02/12/2026 14:00")
    assert page.input_value("#booking-start") == "02/12/2026 14:00"
    tab_to(page, "#booking-practitioner", limit=8)
    page.keyboard.press("ArrowDown")
    tab_to(page, "#booking-service", limit=4)
    page.keyboard.type("Skin")  # type-ahead picks the option
    assert page.input_value("#booking-service") == str(consultation_service.id)
    tab_to(page, "details.new-client summary")
    page.keyboard.press("Enter")
    tab_to(page, "#new-first", limit=3)
    page.keyboard.type("Nia")
    page.keyboard.press("Tab")
    page.keyboard.type("Phone")
    page.keyboard.press("Tab")
    page.keyboard.type("07911 123456")
    tab_to(page, "input[name=sms_consent]", limit=3)
    page.keyboard.press("Space")
    tab_to(page, "#booking-form button[type=submit]", limit=4)
    page.keyboard.press("Enter")

    page.wait_for_selector(".appointment-panel")
    appointment = Appointment.objects.get(client__phone="+447911123456")
    assert appointment.start_at == at(14)
    assert appointment.practitioner == practitioner
    # The new appointment is reachable from the grid with the keyboard too.
    tab_to(page, f".ec-event a[href$='/appointments/{appointment.id}/']")


def test_the_week_shows_one_practitioner_at_a_time_with_a_quick_switcher(
    page, reception, practitioner, colleague, consultation, colleagues_consultation
):
    sign_in(page, reception.username)
    page.goto(f"{page.base_url}/staff/?view=week&date={WEDNESDAY.isoformat()}")
    page.wait_for_selector(".ec-body .ec-day")
    page.wait_for_selector(".ec-event")

    # Seven days of one practitioner, not seven times the whole team.
    assert page.locator(".ec-body .ec-day").count() == 7
    switcher = page.get_by_role("group", name="Whose week")
    assert switcher.is_visible()
    shown = switcher.locator("button[aria-pressed=true]").inner_text()
    other = "Cara Ng" if shown == "Pat Lee" else "Pat Lee"
    pats, caras = consultation.client.first_name, colleagues_consultation.client.first_name
    mine, theirs = (pats, caras) if shown == "Pat Lee" else (caras, pats)
    assert page.locator(f".ec-event:has-text('{mine}')").count() == 1
    assert page.locator(f".ec-event:has-text('{theirs}')").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "staff-week-one-column.png"))

    switcher.get_by_role("button", name=other).click()
    page.wait_for_selector(f".ec-event:has-text('{theirs}')")
    event = page.locator(f".ec-event:has-text('{theirs}')")
    # Time, client and service, whole.
    text = event.inner_text()
    assert ("11:00" if theirs == caras else "10:00") in text
    assert "Skin consultation" in text
    title = event.locator(".event-title")
    assert title.evaluate("el => el.scrollWidth <= el.clientWidth + 1")

    page.get_by_role("button", name="Day", exact=True).click()
    expect(page.locator(".ec-body .ec-day")).to_have_count(2)
    assert not switcher.is_visible()


def test_an_unavailable_time_explains_itself_instead_of_opening_a_booking(
    page, reception, practitioner, location
):
    from datetime import time

    factories.TimeOffFactory(
        practitioner=practitioner, start_at=at(13), end_at=at(14), reason="Training"
    )
    afternoons = factories.PractitionerFactory(display_name="Ana Late")
    afternoons.locations.add(location)
    factories.WorkingHoursFactory(
        practitioner=afternoons,
        location=location,
        weekday=WEDNESDAY.weekday(),
        start_time=time(12),
        end_time=time(17),
    )
    sign_in(page, reception.username)
    open_calendar(page)
    page.wait_for_selector(".ec-bg-event.bg-time_off")

    page.mouse.click(*slot_point(page, "Ana Late", 10))
    alert = page.locator("#calendar-alert")
    alert.wait_for()
    assert "Ana Late is not working" in alert.inner_text()
    assert "10:00" in alert.inner_text()

    page.mouse.click(*slot_point(page, "Pat Lee", 13))
    expect(page.locator("#calendar-alert")).to_contain_text("Training")
    assert page.locator("#booking-form").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "staff-unavailable-explained.png"))


def test_todays_day_view_opens_at_the_current_hour_in_the_clinics_format(
    page, reception, practitioner, location
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    page.clock.set_fixed_time(datetime(2026, 12, 1, 15, 0, tzinfo=ZoneInfo("Europe/London")))
    sign_in(page, reception.username)
    open_calendar(page, TUESDAY)

    # en-GB: day before month ("1 Dec 2026", not "Dec 1, 2026"), 24-hour labels.
    assert page.locator(".ec-toolbar .ec-title").inner_text() == "1 Dec 2026"
    label = page.locator(".ec-body .ec-sidebar time").filter(has_text="14:00").first
    scroller = page.locator(".ec-main")
    box, view = label.bounding_box(), scroller.bounding_box()
    assert view["y"] <= box["y"] <= view["y"] + view["height"]
    assert scroller.evaluate("el => el.scrollTop") > 0


def test_the_today_sheet_prints_without_the_workspace_around_it(
    page, reception, practitioner, consultation
):
    sign_in(page, reception.username)
    page.goto(f"{page.base_url}/staff/today/?practitioner={practitioner.id}&date={WEDNESDAY}")
    assert (
        page.locator("[data-testid=today-arrivals]")
        .inner_text()
        .count(consultation.client.full_name)
        == 1
    )
    page.emulate_media(media="print")
    assert not page.locator(".staff-bar").is_visible()
    assert not page.get_by_role("button", name="Print").is_visible()
    assert page.locator("[data-testid=today-arrivals]").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "staff-today-print.png"), full_page=True)


def test_reception_browses_clients_by_filter_without_searching(
    page, reception, practitioner, consultation, treatment_service, location
):
    waiting = factories.ClientFactory(first_name="Wendy", last_name="Waiting")
    factories.AppointmentFactory(
        client=waiting,
        service=treatment_service,
        practitioner=practitioner,
        location=location,
        start_at=at(14),
        status=Appointment.Status.PENDING_CLEARANCE,
    )
    sign_in(page, reception.username)
    page.goto(page.base_url + "/staff/clients/")
    rows = page.locator("#client-rows")
    assert consultation.client.full_name in rows.inner_text()
    assert "Wendy Waiting" in rows.inner_text()

    page.select_option("#client-show", "pending_clearance")
    expect(page.locator("#client-rows")).not_to_contain_text(consultation.client.full_name)
    assert "Wendy Waiting" in rows.inner_text()
    assert "show=pending_clearance" in page.url
    page.screenshot(path=str(SCREENSHOTS / "staff-clients-filtered.png"))


def test_a_practitioner_adds_a_clinical_alert_that_reception_sees_only_as_ask_a_practitioner(
    page, reception, practitioner_user, practitioner, consultation
):
    sign_in(page, practitioner_user.username)
    page.goto(f"{page.base_url}/staff/clients/{consultation.client.id}/")
    page.get_by_role("link", name="Edit details").click()
    page.get_by_label(re.compile("^Clinical alert")).fill("Allergic to lidocaine")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Details saved.")
    assert "Allergic to lidocaine" in page.locator(".client-alert").inner_text()

    open_calendar(page)
    page.locator(f".ec-event:has-text('{consultation.client.first_name}')").click()
    page.wait_for_selector("[data-testid=client-alert]")
    assert "Allergic to lidocaine" in page.locator("#panel [data-testid=client-alert]").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "staff-panel-alert.png"))

    page.context.clear_cookies()
    sign_in(page, reception.username)
    open_calendar(page)
    page.locator(f".ec-event:has-text('{consultation.client.first_name}')").click()
    alert = page.locator("#panel [data-testid=client-alert]")
    expect(alert).to_have_text("Has a clinical alert — ask a practitioner.")
    page.screenshot(path=str(SCREENSHOTS / "staff-panel-alert-reception.png"))


def test_reception_records_a_walk_in_that_already_happened(
    page, reception, practitioner, treatment_service, location
):
    sign_in(page, reception.username)
    open_calendar(page)
    page.get_by_role("link", name="New booking").click()
    page.wait_for_selector("#booking-form")
    page.fill("#booking-start", "30/11/2026 11:00")
    page.select_option("#booking-practitioner", str(practitioner.id))
    page.select_option("#booking-service", str(treatment_service.id))
    page.click("details.new-client summary")
    page.fill("#new-first", "Wanda")
    page.fill("#new-last", "Walkin")
    page.fill("#new-phone", "07911 123458")
    page.click("details.past-visit summary")
    page.fill("#booking-past-reason", "Walk-in, not entered at the time")
    page.click("#booking-form button[type=submit]")

    page.wait_for_selector(".appointment-panel[data-status=completed]")
    visit = Appointment.objects.get(client__phone="+447911123458")
    assert visit.status == Appointment.Status.COMPLETED
    assert "Walk-in, not entered at the time" in page.locator(".appointment-panel").inner_text()


def test_reception_merges_a_client_who_booked_twice(page, reception, practitioner, consultation):
    maya = consultation.client
    twin = factories.ClientFactory(
        first_name=maya.first_name, last_name=maya.last_name, phone="+447911123999"
    )
    sign_in(page, reception.username)
    page.goto(f"{page.base_url}/staff/clients/{maya.id}/")
    page.get_by_role("link", name="Merge a duplicate").click()
    page.locator(f"#duplicate-{twin.id}").check()
    page.get_by_label("Why these are the same person").fill("Booked twice, confirmed by phone")
    page.get_by_role("button", name="Merge").click()
    page.wait_for_selector("text=Merged")
    assert not Client.objects.filter(pk=twin.pk).exists()
    assert (
        "Booked twice, confirmed by phone"
        in page.locator("[data-testid=client-changes]").inner_text()
    )


def test_a_manager_rewords_a_reminder_with_a_live_segment_count(page, manager, location):
    from reminders.models import ReminderRule

    rule = ReminderRule.objects.filter(category="day_before").first()
    sign_in(page, manager.username)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Reminder texts").click()
    page.get_by_role("link", name=f"Edit {rule.name}").click()
    # htmx wires the live preview once the page has loaded.
    page.wait_for_load_state()
    page.fill("#rule-template", "Hi {{ first_name }}, see you tomorrow 😊")
    expect(page.locator("[data-testid=segment-count]")).to_contain_text("UCS-2")
    assert "Hi Alexandra, see you tomorrow" in page.locator(".sms-bubble").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "staff-reminder-edit.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Saved")
    rule.refresh_from_db()
    assert rule.template == "Hi {{ first_name }}, see you tomorrow 😊"


def test_dates_and_times_follow_the_clinic_not_a_us_browser_and_round_trip(
    page, reception, practitioner, consultation
):
    """A London clinic on a laptop set to US English: every date and time input reads
    dd/mm/yyyy and 24-hour, and what is typed that way is what gets saved."""
    us_desk = page.context.browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="America/New_York"
    )
    tab = us_desk.new_page()
    tab.set_default_timeout(10_000)
    tab.base_url = page.base_url
    sign_in(tab, reception.username)

    tab.goto(f"{tab.base_url}/staff/appointments/{consultation.id}/")
    tab.click(".edit-box summary")
    start = tab.get_by_label("New start (Europe/London)")
    expect(start).to_have_value("02/12/2026 10:00")
    expect(tab.locator(f"#move-start-{consultation.id}-hint")).to_contain_text("dd/mm/yyyy hh:mm")
    tab.screenshot(path=str(SCREENSHOTS / "staff-en-gb-inputs-on-a-us-browser.png"))
    start.fill("02/12/2026 15:30")
    tab.click(".edit-box button[type=submit]")
    expect(tab.locator(".appointment-panel .when")).to_contain_text("15:30")
    consultation.refresh_from_db()
    assert consultation.start_at == at(15, 30)

    tab.goto(f"{tab.base_url}/staff/clients/{consultation.client.id}/edit/")
    birthday = tab.get_by_label("Date of birth")
    birthday.fill("03/04/1990")
    tab.get_by_role("button", name="Save").click()
    expect(tab.get_by_text("Details saved.")).to_be_visible()
    consultation.client.refresh_from_db()
    assert consultation.client.date_of_birth.isoformat() == "1990-04-03"
    tab.goto(f"{tab.base_url}/staff/clients/{consultation.client.id}/edit/")
    expect(tab.get_by_label("Date of birth")).to_have_value("03/04/1990")

    tab.goto(f"{tab.base_url}/staff/outbox/?from=2026-11-01&to=2026-11-30")
    expect(tab.get_by_label("From")).to_have_value("01/11/2026")
    # The pattern is one the browser compiles (an invalid one is silently ignored).
    tab.get_by_label("to", exact=True).fill("15-11")
    expect(tab.locator("#to:invalid")).to_have_count(1)
    tab.get_by_label("to", exact=True).fill("15/11/2026")
    expect(tab.locator("#to:valid")).to_have_count(1)
    tab.get_by_role("button", name="Show").click()
    expect(tab).to_have_url(re.compile("to=15%2F11%2F2026"))
    expect(tab.get_by_label("to", exact=True)).to_have_value("15/11/2026")
    us_desk.close()
