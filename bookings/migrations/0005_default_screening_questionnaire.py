"""The default micro-needling screening questionnaire and consent form (DOMAIN.md).

Every number here is a default a clinic can change in the admin: which answers are absolute or
relative contraindications and how long a client waits after isotretinoin, sunburn, peels,
waxing, Botox or filler.
"""

from __future__ import annotations

from django.db import migrations

YES_NO = "yes_no"
DATE = "date"
TEXT = "text"

# (key, text, help_text, answer_type, required, [(answer, flag, wait_days, note)])
QUESTIONS = [
    (
        "active_skin_problem",
        "Do you have an active skin infection, open wound, acne breakout or cold sore where you'd like treatment?",
        "For example a spot that is inflamed, a graze, or a cold sore that is still visible.",
        YES_NO,
        True,
        [("yes", "absolute", None, "Active infection/acne/cold sore in the area: defer")],
    ),
    (
        "isotretinoin_current",
        "Are you taking isotretinoin (Roaccutane, Accutane) at the moment?",
        "",
        YES_NO,
        True,
        [("yes", "absolute", None, "Isotretinoin now")],
    ),
    (
        "isotretinoin_stopped_on",
        "If you took isotretinoin in the last year, when did you stop?",
        "Leave empty if you haven't taken it in the last year.",
        DATE,
        False,
        [("*", "relative", 180, "Isotretinoin: wait 6 months after stopping")],
    ),
    (
        "pregnant_or_breastfeeding",
        "Are you pregnant, trying to become pregnant, or breastfeeding?",
        "",
        YES_NO,
        True,
        [("yes", "absolute", None, "Pregnant or breastfeeding")],
    ),
    (
        "keloid_scarring",
        "Have you ever had raised (keloid or hypertrophic) scars?",
        "",
        YES_NO,
        True,
        [("yes", "absolute", None, "Keloid or hypertrophic scarring")],
    ),
    (
        "cancer_treatment",
        "Are you having, or have you had in the last 6 months, chemotherapy or radiotherapy — or do you have skin cancer or a mole that worries you in the area?",
        "",
        YES_NO,
        True,
        [("yes", "absolute", None, "Chemo/radiotherapy or lesion in the area")],
    ),
    (
        "bleeding_or_anticoagulants",
        "Do you have a bleeding or clotting disorder, or take blood thinners such as warfarin, heparin, apixaban or rivaroxaban?",
        "",
        YES_NO,
        True,
        [("yes", "absolute", None, "Bleeding disorder or anticoagulants")],
    ),
    (
        "allergies",
        "Are you allergic to numbing cream (local anaesthetic), stainless steel or skincare serums?",
        "",
        YES_NO,
        True,
        [("yes", "absolute", None, "Allergy to anaesthetic, steel or serums")],
    ),
    (
        "skin_condition",
        "Do you have rosacea, eczema, psoriasis or dermatitis where you'd like treatment?",
        "",
        YES_NO,
        True,
        [("yes", "relative", None, "Inflammatory skin condition in the area (flare = defer)")],
    ),
    (
        "cold_sore_history",
        "Do you get cold sores?",
        "If so, we may suggest antiviral cover before treatment.",
        YES_NO,
        True,
        [("yes", "relative", None, "Cold sore history: antiviral cover")],
    ),
    (
        "medical_conditions",
        "Do you have diabetes, an autoimmune condition, a heart condition, or take medicine that affects your immune system?",
        "",
        YES_NO,
        True,
        [("yes", "relative", None, "Diabetes/autoimmune/immunosuppression/heart condition")],
    ),
    (
        "blood_thinning_supplements",
        "Do you take aspirin, ibuprofen or supplements such as fish oil or vitamin E?",
        "",
        YES_NO,
        True,
        [("yes", "relative", None, "Aspirin/NSAIDs/supplements: pause if prescriber agrees")],
    ),
    (
        "recent_sun",
        "Have you had sunburn or a tan (including sunbeds or self-tan) in the last 2 weeks?",
        "",
        YES_NO,
        True,
        [("yes", "relative", 14, "Recent sunburn/tan: wait 2 weeks")],
    ),
    (
        "recent_peel_or_laser",
        "Have you had a chemical peel or laser treatment in the last 4 weeks?",
        "",
        YES_NO,
        True,
        [("yes", "relative", 28, "Peel or laser: wait 4 weeks")],
    ),
    (
        "recent_waxing",
        "Have you had waxing or hair removal cream in the area in the last week?",
        "",
        YES_NO,
        True,
        [("yes", "relative", 7, "Waxing: wait 1 week")],
    ),
    (
        "recent_botox",
        "Have you had anti-wrinkle injections (e.g. Botox) in the last 2 weeks?",
        "",
        YES_NO,
        True,
        [("yes", "relative", 14, "Botox: wait 2 weeks")],
    ),
    (
        "filler_on",
        "If you've had dermal filler in the area, when was it?",
        "Leave empty if you haven't had filler there.",
        DATE,
        False,
        [("*", "relative", 90, "Filler in the area: wait (clinic default 3 months)")],
    ),
    (
        "retinoids_or_acids",
        "Do you use retinoids (retinol, tretinoin) or exfoliating acids (AHA/BHA) on your skin?",
        "We'll tell you when to pause them around treatment.",
        YES_NO,
        True,
        [("yes", "relative", None, "Retinoids/acids: pause 3–5 days before, 5–7 after")],
    ),
    (
        "under_18",
        "Are you under 18?",
        "",
        YES_NO,
        True,
        [("yes", "relative", None, "Under 18: guardian consent needed")],
    ),
    (
        "anything_else",
        "Is there anything else about your health or medicines you'd like us to know?",
        "",
        TEXT,
        False,
        [],
    ),
]

CONSENT_V1 = """\
I confirm that the medical history I have given is complete and true, and that I will tell the
clinic about any changes before each session.
I understand the risks of micro-needling, including redness, pinpoint bleeding, swelling,
bruising, infection, changes in pigmentation, scarring and allergic reaction.
I understand that no particular result is guaranteed and that a series of sessions may be needed.
I have received aftercare instructions.
Photographs are only taken with my separate consent."""


def create_defaults(apps, schema_editor):
    ScreeningQuestion = apps.get_model("bookings", "ScreeningQuestion")
    ScreeningAnswerRule = apps.get_model("bookings", "ScreeningAnswerRule")
    ConsentFormVersion = apps.get_model("bookings", "ConsentFormVersion")
    for order, (key, text, help_text, answer_type, required, rules) in enumerate(QUESTIONS):
        question, created = ScreeningQuestion.objects.get_or_create(
            key=key,
            defaults={
                "text": text,
                "help_text": help_text,
                "answer_type": answer_type,
                "is_required": required,
                "order": (order + 1) * 10,
            },
        )
        if not created:
            continue
        for answer, flag, wait_days, note in rules:
            ScreeningAnswerRule.objects.create(
                question=question, answer=answer, flag=flag, wait_days=wait_days, note=note
            )
    ConsentFormVersion.objects.get_or_create(
        version="1", defaults={"text": CONSENT_V1, "is_current": True}
    )


def remove_defaults(apps, schema_editor):
    ScreeningQuestion = apps.get_model("bookings", "ScreeningQuestion")
    ScreeningQuestion.objects.filter(key__in=[row[0] for row in QUESTIONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("bookings", "0004_consultations")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
