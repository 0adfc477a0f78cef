"""The client's own rating of a course's results."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from bookings.models import Client
from clinic.errors import ValidationFailed
from clinic.models import Service
from records.models import CourseRating


def course_rating_record(
    *,
    client: Client,
    service: Service,
    rating: int,
    via: str = CourseRating.Via.SMS,
    rated_at: datetime | None = None,
) -> CourseRating:
    """Store a rating from 1 to 5. Raises ValidationFailed(field="rating")."""
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed("Give a rating from 1 to 5.", field="rating")
    return CourseRating.objects.create(
        client=client, service=service, rating=rating, via=via, rated_at=rated_at or timezone.now()
    )
