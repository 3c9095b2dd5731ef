"""Every operation of the OpenAPI schema, fuzzed from the schema itself with a signed-in user's token.

Schemathesis reads GET /api/v1/schema/ from the WSGI application in this process and generates
requests for each operation: the schema's examples, its boundaries (the coverage phase) and random
bodies in every media type the operation accepts (JSON, form, multipart). Each answer must be below
500, have a status code the schema documents for the operation, and match that code's response
schema. Runs stream from an in-process scripted model, so no provider is called.
"""

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.llm.runs_support import ScriptedProvider, serving_test_model

pytestmark = pytest.mark.django_db

# Bounded so the whole file runs in a minute or two on 2 busy cores; fixed, so a failure repeats.
EXAMPLES_PER_OPERATION = 15
# What an answer must satisfy. Schemathesis' checks that guess whether a request should have been
# accepted from the schema alone (a well-formed id that names nothing is a 404, not a schema bug) are
# left out; a request the API takes or refuses is still held to these.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())


@pytest.fixture
def token(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


@pytest.fixture(autouse=True)
def _requests_keep_the_test_connection():
    """Requests share the test's transaction, as under Django's test client (which does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _scripted_model():
    with serving_test_model(ScriptedProvider()):
        yield


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation_answers_as_its_schema_says(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
