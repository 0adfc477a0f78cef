"""reminders.rendering: SMS bodies are plain text."""

from __future__ import annotations

from reminders.rendering import render_template_text


def test_a_name_with_an_apostrophe_and_a_clinic_with_an_ampersand_are_sent_as_written():
    context = {"first_name": "O'Brien", "clinic_name": "Smith & Jones <Skin>"}

    plain = render_template_text("Hi {{ first_name }} at {{ clinic_name }}", context)
    through_the_engine = render_template_text(
        "Hi {{ first_name|title }} at {{ clinic_name }}", context
    )

    assert plain == "Hi O'Brien at Smith & Jones <Skin>"
    assert through_the_engine == "Hi O'Brien at Smith & Jones <Skin>"
