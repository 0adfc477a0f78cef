from __future__ import annotations

from bookings.models.appointments import ACTIVE_STATUSES, Appointment, AppointmentEvent
from bookings.models.calendar_feeds import CalendarFeedToken
from bookings.models.clients import Client, ClientChange
from bookings.models.consultations import (
    ApiToken,
    ConsentFormVersion,
    Consultation,
    HealthDataAccess,
    HealthRecheck,
    ScreeningAnswerRule,
    ScreeningQuestion,
)
from bookings.models.data_protection import DataProtectionAction
from bookings.models.verification import PhoneVerification

__all__ = [
    "ACTIVE_STATUSES",
    "ApiToken",
    "Appointment",
    "AppointmentEvent",
    "CalendarFeedToken",
    "Client",
    "ClientChange",
    "ConsentFormVersion",
    "Consultation",
    "DataProtectionAction",
    "HealthDataAccess",
    "HealthRecheck",
    "PhoneVerification",
    "ScreeningAnswerRule",
    "ScreeningQuestion",
]
