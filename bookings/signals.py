"""Domain events sent by bookings.services after a change is written (inside the transaction).

Receivers (e.g. ``reminders.receivers``) run in the same transaction, so whatever they plan is
committed or rolled back together with the change. Every signal is sent with
``appointment=<Appointment>`` and ``actor_label=<str>``; extra arguments are listed per signal.
"""

from __future__ import annotations

from django.dispatch import Signal

appointment_held = Signal()  # a slot is held while the client completes the booking
# Status became booked (new booking, confirmed hold, or cleared tentative). From
# ``appointment_book`` also ``created=<bool>``: True when the booking inserted the row just now
# (not a hold it took over), so nothing else (a message, a waitlist offer) can refer to it yet.
appointment_booked = Signal()
appointment_pending_clearance = (
    Signal()
)  # tentative treatment waiting for its consultation; + created
appointment_rescheduled = (
    Signal()
)  # + previous_start_at, previous_version, previous_practitioner_id
appointment_cancelled = Signal()  # + reason
appointment_confirmed = Signal()  # client or staff confirmed attendance
appointment_arrived = Signal()
appointment_completed = Signal()
appointment_no_show = Signal()
# A no-show recorded by mistake was put back to arrived (the client came late), same day.
appointment_no_show_reverted = Signal()

# A client asked for a one-time code to prove their phone: phone=<E.164>, code=<str>,
# location=<Location or None>. reminders sends it at once through the outbox.
phone_verification_requested = Signal()

# The service-wide hourly budget of verification texts is spent (often SMS pumping): codes are
# refused for everyone until it frees up. Sent with budget=<int>, window_started_at=<datetime>,
# inside a transaction that commits even though the request is refused.
verification_budget_exhausted = Signal()

# Before a later session the client said their health has changed: the appointment is in review
# and the practitioner should be alerted. Sent with appointment=, actor_label= (no health detail).
health_recheck_changed = Signal()

# The client submitted the health questionnaire of a consultation: appointment=<the
# consultation appointment>. No answers travel with it.
consultation_screening_submitted = Signal()

# A practitioner recorded a consultation's outcome: appointment=<the consultation appointment>,
# outcome=<"cleared" | "not_suitable" | "needs_review">, service_names=<names cleared for>.
consultation_outcome_recorded = Signal()

# Staff merged a duplicate client into another: keep=<Client>, duplicate=<Client> (still in the
# database until the receivers have moved what points at it; deleted right after).
clients_merged = Signal()
# Data-protection rights (bookings.services.data_protection). Receivers in other apps add what
# they hold about a client: ``client_data_collect`` (client=) returns a dict of sections for
# the export; ``client_erasing`` (client=) anonymises their rows in the erasing transaction.
client_data_collect = Signal()
client_erasing = Signal()
# The retention period of an erased client's clinical records ended (client=): receivers delete
# the clinical content they hold, inside the retention job's transaction, and return how many
# records they purged (an int).
client_clinical_purging = Signal()
# The client asked online for a copy of their data: client=, request_id=, link_token= (the token
# of the 24-hour link to their download page, ``site-data-export``). Managers are alerted and the
# link is texted to the client; no health data travels with it.
client_data_requested = Signal()
# The client's manage page is being shown: client=. Receivers in other apps return a list of
# ``(template_name, context)`` panels to show on it (the waitlist lists the client's entries).
client_manage_panels = Signal()
# A manager's settings change made time bookable that was not (weekly hours widened or added,
# time off or a closure removed): practitioner=<Practitioner>, location=<Location>,
# windows=<list of (start_at, end_at) aware datetimes, only the newly open time, within
# OPENED_TIME_HORIZON days>, reason=<"hours" | "time_off_removed">. No appointment= (none is
# involved). Sent inside the settings transaction; the waitlist offers the windows on commit.
bookable_time_opened = Signal()
