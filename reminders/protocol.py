"""The default micro-needling protocol (DOMAIN.md), as data.

``DEFAULT_RULES`` is what the first data migration (0002) inserts; clinics then edit the rows in
the admin. Later defaults (catch-up messages, revised copy) are written out in their own
migrations, so that each migration keeps meaning what it meant.
``CARE_INSTRUCTIONS`` is the full, treatment-specific text behind the signed care link: the SMS
itself only carries generic advice (privacy by default).
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

VERIFICATION_TEMPLATE = (
    "{{ code }} is your {{ clinic_name }} verification code. It expires in 10 minutes."
)

# Full instructions behind /c/<token>/. Not clinical advice: defaults a clinic edits.
CARE_INSTRUCTIONS: dict[str, dict[str, list[str]]] = {
    "treatment": {
        "Two weeks before": [
            "Avoid sun exposure, sunbeds and self-tan; come with untanned skin.",
            "No chemical peels or laser treatments in the area.",
            "No waxing in the area during the last week.",
        ],
        "Five days before": [
            "Pause retinoids (retinol, tretinoin), AHAs/BHAs and scrubs or other exfoliants.",
            "If you take aspirin, anti-inflammatories or fish oil, ask your prescriber whether "
            "you may pause them. Never stop a prescribed medicine without their advice.",
            "Tell us about any new medicine, a cold sore, pregnancy, or recent injectables.",
        ],
        "On the day": [
            "Arrive with clean skin and no make-up.",
            "Expect some redness, like mild sunburn, for one to three days.",
        ],
        "The first evening and night": [
            "Wash only with a gentle cleanser and lukewarm water; pat dry with a clean towel.",
            "Use a plain, fragrance-free moisturiser. No make-up for 24 hours.",
            "Sleep on a fresh pillowcase.",
        ],
        "The first 48 hours": [
            "No gym, sauna, steam room or swimming (sweat and chlorine irritate open channels).",
            "Keep out of the sun; wear SPF 30+ and a hat when outside.",
            "No actives: retinoids, acids or vitamin C serums.",
        ],
        "Days 2 to 5": [
            "Tightness and redness are normal. Flaking usually comes on days 2 to 4: let it fall "
            "away on its own, don't pick or scrub.",
            "Keep moisturising and use SPF 30+ every day.",
            "From about day 5, if your skin is calm, you can reintroduce your usual actives.",
        ],
        "Call the clinic if": [
            "You notice swelling that gets worse, bleeding, pus, fever, increasing pain, a rash "
            "or any sign of an allergic reaction.",
        ],
    },
    "consultation": {
        "What the consultation covers": [
            "Your skin goals and your medical history, so we can check the treatment is safe "
            "for you.",
            "What the treatment involves, what to expect afterwards, and any risks.",
            "A plan: how many sessions, how far apart, and how to prepare.",
        ],
        "Before you come": [
            "Fill in the health questions online if you haven't yet; it saves time on the day.",
            "Bring a list of the medicines and skincare products you use.",
        ],
    },
}
