from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from clinic.selectors import location_default


def branding(request: HttpRequest) -> dict[str, Any]:
    """The clinic's name and colours for every template (one query, cached per request)."""
    if not hasattr(request, "_aftercare_location"):
        request._aftercare_location = location_default()  # type: ignore[attr-defined]
    location = request._aftercare_location  # type: ignore[attr-defined]
    return {
        "clinic_location": location,
        "clinic_name": location.name if location else "Aftercare",
        "brand_colour": location.brand_colour if location else "#2f5d50",
        "clinic_timezone": location.timezone if location else "UTC",
        # Phone numbers from this country are shown in their national format.
        "clinic_region": (location.country if location else "") or "GB",
    }
