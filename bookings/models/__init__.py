from __future__ import annotations

from bookings.models.appointments import ACTIVE_STATUSES, Appointment, AppointmentEvent
from bookings.models.clients import Client, ClientChange

__all__ = ["ACTIVE_STATUSES", "Appointment", "AppointmentEvent", "Client", "ClientChange"]
from bookings.models.verification import PhoneVerification  # noqa: E402

__all__ += ["PhoneVerification"]
from bookings.models.consultations import (  # noqa: E402
    ApiToken,
    ConsentFormVersion,
    Consultation,
    HealthDataAccess,
    HealthRecheck,
    ScreeningAnswerRule,
    ScreeningQuestion,
)

__all__ += [
    "ApiToken",
    "ConsentFormVersion",
    "Consultation",
    "HealthDataAccess",
    "HealthRecheck",
    "ScreeningAnswerRule",
    "ScreeningQuestion",
]
from bookings.models.calendar_feeds import CalendarFeedToken  # noqa: E402

__all__ += ["CalendarFeedToken"]
