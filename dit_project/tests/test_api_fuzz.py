"""A property-based fuzz of the API from its own OpenAPI schema (schemathesis), as staff over JWT.

Every operation of /api/schema/ gets generated requests (bounded by MAX_EXAMPLES, so the whole run stays
within about a minute); no answer may be a 5xx, and every answer must match what the schema documents:
its status, its content type and its body.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bots.services import manifest_load_file
from dit_project.devstack import EXAMPLE_MANIFEST
from dit_project.wsgi import application

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def keep_test_connection(db):
    """Requests run in this thread, inside the test's transaction; the WSGI handler must not close the
    connection at the end of each request (Django's test client disconnects the same handler)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(keep_test_connection):
    """The schema the API serves, loaded through the WSGI application itself (requests never leave the process)."""
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def staff_headers(owner, settings):
    """A staff JWT, some data to find (the default persona, the example bot), and throttles of this test's own."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"fuzz-{owner.pk}"}}
    call_command("loaddata", "default_persona", verbosity=0)
    manifest_load_file(path=EXAMPLE_MANIFEST)
    return {"Authorization": f"Bearer {AccessToken.for_user(owner)}"}


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_no_api_operation_answers_a_server_error_or_contradicts_its_schema(case, staff_headers):
    case.call_and_validate(headers=staff_headers, checks=CHECKS)
