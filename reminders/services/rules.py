"""Managers change the reminder protocol's wording, timing and on/off from the workspace."""

from __future__ import annotations

import logging
from datetime import time

from django.db import transaction

from clinic import roles
from clinic.errors import ValidationFailed
from clinic.roles import Actor
from reminders.models import ReminderRule
from reminders.rendering import sample_render
from reminders.sms_text import segment_info

logger = logging.getLogger(__name__)

MAX_OFFSET_MINUTES = 120 * 24 * 60  # four months either side of the anchor
MAX_SEGMENTS = 3


@transaction.atomic
def reminder_rule_update(
    *,
    actor: Actor,
    rule: ReminderRule,
    template: str,
    offset_minutes: int | str,
    local_time: str | time | None,
    is_active: bool,
) -> ReminderRule:
    """Change a rule's wording, offset from its anchor, fixed local time of day and whether it
    is on. The wording must render with the sample context and fit in three segments.

    Messages already planned keep the wording they were planned with; new plans use this.
    Raises PermissionDenied unless ``actor`` is a manager, and ValidationFailed naming the
    field."""
    roles.require_role(actor, roles.MANAGER)
    template = template.strip()
    if not template:
        raise ValidationFailed("Write the text to send.", field="template")
    try:
        body = sample_render(template)
    except ValueError as error:
        raise ValidationFailed(str(error), field="template") from None
    if segment_info(body).segments > MAX_SEGMENTS:
        raise ValidationFailed(
            f"This text would take more than {MAX_SEGMENTS} SMS segments; shorten it.",
            field="template",
        )
    try:
        offset = int(str(offset_minutes).strip())
    except ValueError:
        raise ValidationFailed(
            "Give the offset in whole minutes.", field="offset_minutes"
        ) from None
    if abs(offset) > MAX_OFFSET_MINUTES:
        raise ValidationFailed(
            "Keep the offset within 120 days of the anchor.", field="offset_minutes"
        )
    at_time = local_time
    if isinstance(local_time, str):
        try:
            at_time = time.fromisoformat(local_time.strip()) if local_time.strip() else None
        except ValueError:
            raise ValidationFailed(
                "Give the time of day as HH:MM, e.g. 10:00.", field="local_time"
            ) from None
    locked = ReminderRule.objects.select_for_update().get(pk=rule.pk)
    locked.template = template
    locked.offset_minutes = offset
    locked.local_time = at_time
    locked.is_active = is_active
    locked.save(
        update_fields=["template", "offset_minutes", "local_time", "is_active", "updated_at"]
    )
    logger.info(
        "reminder rule updated", extra={"rule_id": locked.pk, "actor": roles.actor_label(actor)}
    )
    return locked


def reminder_preview(*, template: str) -> tuple[str, str]:
    """The sample text a template renders to and its length/encoding/segments, or the error."""
    try:
        body = sample_render(template)
    except ValueError as error:
        return "", str(error)
    info = segment_info(body)
    return (
        body,
        f"{len(body)} characters · {info.encoding} · {info.segments} segment{'s' if info.segments != 1 else ''}",
    )
