"""One error shape everywhere in the API, `{"error": {"code", "message", ...}}`, and a schema that says so."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ERROR_STATUSES = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "429", "503"]


def test_a_validation_error_carries_the_field_errors_inside_the_error_shape(owner_client):
    response = owner_client.post("/api/bots/", {"name": "No slug"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {"slug": ["This field is required."]}
    assert error["message"] == "The request is invalid: slug: This field is required."


def test_an_anonymous_read_is_a_401_in_the_error_shape(api_client):
    response = api_client.get("/api/bots/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.json()["error"]["message"]


def test_a_member_write_is_a_403_in_the_error_shape(member_client):
    response = member_client.post("/api/bots/", {"slug": "x", "name": "X"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_missing_object_is_a_404_in_the_error_shape(member_client):
    response = member_client.get("/api/personas/987654/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_method_not_allowed_is_a_405_in_the_error_shape(owner_client):
    response = owner_client.put("/api/gateway/usage-summary/", {})

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_body_that_is_not_json_is_a_415_or_400_in_the_error_shape(owner_client):
    form = owner_client.generic("POST", "/api/bots/", "slug=x", content_type="application/x-www-form-urlencoded")
    broken = owner_client.generic("POST", "/api/bots/", "{nope", content_type="application/json")

    assert (form.status_code, form.json()["error"]["code"]) == (415, "unsupported_media_type")
    assert (broken.status_code, broken.json()["error"]["code"]) == (400, "parse_error")


@pytest.mark.parametrize(
    ("body", "where", "reason"),
    [
        ('{"disposition": "lurk\\u0000"}', "disposition", "NUL"),
        ('{"slug": "x", "name": "X", "settings": {"tags": ["ok", "\\ud83d"]}}', "settings.tags[1]", "surrogate"),
        ('{"slug": "x", "name": "X", "settings": {"a\\u0000b": 1}}', "settings.a\x00b", "NUL"),
    ],
)
def test_text_postgresql_cannot_store_is_a_400_naming_where_it_is(owner_client, body, where, reason):
    path = "/api/persona-weights/" if "disposition" in body else "/api/bots/"

    response = owner_client.generic("POST", path, body, content_type="application/json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [where]
    assert reason in error["fields"][where][0]


@pytest.mark.parametrize("path", ["/api/no-such-thing/", "/api/bots/not%20a%20slug/settings/", "/v1/nothing"])
def test_an_unknown_path_under_the_api_is_a_json_404(path):
    response = Client().get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_every_operation_documents_the_error_shape_for_each_error_status(member_client):
    schema = member_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) > 30
    for path, method, operation in operations:
        for status in ERROR_STATUSES:
            content = operation["responses"][status]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}, (path, method, status)


@pytest.mark.parametrize(
    "path",
    ["/api/bots/a%00/", "/api/persona-weights/?disposition=%00", "/api/decisions/?a%00=1", "/v1/models%00"],
)
def test_a_nul_in_the_url_is_a_400_in_the_error_shape(owner_client, path):
    response = owner_client.get(path)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "NUL" in response.json()["error"]["message"]


def test_a_nul_in_an_admin_url_is_a_plain_400(admin_client):
    response = admin_client.get("/admin/bots/bot/?q=%00")

    assert response.status_code == 400
    assert b"NUL" in response.content
