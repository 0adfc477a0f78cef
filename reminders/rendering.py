"""Turning a ReminderRule's template into an SMS body.

Templates are Django template syntax rendered with autoescaping off (an SMS is plain text) and
a small, fixed context: nothing about the treatment or the client's health is offered to a
template, so a clinic cannot leak it by accident (privacy by default, DOMAIN.md).

A template made only of text, ``{{ name }}`` and ``{% if name %}…{% elif name %}…{% else %}…
{% endif %}`` (every default rule) is rendered by joining its pieces, without the engine: a
booking renders each rule of the protocol, and the engine's per-render machinery (a context
stack, a render state, each value localised and converted) cost ten times the joining. The
result is the engine's: a placeholder takes its value only when that is a ``str`` (what the
engine prints as it is), a condition only a ``str``, ``bool`` or ``None`` or a missing name
(false, as the engine takes it); any other value, and any other template, goes through the
engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import FilterExpression, NodeList, TextNode, Variable, VariableNode
from django.template.defaulttags import IfNode, TemplateLiteral

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


@dataclass(frozen=True)
class _Placeholder:
    """``{{ name }}``."""

    name: str


@dataclass(frozen=True)
class _Choice:
    """``{% if name %}…{% elif name %}…{% else %}…{% endif %}``: (name, pieces) per branch, the
    name None for ``else``."""

    branches: tuple[tuple[str | None, tuple[_Piece, ...]], ...]


_Piece = str | _Placeholder | _Choice

# Names the engine resolves without the context (its builtins True, False and None).
_ENGINE_NAMES = frozenset({"True", "False", "None"})


def _plain_name(expression: FilterExpression) -> str | None:
    """The name of a bare variable (``name``, no dots, filters or literal), else None."""
    variable = expression.var
    if expression.filters or not isinstance(variable, Variable) or variable.translate:
        return None
    lookups = variable.lookups
    if lookups is None or len(lookups) != 1 or lookups[0] in _ENGINE_NAMES:
        return None
    return lookups[0]


def _plain_pieces(nodes: NodeList) -> tuple[_Piece, ...] | None:
    """The template as pieces to join, or None when it uses anything else."""
    pieces: list[_Piece] = []
    for node in nodes:
        if type(node) is TextNode:
            pieces.append(node.s)
        elif type(node) is VariableNode:
            name = _plain_name(node.filter_expression)
            if name is None:
                return None
            pieces.append(_Placeholder(name))
        elif type(node) is IfNode:
            branches: list[tuple[str | None, tuple[_Piece, ...]]] = []
            for condition, branch_nodes in node.conditions_nodelists:
                condition_name = None
                if condition is not None:
                    if type(condition) is not TemplateLiteral or not isinstance(
                        condition.value, FilterExpression
                    ):
                        return None  # a comparison, "not", "and", …
                    condition_name = _plain_name(condition.value)
                    if condition_name is None:
                        return None
                branch = _plain_pieces(branch_nodes)
                if branch is None:
                    return None
                branches.append((condition_name, branch))
            pieces.append(_Choice(tuple(branches)))
        else:
            return None
    return tuple(pieces)


_MISSING = object()
_CONDITION_TYPES = (str, bool, type(None))


def _join(pieces: tuple[_Piece, ...], context: Mapping[str, object], out: list[str]) -> bool:
    """Append the rendered pieces to ``out``; False when a value needs the engine."""
    for piece in pieces:
        if type(piece) is str:
            out.append(piece)
        elif type(piece) is _Placeholder:
            value = context.get(piece.name, _MISSING)
            if type(value) is not str:
                return False
            out.append(value)
        else:
            assert type(piece) is _Choice  # noqa: S101 - the three kinds of piece
            for name, branch in piece.branches:
                if name is not None:
                    value = context.get(name)
                    if type(value) not in _CONDITION_TYPES:
                        return False
                    if not value:
                        continue
                if not _join(branch, context, out):
                    return False
                break
    return True


@dataclass(frozen=True)
class _CompiledTemplate:
    template: Template
    pieces: tuple[_Piece, ...] | None


@lru_cache(maxsize=512)
def _compiled(template_text: str) -> _CompiledTemplate:
    # A booking renders every rule of the protocol; parsing each template once per process
    # instead of once per message was a third of the planning time. Compiled templates are
    # safe to share between threads (their per-render state lives in the context).
    template = _ENGINE.from_string(template_text)
    return _CompiledTemplate(template=template, pieces=_plain_pieces(template.nodelist))


def render_template_text(template_text: str, context: dict[str, object]) -> str:
    """Render an SMS template. Raises ValueError naming the problem for a broken template."""
    try:
        compiled = _compiled(template_text)
    except TemplateSyntaxError as exc:
        raise ValueError(f"Template error: {exc}") from None
    out: list[str] = []
    if compiled.pieces is not None and _join(compiled.pieces, context, out):
        rendered = "".join(out)
    else:
        # Context() escapes HTML unless told not to, whatever the engine says.
        rendered = compiled.template.render(Context(context, autoescape=False))
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
