"""Forms of the waitlist pages. They check shape only; the rules come back from the services
as form errors."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms

from waitlist.models import PartOfDay

DAYS_SHOWN = 14


def window_choices(*, today: date) -> list[tuple[str, str]]:
    """Every (date, part of day) of the next ``DAYS_SHOWN`` days, as ``YYYY-MM-DD:part``."""
    return [
        (f"{day.isoformat()}:{part.value}", f"{day:%A %-d %B}, {part.label.lower()}")
        for day in (today + timedelta(days=offset) for offset in range(DAYS_SHOWN))
        for part in PartOfDay
    ]


def parse_windows(values: list[str]) -> list[tuple[date, str]]:
    windows = []
    for value in values:
        on, _, part = value.partition(":")
        windows.append((date.fromisoformat(on), part))
    return windows


class JoinForm(forms.Form):
    first_name = forms.CharField(
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={"required": "Please enter your first name."},
    )
    last_name = forms.CharField(
        max_length=80, required=False, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    phone = forms.CharField(
        label="Mobile number",
        max_length=32,
        help_text="We text a code to this number to confirm it's you, and offers of times to it.",
        error_messages={"required": "Please enter your mobile number."},
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    windows = forms.MultipleChoiceField(
        label="When could you come?",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one day and part of the day."},
    )
    expires_on = forms.DateField(
        label="Stop offering me times after",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty to stop after the last day you chose.",
    )
    sms_consent = forms.BooleanField(
        error_messages={"required": "We offer free times by text: please agree to texts."}
    )

    def __init__(self, *args, today: date, clinic_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        windows = self.fields["windows"]
        assert isinstance(windows, forms.MultipleChoiceField)
        windows.choices = window_choices(today=today)
        self.consent_wording = (
            f"Yes, {clinic_name} may text me when a time comes up, and about any booking I make. "
            "No marketing. Reply STOP at any time to opt out."
        )
        self.fields["sms_consent"].label = self.consent_wording

    def days(self) -> list[tuple[str, list]]:
        """The window checkboxes grouped by day, for a fieldset per day."""
        grouped: dict[str, list] = {}
        for box in self["windows"]:
            day_label = box.choice_label.split(",")[0]
            grouped.setdefault(day_label, []).append(box)
        return list(grouped.items())


class CodeForm(forms.Form):
    code = forms.CharField(
        label="6-digit code",
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*"}
        ),
    )
