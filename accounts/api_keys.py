"""Personal API keys: their format, and the hash they are stored and found by.

A key is `pc_` and 43 URL-safe characters (32 random bytes). Like GitHub's tokens it is random
enough that a plain SHA-256 is a safe stored form: the key is found by its hash, so no key is
ever compared character by character, and a leaked table gives nobody a usable key.
"""

import hashlib
import secrets

KEY_PREFIX = "pc_"
KEY_RANDOM_BYTES = 32
SHOWN_PREFIX_CHARS = 11  # `pc_` and 8 random characters: enough to tell one's keys apart


def key_generate() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_shown_prefix(key: str) -> str:
    return key[:SHOWN_PREFIX_CHARS]


def is_personal_key(token: str) -> bool:
    """Whether a bearer token is meant as a personal key (a JWT never starts with `pc_`)."""
    return token.startswith(KEY_PREFIX)
