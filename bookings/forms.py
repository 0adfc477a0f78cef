"""Forms of the client booking site. They check shape only; the rules (phone validity,
eligibility, rate limits) live in ``bookings.services`` and come back as form errors."""

from __future__ import annotations

from django import forms


def sms_consent_wording(*, clinic_name: str) -> str:
    """The exact sentence shown next to the SMS checkbox; stored with the consent."""
    return (
        f"Yes, {clinic_name} may text me about my appointments: confirmations, reminders and "
        "aftercare advice. No marketing. Reply STOP at any time to opt out."
    )


def email_consent_wording(*, clinic_name: str) -> str:
    """The exact sentence shown next to the optional email checkbox; stored with the consent."""
    return (
        f"Also email me: {clinic_name} may email my confirmations and aftercare advice to this "
        "address, and use it when a text cannot reach me. No marketing. Every email has an "
        "unsubscribe link."
    )


class DetailsForm(forms.Form):
    first_name = forms.CharField(
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={"required": "Please enter your first name."},
    )
    last_name = forms.CharField(
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
        error_messages={"required": "Please enter your last name."},
    )
    phone = forms.CharField(
        label="Mobile number",
        max_length=32,
        error_messages={"required": "Please enter your mobile number: we text you a code."},
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label="Email (optional)",
        required=False,
        error_messages={"invalid": "That email address looks incomplete, e.g. name@example.com."},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    email_consent = forms.BooleanField(required=False)
    sms_consent = forms.BooleanField(required=False)
    policy_accepted = forms.BooleanField(
        error_messages={"required": "Please confirm you have read the cancellation policy."}
    )

    def __init__(self, *args, clinic_name: str, country: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.consent_wording = sms_consent_wording(clinic_name=clinic_name)
        self.fields["sms_consent"].label = self.consent_wording
        self.email_consent_wording = email_consent_wording(clinic_name=clinic_name)
        self.fields["email_consent"].label = self.email_consent_wording
        example = "07911 123456" if country == "GB" else "your mobile number"
        self.fields["phone"].help_text = (
            f"We text a code to this number to confirm it's you, e.g. {example}. "
            "Numbers from abroad: start with + and the country code."
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("email_consent") and not cleaned.get("email") and "email" not in self.errors:
            self.add_error("email", "Enter your email address, or untick “Also email me”.")
        return cleaned


class CodeForm(forms.Form):
    code = forms.CharField(
        label="6-digit code",
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9 ]*",
                "class": "code-input",
            }
        ),
    )
