"""Social sign-in providers from the environment, as allauth's `SOCIALACCOUNT_PROVIDERS` apps.

GitHub and Google each need a client id and secret; any OpenID Connect provider is named in
`SOCIAL_OIDC_PROVIDERS` (ids, comma-separated) and described by `SOCIAL_OIDC_<ID>_NAME`,
`_CLIENT_ID`, `_SECRET` and `_ISSUER` (its discovery document is `<issuer>/.well-known/openid-configuration`).
A provider without a client id is off.
"""

import re
from typing import Any

from config.env import env_list, env_str

# Provider ids appear in URLs (auth/social/<id>/) and must not shadow the built-in ones.
PROVIDER_ID = re.compile(r"^[a-z][a-z0-9-]{0,29}$")
BUILT_IN = ("github", "google")


def _app(client_id: str, secret: str, **extra: Any) -> dict:
    return {"client_id": client_id, "secret": secret, **extra}


def social_providers_from_env() -> dict[str, dict]:
    """allauth's provider settings for every provider the environment configures."""
    providers: dict[str, dict] = {}
    if client_id := env_str("SOCIAL_GITHUB_CLIENT_ID"):
        providers["github"] = {
            "APPS": [_app(client_id, env_str("SOCIAL_GITHUB_SECRET"))],
            "SCOPE": ["read:user", "user:email"],
            "VERIFIED_EMAIL": False,  # the address's own `verified` flag from GitHub decides
        }
    if client_id := env_str("SOCIAL_GOOGLE_CLIENT_ID"):
        providers["google"] = {
            "APPS": [_app(client_id, env_str("SOCIAL_GOOGLE_SECRET"))],
            "SCOPE": ["openid", "profile", "email"],
            "OAUTH_PKCE_ENABLED": True,
        }
    oidc_apps = []
    for provider_id in env_list("SOCIAL_OIDC_PROVIDERS", []):
        provider_id = provider_id.lower()
        if not PROVIDER_ID.match(provider_id) or provider_id in BUILT_IN:
            raise ValueError(f"SOCIAL_OIDC_PROVIDERS: {provider_id!r} is not a usable provider id")
        prefix = f"SOCIAL_OIDC_{provider_id.upper().replace('-', '_')}_"
        client_id, issuer = env_str(prefix + "CLIENT_ID"), env_str(prefix + "ISSUER")
        if not client_id or not issuer:
            raise ValueError(f"{prefix}CLIENT_ID and {prefix}ISSUER are required for {provider_id!r}")
        oidc_apps.append(
            oidc_app(provider_id, env_str(prefix + "NAME", provider_id), client_id, env_str(prefix + "SECRET"), issuer)
        )
    if oidc_apps:
        providers["openid_connect"] = {"APPS": oidc_apps, "OAUTH_PKCE_ENABLED": True}
    return providers


def oidc_app(provider_id: str, name: str, client_id: str, secret: str, issuer: str) -> dict:
    """One OpenID Connect provider's app entry (also used by the tests' fake provider)."""
    return _app(
        client_id,
        secret,
        provider_id=provider_id,
        name=name,
        settings={"server_url": issuer.rstrip("/"), "oauth_pkce_enabled": True},
    )
