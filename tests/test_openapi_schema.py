"""The OpenAPI schema says what the API returns: every error status an operation can answer
is declared with the one error shape, and the main operations carry examples. (Schemathesis
checks the live behaviour against it in ``tests/test_api_contract.py``.)"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/ErrorOut"


@pytest.fixture
def schema(client, settings):
    settings.API_DOCS_PUBLIC = True
    return client.get("/api/v1/openapi.json").json()


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def _declared(operation) -> dict[str, str]:
    return {
        status: response.get("content", {})
        .get("application/json", {})
        .get("schema", {})
        .get("$ref", "")
        for status, response in operation["responses"].items()
    }


def test_every_operation_declares_its_generic_errors_with_the_error_shape(schema):
    missing = []
    for name, operation in _operations(schema):
        declared = _declared(operation)
        expected = set()
        parameters = operation.get("parameters", [])
        if parameters or "requestBody" in operation:
            expected |= {"400", "422"}
        if "requestBody" in operation:
            expected.add("413")
        if any(parameter["in"] == "path" for parameter in parameters):
            expected.add("404")
        if name.split()[1].startswith("/api/v1/staff/"):
            expected |= {"401", "403"}
        for status in sorted(expected):
            if declared.get(status) != ERROR_REF:
                missing.append(f"{name} {status}")
    assert missing == []


def test_error_statuses_all_use_the_one_error_shape(schema):
    others = [
        f"{name} {status}: {reference}"
        for name, operation in _operations(schema)
        for status, reference in _declared(operation).items()
        if int(status) >= 400 and reference != ERROR_REF
    ]
    assert others == []
    assert set(schema["components"]["schemas"]["ErrorOut"]["required"]) == {"error", "message"}


def test_ids_are_bounded_integers_everywhere(schema):
    loose = []
    for name, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["name"].endswith("id") or parameter["name"] in {
                "location",
                "service",
                "practitioner",
            }:
                types = parameter["schema"].get("anyOf", [parameter["schema"]])
                integer = next((t for t in types if t.get("type") == "integer"), None)
                if integer is None or integer.get("maximum") != 2**63 - 1:
                    loose.append(f"{name} {parameter['name']}")
    assert loose == []


def test_the_main_operations_have_examples(schema):
    components = schema["components"]["schemas"]
    assert components["BookingIn"]["examples"]
    assert components["RescheduleIn"]["properties"]["start"]["examples"]
    availability = {
        parameter["name"]: parameter
        for parameter in schema["paths"]["/api/v1/availability"]["get"]["parameters"]
    }
    assert availability["from"]["schema"]["examples"]
    assert availability["to"]["schema"]["examples"]


def test_booking_links_to_what_its_manage_token_opens(schema):
    links = schema["paths"]["/api/v1/bookings"]["post"]["responses"]["201"]["links"]
    assert links["GetBooking"]["parameters"] == {"token": "$response.body#/manage_token"}


def test_an_unknown_api_url_answers_in_the_error_shape(client):
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"


def test_a_body_that_is_not_json_is_422_naming_the_body(client):
    response = client.post("/api/v1/verifications", "{not json", content_type="application/json")

    assert response.status_code == 422
    assert response.json()["field"] == "body"


@pytest.mark.parametrize("body", ["-11519215888617397674835968", "[]", '"text"', "null"])
def test_a_body_that_is_not_a_json_object_is_422_naming_the_body(client, manager, body):
    """Schemathesis' stateful phase found a number accepted as a photo consent (201): a
    schema whose fields all have defaults took it as "nothing given"."""
    from tests import factories

    client.force_login(manager)
    person = factories.ClientFactory()
    response = client.post(
        f"/api/v1/staff/clients/{person.pk}/photo-consent", body, content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["field"] == "body"


def test_a_body_with_a_nul_character_is_422_naming_the_body(client):
    response = client.post(
        "/api/v1/verifications", '{"phone": "+4479\\u0000"}', content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["field"] == "body"


def test_every_schema_name_means_one_schema(schema):
    # Two pydantic classes with one name would share one component, so one operation would
    # document the other's body: the public booking and the staff booking must differ.
    def body_of(path):
        content = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        name = content["schema"]["$ref"].rsplit("/", 1)[-1]
        return set(schema["components"]["schemas"][name]["properties"])

    assert "client" in body_of("/api/v1/bookings")
    assert "client_id" in body_of("/api/v1/staff/appointments")


def test_enums_are_enums(schema):
    components = schema["components"]["schemas"]
    action = components["StatusIn"]["properties"]["action"]
    action = components[action["$ref"].rsplit("/", 1)[-1]] if "$ref" in action else action
    assert set(action["enum"]) == {"confirm", "arrived", "completed", "no_show", "cancel"}


def test_a_nul_character_in_a_query_is_400_naming_the_parameter(client, location):
    response = client.get("/api/v1/practitioners", {"location": "1\x00"})

    assert response.status_code == 400
    assert response.json()["field"] == "location"
