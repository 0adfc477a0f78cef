"""The default red-flag list for reply triage (DOMAIN.md, "Reply triage") as editable rows.

The phrases are written out here rather than imported, so this migration keeps meaning what it
meant when later defaults change.
"""

from __future__ import annotations

from django.db import migrations

WORDS_TO_BE_LOOKED_AT = r"(swell\w*|swollen|bleed\w*|blood\w*|pain\w*|allerg\w*|rash\w*|infect\w*)"
FACE = r"(lips?|eyes?|eyelids?|face|tongue|throat)"
SWOLLEN = r"(swell\w*|swollen|puff\w*)"
RED_FLAGS = [
    # (category, pattern, needs_recent_treatment)
    ("infection", r"\bpus\b|\bdischarg\w*|\booz\w*|\bweeping\b", False),
    (
        "infection",
        r"\b(skin|face|cheeks?|area|forehead|it'?s|is)\b[^.?!]{0,25}\b(hot|burning)\b"
        r"|\b(hot|warm)\s+to\s+(the\s+)?touch\b|\bfeels?\s+(really\s+|very\s+)?hot\b",
        False,
    ),
    ("infection", r"\bspread\w*", False),
    (
        "infection",
        r"\b(red\w*|swell\w*|swollen|rash)\b[^.?!]{0,40}\b(worse|worsening|bigger)\b",
        False,
    ),
    (
        "infection",
        r"\bfever\w*|\bhigh\s+temperature\b|\bshiver\w*|\bchills\b"
        r"|\b(feel\w*|am|i'?m)\s+(really\s+|very\s+)?(unwell|ill|sick)\b",
        False,
    ),
    ("allergy", r"\bhives\b|\bwelts?\b|\bitch\w*\s+all\s+over\b", False),
    (
        "allergy",
        rf"\b{FACE}\b[^.?!]{{0,30}}\b{SWOLLEN}|\b{SWOLLEN}\b[^.?!]{{0,30}}\b{FACE}\b",
        False,
    ),
    (
        "allergy",
        r"\bwheez\w*|\b(trouble|difficulty|problems?|hard|struggling)\s+(to\s+)?breath\w*"
        r"|\b(can'?t|cannot)\s+breathe?\b|\bshort\s+of\s+breath\b|\bbreathless\w*",
        False,
    ),
    (
        "bleeding",
        r"\bbleed\w*\b[^.?!]{0,40}\b(won'?t|will\s+not|doesn'?t|does\s+not|hasn'?t|has\s+not|not"
        r"|isn'?t)\s+stop\w*|\b(keeps?|still|won'?t\s+stop|can'?t\s+stop)\s+bleed\w*",
        False,
    ),
    ("blisters", r"\bblister\w*|\bcrust\w*|\bopen\s+sores?\b|\bcold\s+sores?\b", False),
    (
        "pain",
        r"\b(severe|bad|terrible|awful|unbearable|excruciating|worse|worsening|increasing|intense"
        r"|agoni[sz]ing)\s+(\w+\s+)?(pain|ache|aching|throbbing)\b"
        r"|\bpain\w*\b[^.?!]{0,30}\b(getting\s+worse|worse|worsening|increasing|unbearable|severe)\b"
        r"|\bin\s+agony\b",
        False,
    ),
    (
        "vision",
        r"\b(vision|eyesight)\b|\bblurr\w*|\b(can'?t|cannot)\s+see\b|\bseeing\s+double\b",
        False,
    ),
    # Softer words that may be a reaction soon after a treatment (and an ordinary sentence
    # otherwise: "no pain no gain"), so they count only within the recency window.
    ("after_treatment", rf"\b{WORDS_TO_BE_LOOKED_AT}\b", True),
]


def add_red_flags(apps, schema_editor):
    red_flag = apps.get_model("reminders", "RedFlag")
    for category, pattern, needs_recent_treatment in RED_FLAGS:
        red_flag.objects.get_or_create(
            category=category,
            pattern=pattern,
            defaults={"needs_recent_treatment": needs_recent_treatment},
        )


def remove_red_flags(apps, schema_editor):
    red_flag = apps.get_model("reminders", "RedFlag")
    for category, pattern, _ in RED_FLAGS:
        red_flag.objects.filter(category=category, pattern=pattern).delete()


class Migration(migrations.Migration):
    dependencies = [("reminders", "0006_redflag_inboundmessage_red_flags")]

    operations = [migrations.RunPython(add_red_flags, remove_red_flags)]
