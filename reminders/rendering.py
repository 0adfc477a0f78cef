"""Turning a ReminderRule's template into an SMS body.

Templates are Django template syntax rendered with autoescaping off (an SMS is plain text) and
a small, fixed context: nothing about the treatment or the client's health is offered to a
template, so a clinic cannot leak it by accident (privacy by default, DOMAIN.md).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template import Context, Engine, Template, TemplateSyntaxError

from reminders.sms_text import segment_info

OPT_OUT_LINE = "Reply STOP to opt out, HELP for help."

# A private engine: no project template dirs, no autoescape (HTML entities in an SMS are noise).
_ENGINE = Engine(autoescape=False, libraries={}, builtins=[])

SAMPLE_CONTEXT: dict[str, object] = {
    "first_name": "Alexandra",
    "clinic_name": "Riverside Skin Clinic",
    "date": "Wed 25 Mar",
    "time": "14:30",
    "manage_url": "https://clinic.example/b/AbCdEfGhIjKlMnOpQrStUvWx/",
    "care_url": "https://clinic.example/c/AbCdEfGhIjKlMnOpQrStUvWx/",
    "recheck_url": "https://clinic.example/b/AbCdEfGhIjKlMnOpQrStUvWx/recheck/",
    "clinic_phone": "+442071234567",
    "book_url": "https://clinic.example/book/",
    "screening_url": "https://clinic.example/b/AbCdEfGhIjKlMnOpQrStUvWx/screening/",
    "can_change_online": True,
    "previous_when": "Tue 24 Mar at 11:00",
    "treatment_names": "",
    "code": "123456",
    "body": "",
}


@lru_cache(maxsize=512)
def _compiled(template_text: str) -> Template:
    # A booking renders every rule of the protocol; parsing each template once per process
    # instead of once per message was a third of the planning time. Compiled templates are
    # safe to share between threads (their per-render state lives in the context).
    return _ENGINE.from_string(template_text)


def render_template_text(template_text: str, context: dict[str, object]) -> str:
    """Render an SMS template. Raises ValueError naming the problem for a broken template."""
    try:
        template = _compiled(template_text)
    except TemplateSyntaxError as exc:
        raise ValueError(f"Template error: {exc}") from None
    # Context() escapes HTML unless told not to, whatever the engine says: "O'Brien" went out
    # as "O&#x27;Brien".
    rendered = template.render(Context(context, autoescape=False))
    return " ".join(line.strip() for line in rendered.splitlines()).strip()


def sample_render(template_text: str) -> str:
    return render_template_text(template_text, SAMPLE_CONTEXT)


def sample_summary(template_text: str) -> str:
    """What staff see next to a template: rendered sample length, encoding and segments."""
    try:
        body = sample_render(template_text)
    except ValueError as exc:
        return str(exc)
    info = segment_info(body)
    return f"{len(body)} characters, {info.encoding}, {info.segments} segment(s)"


def local_date_text(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}"


def local_time_text(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%H:%M}"


def public_url(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"
