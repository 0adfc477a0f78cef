"""The staff inbox over the API and the urgent badge: urgent replies first, filterable, and
visible from every staff page until someone handles them."""

from __future__ import annotations

import pytest

from reminders.models import InboundMessage

pytestmark = pytest.mark.django_db

API = "/api/v1/staff"


@pytest.fixture
def replies(consultation):
    client = consultation.client
    calm = InboundMessage.objects.create(
        from_number=client.phone, provider_sid="SM-1", client=client, body="Thanks!"
    )
    urgent = InboundMessage.objects.create(
        from_number=client.phone,
        provider_sid="SM-2",
        client=client,
        appointment=consultation,
        body="there is pus",
        is_urgent=True,
        red_flags=["infection"],
    )
    return calm, urgent


def test_the_inbox_api_lists_urgent_replies_first_with_their_links(as_reception, replies):
    calm, urgent = replies

    response = as_reception.get(f"{API}/inbox")

    assert response.status_code == 200
    rows = response.json()
    assert [row["id"] for row in rows] == [urgent.id, calm.id]
    assert rows[0]["urgent"] is True
    assert rows[0]["red_flags"] == ["infection"]
    assert rows[0]["client_id"] == urgent.client_id
    assert rows[0]["appointment_id"] == urgent.appointment_id
    assert rows[0]["received_at"].startswith(urgent.created_at.date().isoformat())


def test_the_inbox_api_filters_to_urgent_replies(as_reception, replies):
    _, urgent = replies

    rows = as_reception.get(f"{API}/inbox?urgent=true").json()

    assert [row["id"] for row in rows] == [urgent.id]
    assert [row["urgent"] for row in as_reception.get(f"{API}/inbox?urgent=false").json()] == [
        False
    ]


def test_the_inbox_api_needs_a_staff_role(client, as_stranger, replies):
    assert client.get(f"{API}/inbox").status_code == 401
    assert as_stranger.get(f"{API}/inbox").status_code == 403


def test_every_staff_page_shows_the_urgent_badge_until_the_reply_is_handled(as_reception, replies):
    _, urgent = replies

    calendar = as_reception.get("/staff/").content.decode()
    inbox = as_reception.get("/staff/inbox/").content.decode()

    assert 'data-testid="urgent-badge"' in calendar
    assert "1 urgent" in calendar
    assert "Urgent: Signs of infection" in inbox
    as_reception.post(f"/staff/inbox/{urgent.id}/handle/", {"reply": ""})
    assert 'data-testid="urgent-badge"' not in as_reception.get("/staff/").content.decode()
