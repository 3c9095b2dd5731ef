"""The provider side of social sign-in, through allauth's provider classes: no database writes here.

allauth knows each provider's endpoints, scopes and profile shape, exchanges codes (with PKCE),
and verifies ID tokens (signature against the provider's JWKS, issuer, audience, expiry, and a
`jti` seen once). What the accounts do with the identity is `accounts.social.services`'.
"""

from dataclasses import dataclass, field
from typing import Any

import requests
from allauth.core.internal.deferred import jwt
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base import ProviderException
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.utils import generate_code_challenge
from django.core.exceptions import ValidationError
from django.http import HttpRequest


class UnknownProvider(Exception):
    """No configured provider has this id."""


class ProviderRefused(Exception):
    """The provider or its answer was not accepted (`code` says why: invalid_code, invalid_token, provider_error)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ProviderInfo:
    id: str
    name: str


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says signed in. `email_verified` is the provider's own word for `email`."""

    provider: str
    uid: str
    email: str
    email_verified: bool
    username: str = ""
    first_name: str = ""
    last_name: str = ""
    extra_data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and the PKCE verifier to keep for the code exchange."""

    url: str
    code_verifier: str | None


def providers_configured(request: HttpRequest | None = None) -> list[ProviderInfo]:
    """Every provider the settings configure, in settings order."""
    return [ProviderInfo(id=p.sub_id, name=p.name) for p in get_adapter().list_providers(request)]


def _provider(request: HttpRequest, provider_id: str):
    if not provider_id or provider_id not in {p.id for p in providers_configured(request)}:
        raise UnknownProvider(provider_id)
    try:
        return get_adapter().get_provider(request, provider_id)
    except SocialApp.DoesNotExist:
        raise UnknownProvider(provider_id) from None


def _client(request: HttpRequest, provider, adapter, redirect_uri: str):
    """allauth's OAuth2 client for this provider with our redirect URI (allauth's own URLs are not mounted)."""
    return adapter.client_class(
        request,
        provider.app.client_id,
        provider.app.secret,
        adapter.access_token_method,
        adapter.access_token_url,
        redirect_uri,
        scope_delimiter=adapter.scope_delimiter,
        headers=adapter.headers,
        basic_auth=adapter.basic_auth,
    )


def _identity(sociallogin) -> ProviderIdentity:
    verified = {a.email.lower() for a in sociallogin.email_addresses if a.verified}
    email = sociallogin.user.email or ""
    return ProviderIdentity(
        provider=sociallogin.account.provider,
        uid=sociallogin.account.uid,
        email=email,
        email_verified=bool(email) and email.lower() in verified,
        username=sociallogin.user.username or "",
        first_name=(sociallogin.user.first_name or "")[:150],
        last_name=(sociallogin.user.last_name or "")[:150],
        extra_data=sociallogin.account.extra_data or {},
    )


def authorization_start(*, request: HttpRequest, provider_id: str, redirect_uri: str, state: str) -> Authorization:
    """The provider's authorization URL for this redirect URI and state, with a PKCE challenge."""
    provider = _provider(request, provider_id)
    adapter = provider.get_oauth2_adapter(request)
    try:
        client = _client(request, provider, adapter, redirect_uri)
        client.state = state
        params = provider.get_auth_params()
        pkce = generate_code_challenge()
        verifier = pkce.pop("code_verifier")
        params.update(pkce)
        url = client.get_redirect_url(adapter.authorize_url, provider.get_scope(), params)
    except (OAuth2Error, requests.RequestException, KeyError, ValueError) as exc:
        raise ProviderRefused("provider_error", "The provider cannot be reached.") from exc
    return Authorization(url=url, code_verifier=verifier)


def identity_from_code(
    *, request: HttpRequest, provider_id: str, code: str, redirect_uri: str, code_verifier: str | None = None
) -> ProviderIdentity:
    """Exchange an authorization code at the provider's token endpoint and read who signed in."""
    provider = _provider(request, provider_id)
    adapter = provider.get_oauth2_adapter(request)
    try:
        client = _client(request, provider, adapter, redirect_uri)
        token_data = client.get_access_token(code, pkce_code_verifier=code_verifier or None)
    except OAuth2Error as exc:
        raise ProviderRefused("invalid_code", "The provider did not accept this authorization code.") from exc
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise ProviderRefused("provider_error", "The provider cannot be reached.") from exc
    adapter.did_fetch_access_token = True  # straight from the token endpoint over TLS (OIDC Core 3.1.3.7)
    try:
        token = adapter.parse_token(token_data)
        token.app = provider.app
        sociallogin = adapter.complete_login(request, provider.app, token, response=token_data)
    except (OAuth2Error, ProviderException, jwt.PyJWTError) as exc:
        raise ProviderRefused("invalid_token", "The provider's answer could not be verified.") from exc
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise ProviderRefused("provider_error", "The provider's answer could not be read.") from exc
    return _identity(sociallogin)


def identity_from_id_token(*, request: HttpRequest, provider_id: str, id_token: str) -> ProviderIdentity:
    """Verify an ID token the client got from the provider (signature, issuer, audience, expiry, one use)."""
    provider = _provider(request, provider_id)
    if not getattr(provider, "supports_token_authentication", False) or not hasattr(provider, "verify_token"):
        raise ProviderRefused("invalid_token", "This provider does not sign in with an ID token; send a code.")
    try:
        sociallogin = provider.verify_token(request, {"id_token": id_token})
    except (ValidationError, OAuth2Error, ProviderException, jwt.PyJWTError) as exc:
        raise ProviderRefused("invalid_token", "The ID token is not valid for this site.") from exc
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise ProviderRefused("invalid_token", "The ID token could not be verified.") from exc
    return _identity(sociallogin)
