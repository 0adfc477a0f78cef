"""The default micro-needling protocol (DOMAIN.md), as data.

``DEFAULT_RULES`` is what the first data migration (0002) inserts; clinics then edit the rows in
the admin. Later defaults (catch-up messages, revised copy) are written out in their own
migrations, so that each migration keeps meaning what it meant.
The full care instructions behind the signed care link are ``clinic.care.CARE_INSTRUCTIONS``:
the SMS itself only carries generic advice (privacy by default).
"""

from __future__ import annotations

from datetime import time

DAY = 24 * 60
HOUR = 60

DEFAULT_RULES: list[dict[str, object]] = [
    {
        "name": "Booking confirmation",
        "category": "confirmation",
        "trigger": "booked",
        "service_kinds": [],
        "anchor": "booked",
        "offset_minutes": 0,
        "priority": 100,
        "stale_after_minutes": None,
        "template": (
            "Hi {{ first_name }}, you're booked at {{ clinic_name }} on {{ date }} at {{ time }}. "
            "Reply C to confirm. Change or cancel: {{ manage_url }}"
        ),
    },
    {
        "name": "Tentative booking confirmation",
        "category": "confirmation",
        "trigger": "pending_clearance",
        "service_kinds": [],
        "anchor": "booked",
        "offset_minutes": 0,
        "priority": 100,
        "stale_after_minutes": None,
        "template": (
            "Hi {{ first_name }}, {{ clinic_name }} is holding {{ date }} at {{ time }} for you "
            "until your consultation. We'll text you when it's confirmed. {{ manage_url }}"
        ),
    },
    {
        "name": "Consultation preparation",
        "category": "consultation_prep",
        "trigger": "booked",
        "service_kinds": ["consultation"],
        "anchor": "booked",
        "offset_minutes": 5,
        "priority": 70,
        "stale_after_minutes": 2 * DAY,
        "template": (
            "Hi {{ first_name }}, before your consultation at {{ clinic_name }} on {{ date }}, "
            "please answer a few health questions: {{ screening_url }}"
        ),
    },
    {
        "name": "Pre-care: 14 days before",
        "category": "pre_care",
        "trigger": "booked",
        "service_kinds": ["treatment"],
        "anchor": "start",
        "offset_minutes": -14 * DAY,
        "priority": 40,
        "stale_after_minutes": DAY,
        "template": (
            "Hi {{ first_name }}, {{ clinic_name }} here. Ahead of {{ date }}, please avoid sun, "
            "sunbeds, self-tan, peels and laser from now. Details: {{ care_url }}"
        ),
    },
    {
        "name": "Pre-care: 5 days before",
        "category": "pre_care",
        "trigger": "booked",
        "service_kinds": ["treatment"],
        "anchor": "start",
        "offset_minutes": -5 * DAY,
        "priority": 45,
        "stale_after_minutes": DAY,
        "template": (
            "Hi {{ first_name }}, {{ date }} is coming up: please pause retinoids, acids and "
            "exfoliants from now. Check with your prescriber before pausing any medicine. "
            "{{ care_url }}"
        ),
    },
    {
        "name": "Health re-check before a later session",
        "category": "health_recheck",
        "trigger": "booked",
        "service_kinds": ["treatment"],
        "anchor": "start",
        "offset_minutes": -2 * DAY,
        "priority": 95,
        "stale_after_minutes": DAY,
        "only_repeat_sessions": True,
        "template": (
            "Hi {{ first_name }}, before {{ date }}: has anything changed since your "
            "consultation? Tell us at {{ recheck_url }} or reply 1 = no change, "
            "2 = something changed"
        ),
    },
    {
        "name": "Day-before reminder",
        "category": "day_before",
        "trigger": "booked",
        "service_kinds": [],
        "anchor": "start",
        "offset_minutes": -DAY,
        "local_time": time(10, 0),
        "priority": 90,
        "stale_after_minutes": 12 * HOUR,
        "template": (
            "Hi {{ first_name }}, see you tomorrow at {{ time }} at {{ clinic_name }}. Please "
            "arrive with clean skin and no make-up. Reply C to confirm. {{ manage_url }}"
        ),
    },
    {
        "name": "Aftercare: same evening",
        "category": "aftercare",
        "trigger": "booked",
        "service_kinds": ["treatment"],
        "anchor": "end",
        "offset_minutes": 2 * HOUR,
        "priority": 80,
        "stale_after_minutes": 12 * HOUR,
        "template": (
            "Hi {{ first_name }}, tonight use only a gentle cleanser and plain moisturiser. No "
            "make-up for 24h, no gym, sauna or swimming for 48h, no sun. {{ care_url }}"
        ),
    },
    {
        "name": "Downtime check: day 2",
        "category": "downtime_check",
        "trigger": "booked",
        "service_kinds": ["treatment"],
        "anchor": "end",
        "offset_minutes": 2 * DAY,
        "local_time": time(10, 0),
        "priority": 60,
        "stale_after_minutes": 12 * HOUR,
        "template": (
            "Hi {{ first_name }}, redness and tightness are normal, and flaking on days 2-4: "
            "please don't pick. Use SPF 30+ daily. Reply if you're worried. {{ care_url }}"
        ),
    },
    {
        "name": "Downtime check: day 5",
        "category": "downtime_check",
        "trigger": "booked",
        "service_kinds": ["treatment"],
        "anchor": "end",
        "offset_minutes": 5 * DAY,
        "local_time": time(10, 0),
        "priority": 50,
        "stale_after_minutes": DAY,
        "template": (
            "Hi {{ first_name }}, most downtime is over now. If your skin is calm you can go back "
            "to your usual actives. Keep using SPF daily. {{ care_url }}"
        ),
    },
    {
        "name": "Rebook: next course session due",
        "category": "rebook",
        "trigger": "completed",
        "service_kinds": ["treatment"],
        "anchor": "end",
        "offset_minutes": 28 * DAY,
        "local_time": time(11, 0),
        "priority": 30,
        "stale_after_minutes": 3 * DAY,
        "only_while_course_unfinished": True,
        "template": (
            "Hi {{ first_name }}, your next session at {{ clinic_name }} is due. Book a time that "
            "suits you: {{ book_url }}"
        ),
    },
    {
        "name": "Cancellation confirmation",
        "category": "cancellation",
        "trigger": "cancelled",
        "service_kinds": [],
        "anchor": "booked",
        "offset_minutes": 0,
        "priority": 100,
        "stale_after_minutes": DAY,
        "template": (
            "Hi {{ first_name }}, your appointment at {{ clinic_name }} on {{ date }} at "
            "{{ time }} is cancelled. Book again any time: {{ book_url }}"
        ),
    },
]

# Added after the first protocol (their fields are newer than its migration): installed by
# reminders/migrations/0013_records_recall_rating.py.
OUTCOME_RATING_RULES: list[dict] = [
    {
        "name": "Course outcome: ask for a rating",
        "category": "outcome_rating",
        "trigger": "completed",
        "service_kinds": ["treatment"],
        "anchor": "end",
        # Collagen remodelling goes on for weeks: ask once the result shows.
        "offset_minutes": 21 * DAY,
        "local_time": time(11, 0),
        "priority": 20,
        "stale_after_minutes": 3 * DAY,
        "only_after_course_finished": True,
        "template": (
            "Hi {{ first_name }}, how happy are you with the results of your course at "
            "{{ clinic_name }}? Reply with a number from 1 (not happy) to 5 (very happy)."
        ),
    },
]

# No name and nothing about the client's health: the link alone, behind a fresh code.
DATA_EXPORT_LINK_TEMPLATE = (
    "{{ clinic_name }}: here is the link to download a copy of the information we hold about "
    "you. It works for 24 hours and asks for a code we text to this phone: {{ link }}"
)

VERIFICATION_TEMPLATE = (
    "{{ code }} is your {{ clinic_name }} verification code. It expires in 10 minutes."
)


# Email subjects per category (the body is the rule's own text). Like the texts, a subject never
# names a treatment or a health detail; ``{clinic}`` is the location's name.
EMAIL_SUBJECTS: dict[str, str] = {
    "confirmation": "Your appointment at {clinic}",
    "consultation_prep": "Before your consultation at {clinic}",
    "pre_care": "Getting ready for your visit to {clinic}",
    "day_before": "See you tomorrow at {clinic}",
    "aftercare": "Your aftercare from {clinic}",
    "downtime_check": "How are you getting on? ({clinic})",
    "cancellation": "Your appointment at {clinic} is cancelled",
    "clearance": "You're cleared: book with {clinic}",
    "recall": "Important: a product notice from {clinic}",
}
DEFAULT_EMAIL_SUBJECT = "A message from {clinic}"
