"""Freed times and the offers made from them.

A freed time is recorded once per event that freed it (``FreedTime.source_key`` is unique) and
processed by a task after commit. Processing locks the freed time's row, so at most one worker
decides its next offer; it then picks the first waiting client who could book that time **as of
that time** (``entry_refusal``: SMS allowed, no other live offer, under the daily text cap,
``bookings.eligibility.check``, not busy then, and the service fits the practitioner's free
time) and holds the time for them with the booking engine's own hold, so the no-overlap
constraint protects the offer. Claiming books that hold through ``appointment_book``: every
booking invariant still holds.

Limits (``WaitlistSettings``, DOMAIN.md defaults): ``max_offers_per_freed_time`` offers in
sequence, one live offer per client (also a partial unique index), none in quiet hours (the
freed time waits until they end if it is still far enough ahead), none within
``min_notice_minutes`` of the start, ``max_offers_per_day`` a local day per location.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Q, TextChoices
from django.urls import reverse
from django.utils import timezone

from bookings import checkout, courses, eligibility
from bookings.availability import slot_at
from bookings.models import Appointment
from bookings.services import appointment_book, appointment_hold
from bookings.services.appointments import alternatives_near, client_is_busy
from bookings.services.transitions import set_status
from clinic.errors import NotFound, SlotTaken, SlotUnavailable, ValidationFailed
from clinic.models import Location, Practitioner, WorkingHours
from reminders.dispatch.claim import reminder_cap_reached
from reminders.quiet_hours import quiet_hours_end_after
from reminders.selectors import sms_blocked_reason
from reminders.services import message_plan_waitlist_offer
from waitlist.errors import OfferTaken, PaymentRequired
from waitlist.models import (
    FreedTime,
    PartOfDay,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistSettings,
    WaitlistWindow,
)
from waitlist.tokens import offer_id_from_token, offer_token_for

logger = logging.getLogger(__name__)

OfferStatus = WaitlistOffer.Status
FreedStatus = FreedTime.Status
EntryStatus = WaitlistEntry.Status
HeldStatus = Appointment.Status

# The hold outlives its offer a little, so the periodic hold release never frees the time
# between one offer expiring and the next one being made (the offer's own expiry is what a
# claim checks).
HOLD_GRACE = timedelta(minutes=5)
LIVE_FREED_STATUSES = (FreedStatus.OPEN, FreedStatus.OFFERING)


class SkipReason(TextChoices):
    """Why a waiting client was passed over for a freed time (shown to staff, never texted)."""

    NO_SMS = "no_sms", "Texts not allowed (no consent or opted out)"
    LIVE_OFFER = "live_offer", "Already has a live offer"
    SMS_CAP = "sms_cap", "Daily text limit reached"
    NOT_ELIGIBLE = "not_eligible", "Could not book it then (clearance, course spacing)"
    CLIENT_BUSY = "client_busy", "Has another appointment then"
    DOES_NOT_FIT = "does_not_fit", "The service does not fit that free time"


def settings_for(location: Location) -> WaitlistSettings:
    """The location's waitlist settings, or the defaults (an unsaved row) when it has none."""
    found = WaitlistSettings.objects.filter(location=location).first()
    return found if found is not None else WaitlistSettings(location=location)


def freed_time_record(
    *,
    location: Location,
    practitioner: Practitioner,
    start_at: datetime,
    source: str,
    source_key: str,
    source_appointment: Appointment | None = None,
    now: datetime | None = None,
) -> FreedTime | None:
    """Record that ``start_at`` with ``practitioner`` became free and look for a client after
    commit. Idempotent on ``source_key``: the same event announced twice is one freed time.
    Returns None for a time already started or a location whose waitlist is off."""
    now = now or timezone.now()
    if start_at <= now or not settings_for(location).is_enabled:
        return None
    freed, created = FreedTime.objects.get_or_create(
        source_key=source_key[:120],
        defaults={
            "location": location,
            "practitioner": practitioner,
            "start_at": start_at,
            "source": source,
            "source_appointment": source_appointment,
            "created_at": now,
            "next_attempt_at": now,
        },
    )
    if created:
        _process_on_commit(freed.pk)
    return freed if created else None


def waitlist_offer_freed_window(
    *,
    location: Location,
    practitioner: Practitioner,
    start_at: datetime,
    end_at: datetime,
    now: datetime | None = None,
) -> list[FreedTime]:
    """New working hours (or time off removed) opened ``start_at``–``end_at`` for
    ``practitioner``: record each quarter-hour start in it for which someone is waiting (that
    date and part of day) as a freed time, so it is offered to them. Called when weekly hours
    are added (``waitlist_offer_new_hours``); the clinic-settings pages may call it for any
    window they open."""
    if end_at <= start_at:
        raise ValidationFailed("The window must end after it starts.", field="end_at")
    zone = location.zone
    first_on, last_on = start_at.astimezone(zone).date(), end_at.astimezone(zone).date()
    wanted = set(
        WaitlistWindow.objects.filter(
            Q(entry__practitioner__isnull=True) | Q(entry__practitioner=practitioner),
            entry__location=location,
            entry__status=EntryStatus.WAITING,
            on__gte=first_on,
            on__lte=last_on,
        ).values_list("on", "part")
    )
    step = timedelta(minutes=15)
    recorded: list[FreedTime] = []
    moment = start_at.astimezone(UTC)
    while moment < end_at and wanted:
        local = moment.astimezone(zone)
        if (local.date(), PartOfDay.of(local.time())) in wanted:
            freed = freed_time_record(
                location=location,
                practitioner=practitioner,
                start_at=moment,
                source=FreedTime.Source.HOURS_ADDED,
                source_key=f"hours:{practitioner.pk}:{moment.isoformat()}",
                now=now,
            )
            if freed is not None:
                recorded.append(freed)
        moment += step
    return recorded


def waitlist_offer_new_hours(
    *, hours: WorkingHours, days: int = 14, now: datetime | None = None
) -> list[FreedTime]:
    """Weekly working hours were added: each of the next ``days`` days they cover opens a
    window (``waitlist_offer_freed_window``) for the clients waiting then."""
    now = now or timezone.now()
    zone = hours.location.zone
    today = now.astimezone(zone).date()
    recorded: list[FreedTime] = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        if day.weekday() != hours.weekday:
            continue
        if (hours.valid_from and day < hours.valid_from) or (
            hours.valid_until and day > hours.valid_until
        ):
            continue
        recorded += waitlist_offer_freed_window(
            location=hours.location,
            practitioner=hours.practitioner,
            start_at=datetime.combine(day, hours.start_time, tzinfo=zone),
            end_at=datetime.combine(day, hours.end_time, tzinfo=zone),
            now=now,
        )
    return recorded


def _process_on_commit(freed_time_id: int, *, eta: datetime | None = None) -> None:
    def _enqueue() -> None:
        from waitlist.tasks import freed_time_process_task

        try:
            if eta is None:
                freed_time_process_task.delay(freed_time_id)
            else:
                freed_time_process_task.apply_async(args=(freed_time_id,), eta=eta)
        except Exception:  # noqa: BLE001 - any broker error; the sweep is the safety net
            logger.warning("waitlist task enqueue failed; the sweep will process it", exc_info=True)

    transaction.on_commit(_enqueue)


def candidate_entries(*, freed_time: FreedTime) -> list[WaitlistEntry]:
    """Waiting entries whose location, practitioner, date and part of day match the freed time,
    in offer order: earliest joined first (with the location's option, clients whose course is
    under way first). Eligibility is not checked here: see ``entry_refusal``."""
    local = freed_time.start_at.astimezone(freed_time.location.zone)
    entries = (
        WaitlistEntry.objects.filter(
            Q(practitioner__isnull=True) | Q(practitioner=freed_time.practitioner),
            location=freed_time.location,
            status=EntryStatus.WAITING,
            expires_on__gte=local.date(),
            windows__on=local.date(),
            windows__part=PartOfDay.of(local.time()),
        )
        .exclude(offers__freed_time=freed_time)
        .select_related("client", "service", "location")
        .distinct()
    )
    ordered = sorted(entries, key=lambda entry: (entry.joined_at, entry.pk))
    if settings_for(freed_time.location).course_sessions_first:
        ordered.sort(
            key=lambda entry: (
                not courses.course_sessions(
                    client_id=entry.client_id, service_id=entry.service_id
                ).exists()
            )
        )
    return ordered


def entry_refusal(
    *, entry: WaitlistEntry, freed_time: FreedTime, now: datetime, ignore_hold_id: int | None
) -> SkipReason | None:
    """Why ``entry``'s client may not be offered the freed time now, or None when they may.
    The booking rules are the booking engine's own: ``eligibility.check`` (clearance valid on
    the date, course spacing, not_before), ``client_is_busy`` and the availability engine."""
    client = entry.client
    if sms_blocked_reason(client):
        return SkipReason.NO_SMS
    if WaitlistOffer.objects.filter(client=client, status=OfferStatus.OFFERED).exists():
        return SkipReason.LIVE_OFFER
    if reminder_cap_reached(client_id=client.pk, zone=freed_time.location.zone, now=now):
        return SkipReason.SMS_CAP
    start_at = freed_time.start_at
    if not eligibility.check(client=client, service=entry.service, start_at=start_at).allowed:
        return SkipReason.NOT_ELIGIBLE
    if client_is_busy(client=client, start_at=start_at, end_at=start_at + entry.service.duration):
        return SkipReason.CLIENT_BUSY
    slot = slot_at(
        service=entry.service,
        location=freed_time.location,
        start_at=start_at,
        practitioner=freed_time.practitioner,
        now=now,
        ignore_appointment_id=ignore_hold_id,
    )
    if slot is None:
        return SkipReason.DOES_NOT_FIT
    return None


def _offers_today(*, location: Location, now: datetime) -> int:
    zone = location.zone
    local_date = now.astimezone(zone).date()
    day_start = datetime.combine(local_date, datetime.min.time(), tzinfo=zone)
    return WaitlistOffer.objects.filter(
        freed_time__location=location,
        offered_at__gte=day_start,
        offered_at__lt=day_start + timedelta(days=1),
    ).count()


def _next_sending_day(*, location: Location, now: datetime) -> datetime:
    zone = location.zone
    next_date = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(next_date, django_settings.QUIET_HOURS[1], tzinfo=zone).astimezone(UTC)


def _release_hold(freed_time: FreedTime, *, reason: str) -> None:
    hold_id = freed_time.hold_id
    if hold_id is None:
        return
    hold = Appointment.objects.select_for_update().filter(pk=hold_id).first()
    if hold is not None and hold.status == HeldStatus.HELD:
        set_status(hold, HeldStatus.CANCELLED, actor=None, label="system", reason=reason)
    freed_time.hold = None


def _finish(freed_time: FreedTime, status: str, reason: str) -> None:
    _release_hold(freed_time, reason="waitlist offers ended")
    freed_time.status = status
    freed_time.status_reason = reason[:200]
    freed_time.next_attempt_at = None
    freed_time.save(
        update_fields=["status", "status_reason", "next_attempt_at", "hold", "updated_at"]
    )


def _wait_until(freed_time: FreedTime, moment: datetime, reason: str) -> None:
    _release_hold(freed_time, reason="waitlist offer waits for the morning")
    freed_time.status = FreedStatus.OPEN
    freed_time.status_reason = reason[:200]
    freed_time.next_attempt_at = moment
    freed_time.save(
        update_fields=["status", "status_reason", "next_attempt_at", "hold", "updated_at"]
    )
    _process_on_commit(freed_time.pk, eta=moment)


def _hold_time(
    *, freed_time: FreedTime, entry: WaitlistEntry, until: datetime, now: datetime
) -> Appointment | None:
    """Keep the freed time held until ``until`` for ``entry``'s service: the hold already made
    for an earlier offer when it is for the same service, else a new one. None when the time
    is no longer free."""
    current = None
    if freed_time.hold_id is not None:
        current = Appointment.objects.select_for_update().filter(pk=freed_time.hold_id).first()
    if current is not None and current.status == HeldStatus.HELD:
        # A hold a client went to pay for stays theirs: never handed to the next client.
        paying = WaitlistOffer.objects.filter(hold=current, checkout_started_at__isnull=False)
        if current.service_id == entry.service_id and not paying.exists():
            current.hold_expires_at = until + HOLD_GRACE
            current.save(update_fields=["hold_expires_at", "updated_at"])
            return current
        _release_hold(
            freed_time,
            reason="waitlist offer for another client (payment not made)"
            if paying.exists()
            else "waitlist offer for another service",
        )
    try:
        hold = appointment_hold(
            service=entry.service,
            location=freed_time.location,
            start_at=freed_time.start_at,
            practitioner=freed_time.practitioner,
            phone_proven=True,
            now=now,
        )
    except (SlotTaken, SlotUnavailable, ValidationFailed):
        return None
    hold.hold_expires_at = until + HOLD_GRACE
    hold.save(update_fields=["hold_expires_at", "updated_at"])
    freed_time.hold = hold
    return hold


def _expire_live_offer(freed_time: FreedTime, *, now: datetime) -> bool:
    """Expire the freed time's live offer if its time is up. False while one is still live."""
    live = freed_time.offers.select_for_update().filter(status=OfferStatus.OFFERED).first()
    if live is None:
        return True
    if live.expires_at > now:
        return False
    live.status = OfferStatus.EXPIRED
    live.resolved_at = now
    live.save(update_fields=["status", "resolved_at"])
    WaitlistEntry.objects.filter(pk=live.entry_id, status=EntryStatus.OFFERED).update(
        status=EntryStatus.WAITING
    )
    return True


def freed_time_process(*, freed_time_id: int, now: datetime | None = None) -> WaitlistOffer | None:
    """Make the freed time's next offer, if it is still looking and no offer is live: expire a
    live offer whose time is up, then offer to the first eligible waiting client, or close the
    freed time (too late, no more clients, the limit reached, taken). Idempotent: run it as
    often as you like (the task after commit, its ETA at an offer's expiry, the sweep)."""
    now = now or timezone.now()
    with transaction.atomic():
        freed = (
            FreedTime.objects.select_for_update()
            .select_related("location", "practitioner")
            .filter(pk=freed_time_id)
            .first()
        )
        if freed is None or freed.status not in LIVE_FREED_STATUSES:
            return None
        if not _expire_live_offer(freed, now=now):
            return None
        return _offer_next(freed, now=now)


def _offer_next(freed: FreedTime, *, now: datetime) -> WaitlistOffer | None:
    location = freed.location
    config = settings_for(location)
    notice = timedelta(minutes=config.min_notice_minutes)
    if not config.is_enabled:
        _finish(freed, FreedStatus.EXHAUSTED, "The waitlist is off at this location")
        return None
    if freed.start_at - now < notice:
        _finish(freed, FreedStatus.TOO_LATE, "Too close to the start to offer")
        return None
    sequence = freed.offers.count() + 1
    if sequence > config.max_offers_per_freed_time:
        _finish(freed, FreedStatus.EXHAUSTED, "Offered as many times as allowed")
        return None
    quiet_end = quiet_hours_end_after(moment=now, zone=location.zone)
    if quiet_end is not None:
        if freed.start_at - quiet_end < notice:
            _finish(freed, FreedStatus.TOO_LATE, "Quiet hours last until too close to the start")
        else:
            _wait_until(freed, quiet_end, "Waiting for quiet hours to end")
        return None
    if _offers_today(location=location, now=now) >= config.max_offers_per_day:
        tomorrow = _next_sending_day(location=location, now=now)
        if freed.start_at - tomorrow < notice:
            _finish(freed, FreedStatus.EXHAUSTED, "The location's daily offer limit is reached")
        else:
            _wait_until(freed, tomorrow, "The location's daily offer limit is reached")
        return None
    chosen = None
    for entry in candidate_entries(freed_time=freed):
        if entry_refusal(entry=entry, freed_time=freed, now=now, ignore_hold_id=freed.hold_id):
            continue
        chosen = entry
        break
    if chosen is None:
        _finish(freed, FreedStatus.EXHAUSTED, "No (more) waiting clients can take it")
        return None
    expires_at = now + timedelta(minutes=config.hold_minutes)
    hold = _hold_time(freed_time=freed, entry=chosen, until=expires_at, now=now)
    if hold is None:
        _finish(freed, FreedStatus.TAKEN, "The time is no longer free")
        return None
    offer = WaitlistOffer.objects.create(
        freed_time=freed,
        entry=chosen,
        client=chosen.client,
        sequence=sequence,
        hold=hold,
        offered_at=now,
        expires_at=expires_at,
    )
    offer.message = message_plan_waitlist_offer(
        client=chosen.client,
        location=location,
        start_at=freed.start_at,
        claim_path=reverse("waitlist-claim", args=[offer_token_for(offer.pk)]),
        hold_minutes=config.hold_minutes,
        now=now,
    )
    offer.save(update_fields=["message"])
    chosen.status = EntryStatus.OFFERED
    chosen.save(update_fields=["status"])
    freed.status = FreedStatus.OFFERING
    freed.status_reason = ""
    freed.next_attempt_at = expires_at
    freed.save(update_fields=["status", "status_reason", "next_attempt_at", "hold", "updated_at"])
    _process_on_commit(freed.pk, eta=expires_at)
    logger.info(
        "waitlist offer made",
        extra={"freed_time_id": freed.pk, "offer_id": offer.pk, "sequence": sequence},
    )
    return offer


def offer_from_token(token: str) -> WaitlistOffer:
    """The offer a claim link names (any status). Raises NotFound."""
    offer = (
        WaitlistOffer.objects.select_related(
            "freed_time__location", "freed_time__practitioner", "entry__service", "client"
        )
        .filter(pk=offer_id_from_token(token))
        .first()
    )
    if offer is None:
        raise NotFound("This link is not valid. Please use the link from your text.")
    return offer


def offer_is_claimable(offer: WaitlistOffer, *, now: datetime | None = None) -> bool:
    return offer.status == OfferStatus.OFFERED and offer.expires_at > (now or timezone.now())


def offer_taken_error(offer: WaitlistOffer) -> OfferTaken:
    """The friendly refusal for an offer that can no longer be claimed, with alternatives."""
    freed = offer.freed_time
    return OfferTaken(
        "Sorry, that time has just been taken or is no longer held for you. "
        "Here are the nearest free times.",
        field="offer",
        extra={
            "alternatives": alternatives_near(
                service=offer.entry.service,
                location=freed.location,
                around=freed.start_at,
                practitioner=None,
            )
        },
    )


def offer_claim(*, token: str, now: datetime | None = None) -> Appointment:
    """Book the offered time for the offer's client through ``appointment_book`` (with the
    offer's hold: every booking invariant applies). Claiming an offer already claimed returns
    its booking. When a step must come first (``bookings.checkout``: the service takes a
    deposit), nothing is booked: the offer lasts as long as the hold the step extended, the
    hold stays this client's, and PaymentRequired carries the step's ``payment_url``; the
    payment books the hold (``offer_hold_booked`` then marks the offer claimed). Raises
    NotFound, OfferTaken (410, with ``alternatives``) once the offer expired, was declined or
    the time went to someone else, and whatever booking raises."""
    now = now or timezone.now()
    offer = offer_from_token(token)
    if offer.status == OfferStatus.CLAIMED and offer.appointment is not None:
        return offer.appointment
    with transaction.atomic():
        # Same lock order as freed_time_process: the freed time, then its offers.
        freed = FreedTime.objects.select_for_update().get(pk=offer.freed_time_id)
        locked = WaitlistOffer.objects.select_for_update().get(pk=offer.pk)
        if not offer_is_claimable(locked, now=now) or locked.hold_id is None:
            raise offer_taken_error(offer)
        entry = offer.entry
        hold = Appointment.objects.select_related("service", "location").get(pk=locked.hold_id)
        step = checkout.step_before_booking(hold=hold, client=offer.client)
        if step:
            hold.refresh_from_db(fields=["hold_expires_at"])
            until = max(locked.expires_at, hold.hold_expires_at or locked.expires_at)
            locked.expires_at = until
            locked.checkout_started_at = locked.checkout_started_at or now
            locked.save(update_fields=["expires_at", "checkout_started_at"])
            freed.next_attempt_at = until
            freed.save(update_fields=["next_attempt_at", "updated_at"])
            _process_on_commit(freed.pk, eta=until)
    if step:
        logger.info("waitlist offer claimed, payment first", extra={"offer_id": offer.pk})
        raise PaymentRequired(
            "This time needs a deposit to book it. Pay it now to book it.",
            field="payment",
            extra={"payment_url": step, "held_until": until.isoformat()},
        )
    with transaction.atomic():
        freed = FreedTime.objects.select_for_update().get(pk=offer.freed_time_id)
        locked = WaitlistOffer.objects.select_for_update().get(pk=offer.pk)
        if not offer_is_claimable(locked, now=now) or locked.hold_id is None:
            raise offer_taken_error(offer)
        appointment = appointment_book(
            client=offer.client,
            service=entry.service,
            location=freed.location,
            start_at=freed.start_at,
            hold=locked.hold,
            channel=Appointment.Channel.ONLINE,
        )
        # appointment_booked: offer_hold_booked (waitlist.receivers) marked it claimed.
        _mark_claimed(freed, locked, appointment=appointment, now=now)
    logger.info("waitlist offer claimed", extra={"offer_id": offer.pk})
    return appointment


def _mark_claimed(
    freed: FreedTime, offer: WaitlistOffer, *, appointment: Appointment, now: datetime
) -> None:
    offer.refresh_from_db(fields=["status", "appointment"])
    if offer.status == OfferStatus.CLAIMED:
        return
    offer.status = OfferStatus.CLAIMED
    offer.appointment = appointment
    offer.resolved_at = now
    offer.save(update_fields=["status", "appointment", "resolved_at"])
    entry = offer.entry
    WaitlistEntry.objects.filter(pk=entry.pk).update(
        status=EntryStatus.BOOKED, booked_appointment=appointment
    )
    freed.status = FreedStatus.CLAIMED
    freed.status_reason = ""
    freed.claimed_appointment = appointment
    freed.hold = None
    freed.next_attempt_at = None
    freed.recovered_minor = int(entry.service.price * Decimal(100))
    freed.save()


def offer_hold_booked(*, appointment: Appointment, now: datetime | None = None) -> None:
    """``appointment`` (an offer's hold) became a booking: the offer is claimed. This is how a
    claim that went to the deposit step ends: the payment books the hold."""
    now = now or timezone.now()
    offer = WaitlistOffer.objects.filter(hold=appointment, status=OfferStatus.OFFERED).first()
    if offer is None or appointment.client_id != offer.client_id:
        return
    freed = FreedTime.objects.select_for_update().get(pk=offer.freed_time_id)
    locked = (
        WaitlistOffer.objects.select_for_update().select_related("entry__service").get(pk=offer.pk)
    )
    _mark_claimed(freed, locked, appointment=appointment, now=now)
    logger.info("waitlist offer claimed", extra={"offer_id": offer.pk})


def offer_decline(*, token: str, now: datetime | None = None) -> WaitlistOffer:
    """The client said no to this time: the next eligible client is offered it at once. The
    entry keeps waiting for other times. Raises NotFound, OfferTaken."""
    now = now or timezone.now()
    offer = offer_from_token(token)
    with transaction.atomic():
        FreedTime.objects.select_for_update().get(pk=offer.freed_time_id)
        locked = WaitlistOffer.objects.select_for_update().get(pk=offer.pk)
        if not offer_is_claimable(locked, now=now):
            raise offer_taken_error(offer)
        locked.status = OfferStatus.DECLINED
        locked.resolved_at = now
        locked.save(update_fields=["status", "resolved_at"])
        WaitlistEntry.objects.filter(pk=locked.entry_id, status=EntryStatus.OFFERED).update(
            status=EntryStatus.WAITING
        )
        _process_on_commit(offer.freed_time_id)
    return locked


def offer_supersede_for_entry(*, entry: WaitlistEntry, now: datetime) -> None:
    """The entry left the waitlist while offered a time: withdraw the offer and move on."""
    for live in WaitlistOffer.objects.select_for_update().filter(
        entry=entry, status=OfferStatus.OFFERED
    ):
        live.status = OfferStatus.SUPERSEDED
        live.resolved_at = now
        live.save(update_fields=["status", "resolved_at"])
        _process_on_commit(live.freed_time_id)


def offers_sweep(*, now: datetime | None = None) -> int:
    """Process every freed time whose live offer has expired or whose wait is over (the ETA
    tasks may be lost with a flushed broker; this sweep is the guarantee). Returns how many
    freed times it looked at."""
    now = now or timezone.now()
    due = set(
        WaitlistOffer.objects.filter(status=OfferStatus.OFFERED, expires_at__lte=now).values_list(
            "freed_time_id", flat=True
        )
    )
    due |= set(
        FreedTime.objects.filter(status=FreedStatus.OPEN, next_attempt_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    for freed_time_id in sorted(due):
        freed_time_process(freed_time_id=freed_time_id, now=now)
    return len(due)
