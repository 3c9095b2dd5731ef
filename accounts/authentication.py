"""`Authorization: Bearer <personal API key>` on the REST API, beside JWTs.

A personal key starts with `pc_` and a JWT never does, so this class answers for every bearer
token with that prefix (a bad one is a 401, never handed to the JWT class) and leaves the rest to
`JWTAuthentication` after it.
"""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts import api_keys, selectors

INVALID_KEY = "Invalid, expired or revoked API key."
AUTH_SCHEME = b"bearer"


def bearer_token(request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    parts = get_authorization_header(request).split()
    if len(parts) != 2 or parts[0].lower() != AUTH_SCHEME:
        return None
    try:
        return parts[1].decode()
    except UnicodeDecodeError:
        return None


class PersonalKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        token = bearer_token(request)
        if token is None or not api_keys.is_personal_key(token):
            return None
        user = selectors.api_key_user(key=token)
        if user is None:
            raise exceptions.AuthenticationFailed(INVALID_KEY, code="invalid_api_key")
        return user, None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
