"""Care instructions per kind of service: the full, treatment-specific text behind the signed
care link (the SMS itself only carries generic advice, privacy by default)."""

from __future__ import annotations

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
            "Bring a list of any medicines, supplements and skincare you use.",
            "Come with clean skin if you can, so we can look at it properly.",
        ],
    },
}

# The sections that prepare for the visit (shown on the booking's manage page too).
BEFORE_THE_VISIT: dict[str, tuple[str, ...]] = {
    "treatment": ("Two weeks before", "Five days before", "On the day"),
    "consultation": ("Before you come",),
}


def care_before_the_visit(*, service_kind: str) -> list[str]:
    """The preparation advice for a visit of this kind, in order."""
    sections = CARE_INSTRUCTIONS.get(service_kind, {})
    return [
        line for title in BEFORE_THE_VISIT.get(service_kind, ()) for line in sections.get(title, [])
    ]
