"""Signed, expiring email verification tokens: which account, and the address the link was sent to.

The token is Django's signing of `{user id, email}` with a salt of its own and a timestamp, so it
needs no table: it expires after EMAIL_VERIFICATION_TIMEOUT seconds, verifying again with it
changes nothing, and a link sent to an address the account no longer has proves nothing.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing

SALT = "accounts.email-verification"


@dataclass(frozen=True)
class EmailClaim:
    user_id: str
    email: str


def token_make(*, user_id, email: str) -> str:
    return signing.dumps({"u": str(user_id), "e": email.lower()}, salt=SALT)


def token_read(token: str) -> EmailClaim | None:
    """The claim of a well-signed, unexpired token, else None."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.EMAIL_VERIFICATION_TIMEOUT)
    except (signing.BadSignature, ValueError, TypeError):  # SignatureExpired is a BadSignature
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("e"), str):
        return None
    return EmailClaim(user_id=data["u"], email=data["e"])
