"""The OpenAPI security scheme of personal API keys (drf-spectacular finds it once imported)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PersonalKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.PersonalKeyAuthentication"
    name = "personalApiKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API key (`pc_…`), created at `auth/api-keys/`.",
        }
