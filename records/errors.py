"""Domain errors of treatment records (see clinic.errors for the shape every interface maps)."""

from __future__ import annotations

from clinic.errors import ApplicationError


class PhotoConsentRequired(ApplicationError):
    """The client has no active photo consent, so no photo may be taken or kept."""

    code = "photo_consent_required"
    status = 409


class RecordSigned(ApplicationError):
    """A signed record is corrected only by an amendment with a reason."""

    code = "record_signed"
    status = 409
