"""reminders.rendering: SMS bodies are plain text, and the engine-free path for plain templates
renders exactly what Django's template engine renders."""

from __future__ import annotations

import pytest
from django.template import Context, Engine
from hypothesis import given
from hypothesis import strategies as st

from reminders import protocol, rendering
from reminders.models import ReminderRule
from reminders.rendering import SAMPLE_CONTEXT, render_template_text

# The oracle: Django's engine with autoescaping off, and the body's whitespace folded.
_ORACLE_ENGINE = Engine(autoescape=False)


def _engine_render(template_text: str, context: dict[str, object]) -> str:
    rendered = _ORACLE_ENGINE.from_string(template_text).render(Context(context, autoescape=False))
    return " ".join(line.strip() for line in rendered.splitlines()).strip()


def _default_templates() -> list[str]:
    templates = [str(rule["template"]) for rule in protocol.DEFAULT_RULES]
    templates += [protocol.VERIFICATION_TEMPLATE, protocol.WAITLIST_OFFER_TEMPLATE]
    templates.append(protocol.DATA_EXPORT_LINK_TEMPLATE)
    return templates


PLAIN_TEMPLATES = [
    "Hi {{ first_name }}, {% if can_change_online %}change: {{ manage_url }}"
    "{% else %}call {{ clinic_phone }}.{% endif %}",
    "{% if treatment_names %}{{ treatment_names }}{% elif first_name %}x{% endif %} done",
    "Line one {{ first_name }}\n   line two\n\n{% if a %}{% if b %}ab{% else %}a{% endif %}{% endif %}",
]
OTHER_TEMPLATES = [
    "Hi {{ first_name|upper }}",
    "{% if first_name == 'Bo' %}Bo{% else %}not Bo{% endif %}",
    "{% if not can_change_online %}closed{% endif %}",
    "{{ True }} {% if True %}yes{% endif %} {{ first_name.upper }} {{ 'literal' }}",
    "{# a comment #}{% comment %}x{% endcomment %}{{ first_name }}",
]


def test_a_name_with_an_apostrophe_and_a_clinic_with_an_ampersand_are_sent_as_written():
    context = {"first_name": "O'Brien", "clinic_name": "Smith & Jones <Skin>"}

    plain = render_template_text("Hi {{ first_name }} at {{ clinic_name }}", context)
    through_the_engine = render_template_text(
        "Hi {{ first_name|title }} at {{ clinic_name }}", context
    )

    assert plain == "Hi O'Brien at Smith & Jones <Skin>"
    assert through_the_engine == "Hi O'Brien at Smith & Jones <Skin>"


@pytest.mark.django_db
def test_every_shipped_template_takes_the_plain_path_and_renders_what_the_engine_renders():
    shipped = list(ReminderRule.objects.values_list("template", flat=True))
    assert len(shipped) > 10
    for template_text in shipped + _default_templates() + PLAIN_TEMPLATES:
        assert rendering._compiled(template_text).pieces is not None, template_text
        for changes in ({}, {"can_change_online": False, "treatment_names": "Peel"}):
            context = {**SAMPLE_CONTEXT, **changes}
            rendered = render_template_text(template_text, context)
            assert rendered == _engine_render(template_text, context)
    for template_text in OTHER_TEMPLATES:
        assert rendering._compiled(template_text).pieces is None, template_text


def test_plain_templates_render_without_the_engine(monkeypatch):
    def no_engine(*args, **kwargs):
        raise AssertionError("the engine rendered a plain template")

    monkeypatch.setattr(rendering.Template, "render", no_engine)
    for template_text in _default_templates():
        render_template_text(
            template_text, {**SAMPLE_CONTEXT, "minutes": "15", "claim_url": "u", "link": "u"}
        )


texts = st.text(st.sampled_from(list("aZ 0'&<>\"\n\t é“😀")), max_size=8)
values = st.one_of(
    texts, st.booleans(), st.none(), st.integers(-3, 3), st.lists(st.integers(), max_size=2)
)
contexts = st.dictionaries(
    st.sampled_from(
        ["first_name", "clinic_name", "manage_url", "clinic_phone", "treatment_names"]
        + ["can_change_online", "date", "time", "a", "b", "code", "minutes"]
    ),
    values,
)


@given(
    template_text=st.sampled_from(_default_templates() + PLAIN_TEMPLATES + OTHER_TEMPLATES),
    context=contexts,
)
def test_any_template_renders_what_the_engine_renders_whatever_the_values(template_text, context):
    assert render_template_text(template_text, context) == _engine_render(template_text, context)


@pytest.mark.parametrize("template_text", ["{% if %}", "{{ first_name|nosuchfilter }}"])
def test_a_broken_template_is_a_value_error(template_text):
    with pytest.raises(ValueError, match="Template error"):
        render_template_text(template_text, SAMPLE_CONTEXT)
