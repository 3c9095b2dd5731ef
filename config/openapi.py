"""The API's OpenAPI schema: drf-spectacular's, plus the error answers each operation can give.

Views document their success answers (and some errors) with `extend_schema`; the errors that come
from the API's machinery rather than a view are added here to every operation they can reach, in
the shapes of config.exceptions, unless the view documents that code itself: 400 where there is a
body or a query to reject, 415 where there is a body, 401 where a credential is read, 403 where a
permission beyond signing in or a CSRF check runs, 404 where a path names an object or a page is
asked for, 429 where a throttle applies (with `Retry-After`).
"""

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated

from accounts.serializers import DetailSerializer

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
FIELD_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='Bad input: field errors `{"field": ["message"]}`, or `{"detail", "code"}`.',
)
NOT_AUTHENTICATED = OpenApiResponse(DetailSerializer, description="Not authenticated, or a credential is not valid.")
FORBIDDEN = OpenApiResponse(DetailSerializer, description="Not allowed (a permission, or CSRF for a session).")
NOT_FOUND = OpenApiResponse(DetailSerializer, description="No such object or page, or not yours to see.")
THROTTLED = OpenApiResponse(DetailSerializer, description="Throttled; see the `Retry-After` header.")
UNSUPPORTED = OpenApiResponse(DetailSerializer, description="A body the API cannot parse as any of its media types.")
# The OpenAI-compatible endpoint answers every error in OpenAI's shape.
OPENAI_PREFIX = "/v1/"
OPENAI_ERROR = OpenApiResponse(
    OpenApiTypes.OBJECT, description='OpenAI\'s error shape: `{"error": {"message", "type", "param", "code"}}`.'
)


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code, response in self._error_responses(operation):
            if path.startswith(OPENAI_PREFIX):
                response = OpenApiResponse(OPENAI_ERROR.response, description=response.description)
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code)
        if "429" in responses:
            responses["429"].setdefault("headers", {})["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before trying again.",
            }
        return operation

    def _error_responses(self, operation: dict) -> list[tuple[str, OpenApiResponse]]:
        parameters = operation.get("parameters", [])
        query = [p for p in parameters if p.get("in") == "query"]
        authenticators = self.view.get_authenticators()
        permissions = self.view.get_permissions()
        errors = []
        if "requestBody" in operation or query:
            errors.append(("400", FIELD_ERRORS))
        if "requestBody" in operation:
            errors.append(("415", UNSUPPORTED))
        if authenticators:
            errors.append(("401", NOT_AUTHENTICATED))
        csrf = self.method in UNSAFE_METHODS and any(isinstance(a, SessionAuthentication) for a in authenticators)
        # A failed IsAuthenticated is the 401 above (the token authenticator names its scheme).
        if csrf or any(type(p) not in (AllowAny, IsAuthenticated) for p in permissions):
            errors.append(("403", FORBIDDEN))
        if any(p.get("in") == "path" for p in parameters) or any(p["name"] == "page" for p in query):
            errors.append(("404", NOT_FOUND))
        if self.view.get_throttles():
            errors.append(("429", THROTTLED))
        return errors
