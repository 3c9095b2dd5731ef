"""API keys at rest: Fernet tokens keyed from settings, so a database dump holds no usable key.

`LLM_ENCRYPTION_KEY` is a comma-separated list of Fernet keys (`Fernet.generate_key()`): the
first encrypts, every one decrypts (`MultiFernet`). Unset, one key is derived from
`SECRET_KEY` with HKDF-SHA256. Rotation: put a new key first, keep the old ones after it, run
`manage.py llm_rotate_keys` (re-encrypts every stored key with the first), then drop the old.
"""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# Fixed salt and context: the derived key must be the same in every process and after restarts.
_HKDF_INFO = b"promptcraft llm connection keys v1"


class SecretUnreadable(ValueError):
    """A stored key that no configured encryption key decrypts (the key list lost one)."""


def _derived_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"promptcraft.llm", info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


@lru_cache(maxsize=4)
def _fernet(configured: str, secret_key: str) -> MultiFernet:
    keys = [key.strip() for key in configured.split(",") if key.strip()] or [_derived_key(secret_key)]
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    """The process's MultiFernet for the settings in force (override_settings included)."""
    return _fernet(settings.LLM_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    """A Fernet token for `plaintext`; empty stays empty (no key set)."""
    return fernet().encrypt(plaintext.encode()).decode() if plaintext else ""


def decrypt(token: str) -> str:
    """The plaintext of a token from `encrypt`; raises SecretUnreadable."""
    if not token:
        return ""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("A stored API key cannot be decrypted with LLM_ENCRYPTION_KEY.") from exc


def rotate(token: str) -> str:
    """The token re-encrypted with the first configured key."""
    return fernet().rotate(token.encode()).decode() if token else ""
