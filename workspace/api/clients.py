"""Staff API: find clients, read a client's page, register a client taken on the phone."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Router, Schema, Status

from bookings.auth import staff_auth
from bookings.selectors.staff import client_overview, clients_search
from bookings.services.staff_clients import client_register_by_staff
from clinic.api import error_responses
from clinic.http import ApiRequest
from clinic.parsing import ApiBool, Id, SearchText
from workspace.api.appointments import StaffAppointmentOut, _location, appointment_out

router = Router(auth=staff_auth, tags=["staff"])


class ClientOut(Schema):
    id: int
    first_name: str
    last_name: str
    full_name: str
    phone: str
    email: str
    can_receive_sms: bool
    sms_consent_at: datetime | None
    sms_opted_out_at: datetime | None
    can_receive_email: bool
    email_consent_at: datetime | None
    email_opted_out_at: datetime | None


class CourseOut(Schema):
    service_id: int
    service_name: str
    current_session: int
    course_size: int
    sessions_done: int
    next_due_on: date | None


class ConsultationStatusOut(Schema):
    outcome: str
    valid_until: date | None
    not_before: date | None
    is_valid_clearance: bool
    cleared_services: list[str]


class ClientDetailOut(Schema):
    client: ClientOut
    upcoming: list[StaffAppointmentOut]
    past: list[StaffAppointmentOut]
    courses: list[CourseOut]
    consultation: ConsultationStatusOut | None


class StaffClientIn(Schema):
    first_name: str = Field(..., max_length=80, examples=["Maya"])
    last_name: str = Field("", max_length=80, examples=["Okafor"])
    phone: str = Field(..., max_length=32, examples=["07911 123456"])
    email: str = Field("", max_length=254)
    sms_consent: ApiBool = Field(False, description="The client agreed on the phone to texts")
    location_id: Id | None = None


def client_out(client) -> dict:
    return {
        "id": client.id,
        "first_name": client.first_name,
        "last_name": client.last_name,
        "full_name": client.full_name,
        "phone": client.phone,
        "email": client.email,
        "can_receive_sms": client.can_receive_sms,
        "sms_consent_at": client.sms_consent_at,
        "sms_opted_out_at": client.sms_opted_out_at,
        "can_receive_email": client.can_receive_email,
        "email_consent_at": client.email_consent_at,
        "email_opted_out_at": client.email_opted_out_at,
    }


@router.get("/clients", response=list[ClientOut], tags=["staff"])
def search_clients(request: ApiRequest, q: SearchText = ""):
    """Clients matching a name or phone number (digits compared, so any formatting works)."""
    return [client_out(client) for client in clients_search(actor=request.auth, query=q)]


@router.get("/clients/{client_id}", response=ClientDetailOut, tags=["staff"])
def get_client(request: ApiRequest, client_id: Id):
    overview = client_overview(actor=request.auth, client_id=client_id)
    consultation = overview.consultation
    return {
        "client": client_out(overview.client),
        "upcoming": [appointment_out(a, actor=request.auth) for a in overview.upcoming],
        "past": [appointment_out(a, actor=request.auth) for a in overview.past],
        "courses": [
            {
                "service_id": course.service.id,
                "service_name": course.service.name,
                "current_session": course.current_session,
                "course_size": course.course_size,
                "sessions_done": course.sessions_done,
                "next_due_on": course.next_due_on,
            }
            for course in overview.courses
        ],
        "consultation": None
        if consultation is None
        else {
            "outcome": consultation.outcome,
            "valid_until": consultation.valid_until,
            "not_before": consultation.not_before,
            "is_valid_clearance": consultation.is_valid_clearance,
            "cleared_services": list(consultation.cleared_service_names),
        },
    }


@router.post("/clients", response={201: ClientOut, **error_responses(404, 409)}, tags=["staff"])
def create_client(request: ApiRequest, payload: StaffClientIn):
    """Register a client taken on the phone; consent recorded as ``staff_phone``."""
    client = client_register_by_staff(
        actor=request.auth,
        first_name=payload.first_name,
        last_name=payload.last_name,
        phone=payload.phone,
        email=payload.email,
        sms_consent=payload.sms_consent,
        location=_location(payload.location_id),
    )
    return Status(201, client_out(client))
