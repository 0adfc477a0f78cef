"""Every index on appointments earns its writes: each booking, status change and reschedule
updates all of them, so none may be a leading part of another (that one serves its lookups)."""

from __future__ import annotations

import pytest
from django.db import connection

from bookings.models import Appointment

pytestmark = pytest.mark.django_db


def test_no_index_on_appointments_is_the_leading_part_of_another():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Appointment._meta.db_table)
    # Plain indexes only: unique ones and the primary key enforce something, and PostgreSQL's
    # exclusion constraints (gist) answer other questions.
    indexes = {
        name: tuple(details["columns"])
        for name, details in constraints.items()
        if details["index"]
        and not details["unique"]
        and not details["primary_key"]
        and details.get("type") in {"btree", "idx"}
    }
    assert indexes
    for name, columns in indexes.items():
        for other, other_columns in indexes.items():
            if other != name and other_columns[: len(columns)] == columns:
                pytest.fail(f"{name} {columns} is the start of {other} {other_columns}")
