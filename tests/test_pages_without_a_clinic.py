"""A fresh install has no Location yet: public pages must still render, not crash."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "status"), [("/b/not-a-token/", 404), ("/book/", 200), ("/healthz", 200)]
)
def test_public_pages_render_before_any_location_exists(client, path, status):
    response = client.get(path)
    assert response.status_code == status
