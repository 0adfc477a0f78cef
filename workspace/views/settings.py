"""Clinic settings for managers, so nobody needs the Django admin for the day-to-day:
reminder wording (with a live preview and segment count), timing and on/off."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST

from clinic import roles
from clinic.errors import ApplicationError
from clinic.parsing import local_time_or_none
from reminders.models import ReminderRule
from reminders.services.rules import reminder_preview, reminder_rule_update
from workspace.views.access import render_staff, staff_member_required

# Rules staff edit here; codes and replies are fixed wording the product relies on.
EDITABLE_CATEGORIES = [
    category
    for category in ReminderRule.Category.values
    if category not in {"verification", "adhoc", "reply"}
]


@staff_member_required
def reminder_rules(request: HttpRequest) -> HttpResponse:
    roles.require_role(request.user, roles.MANAGER)
    rules = ReminderRule.objects.filter(category__in=EDITABLE_CATEGORIES)
    return render_staff(
        request, "workspace/settings/reminders.html", {"nav": "settings", "rules": rules}
    )


def _typed_time(raw: str) -> str:
    moment = local_time_or_none(raw)
    return moment.strftime("%H:%M") if moment is not None else raw


@require_http_methods(["GET", "POST"])
@staff_member_required
def reminder_rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    roles.require_role(request.user, roles.MANAGER)
    rule = get_object_or_404(ReminderRule, pk=rule_id, category__in=EDITABLE_CATEGORIES)
    values: dict[str, str] = {
        "template": rule.template,
        "offset_minutes": str(rule.offset_minutes),
        "local_time": rule.local_time.strftime("%H:%M") if rule.local_time else "",
        "is_active": "on" if rule.is_active else "",
    }
    error = None
    if request.method == "POST":
        values = {
            "template": request.POST.get("template", ""),
            "offset_minutes": request.POST.get("offset_minutes", ""),
            "local_time": request.POST.get("local_time", ""),
            "is_active": request.POST.get("is_active", ""),
        }
        try:
            reminder_rule_update(
                actor=request.user,
                rule=rule,
                template=values["template"],
                offset_minutes=values["offset_minutes"],
                # Typed as the clinic writes times ("2:30 pm" is fine too); the service
                # takes hh:mm and explains anything it cannot read.
                local_time=_typed_time(values["local_time"]),
                is_active=values["is_active"] == "on",
            )
        except ApplicationError as failure:
            error = failure
        else:
            flash.success(request, f"Saved “{rule.name}”.")
            return redirect("staff-settings-reminders")
    body, summary = reminder_preview(template=values["template"])
    return render_staff(
        request,
        "workspace/settings/reminder_edit.html",
        {
            "nav": "settings",
            "rule": rule,
            "values": values,
            "error": error,
            "preview_body": body,
            "preview_summary": summary,
        },
        status=error.status if error else 200,
    )


@require_POST
@staff_member_required
def reminder_preview_fragment(request: HttpRequest) -> HttpResponse:
    """The live preview under the wording field (HTMX, on every pause in typing)."""
    roles.require_role(request.user, roles.MANAGER)
    body, summary = reminder_preview(template=request.POST.get("template", ""))
    return render_staff(
        request,
        "workspace/settings/_reminder_preview.html",
        {"preview_body": body, "preview_summary": summary},
    )
