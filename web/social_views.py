"""`/social/<provider>/…`: the browser's round trip to a sign-in provider.

`login/` (a link on the sign-in pages), `link/` (the profile page's "Link …" button, with the
page's bearer token: the account's owner is signed in) and `reauth/` (the settings page's "Confirm
with …" before deleting an account without a password, also with the bearer token) keep a
one-time `state` in the Django session with the PKCE verifier and what to do on return, then send
the browser to the provider.
`callback/` accepts only a state this browser's session holds, for this provider, once; then signs
in (the refresh token goes into the HttpOnly session cookie, as after a password login) or links.
A re-authentication comes back to the settings page with a deletion confirmation in the URL's
fragment (never sent to a server or in a Referer). Failures come back to the sign-in, profile or
settings page as `?social_error=<code>`.
"""

import secrets
import time
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.privacy import confirmation_make
from accounts.selectors import social_links, user_find_by_id
from accounts.social import protocol
from accounts.social.services import SocialRefused, social_link, social_sign_in
from web.redirects import next_path
from web.session_views import _set_cookie

SESSION_KEY = "social_flows"
FLOW_MAX_AGE_SECONDS = 10 * 60
FLOWS_KEPT = 5  # a few tabs at once; older flows are dropped


def _callback_uri(request: HttpRequest, provider: str) -> str:
    return request.build_absolute_uri(reverse("web:social_callback", args=[provider]))


def _begin(request: HttpRequest, provider: str, flow: dict) -> str:
    """Store a new flow under a fresh state and return the provider's authorization URL."""
    state = secrets.token_urlsafe(32)
    authorization = protocol.authorization_start(
        request=request, provider_id=provider, redirect_uri=_callback_uri(request, provider), state=state
    )
    flows = {
        key: value
        for key, value in request.session.get(SESSION_KEY, {}).items()
        if value["at"] > time.time() - FLOW_MAX_AGE_SECONDS
    }
    flows[state] = {**flow, "provider": provider, "verifier": authorization.code_verifier, "at": time.time()}
    request.session[SESSION_KEY] = dict(sorted(flows.items(), key=lambda item: item[1]["at"])[-FLOWS_KEPT:])
    return authorization.url


def _take(request: HttpRequest, state: str) -> dict | None:
    """The flow this state names, removed from the session (a state works once)."""
    flows = dict(request.session.get(SESSION_KEY, {}))
    flow = flows.pop(state, None) if state else None
    request.session[SESSION_KEY] = flows
    if flow is None or flow["at"] < time.time() - FLOW_MAX_AGE_SECONDS:
        return None
    return flow


def _back(path: str, **params: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{path}?{urlencode(params)}")


@require_GET
def social_login_start(request: HttpRequest, provider: str) -> HttpResponse:
    """Send the browser to the provider to sign in (or sign up); it comes back to `callback/`."""
    try:
        url = _begin(request, provider, {"process": "login", "next": next_path(request)})
    except protocol.UnknownProvider:
        return _back(reverse("web:login"), social_error="unknown_provider")
    except protocol.ProviderRefused as exc:
        return _back(reverse("web:login"), social_error=exc.code)
    return HttpResponseRedirect(url)


# The pages a link round trip may come back to (`?back=`); the profile unless another is named.
LINK_BACK_PAGES = {"profile": "web:profile", "settings": "web:settings"}


def _start_for_user(request: Request, provider: str, process: str) -> Response:
    back = LINK_BACK_PAGES.get(request.query_params.get("back", ""), "web:profile")
    flow = {"process": process, "user_id": str(request.user.pk), "back": back}
    try:
        url = _begin(request._request, provider, flow)
    except protocol.UnknownProvider:
        raise NotFound("No such sign-in provider.") from None
    except protocol.ProviderRefused as exc:
        raise ValidationError({"detail": exc.message, "code": exc.code}) from None
    return Response({"url": url})


@extend_schema(exclude=True)  # a step of the profile page, not part of the API
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def social_link_start(request: Request, provider: str) -> Response:
    """The authorization URL for linking `provider` to the signed-in caller (the page then goes there)."""
    return _start_for_user(request, provider, "link")


@extend_schema(exclude=True)  # a step of the settings page, not part of the API
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def social_reauth_start(request: Request, provider: str) -> Response:
    """The authorization URL for the caller to prove, with a linked provider, that they are here now."""
    return _start_for_user(request, provider, "reauth")


def _reauth_done(flow: dict, identity: protocol.ProviderIdentity, page: str) -> HttpResponseRedirect:
    user = user_find_by_id(user_id=flow["user_id"])
    if user is None or not user.is_active:
        return _back(reverse("web:login"), social_error="invalid_state")
    if not any(link.provider == identity.provider and link.uid == identity.uid for link in social_links(user=user)):
        return _back(page, social_error="not_linked")
    token = confirmation_make(user=user, provider=identity.provider, uid=identity.uid)
    return HttpResponseRedirect(f"{page}#{urlencode({'delete_confirmation': token})}")


@require_GET
def social_callback(request: HttpRequest, provider: str) -> HttpResponse:
    """The provider's redirect back: check the state, exchange the code, then sign in or link."""
    flow = _take(request, request.GET.get("state", ""))
    if flow is None or flow["provider"] != provider:
        return _back(reverse("web:login"), social_error="invalid_state")
    linking = flow["process"] == "link"
    reauth = flow["process"] == "reauth"
    if linking:
        page = reverse(flow.get("back", "web:profile"))
    else:
        page = reverse("web:settings") if reauth else reverse("web:login")
    if "code" not in request.GET:
        cancelled = request.GET.get("error") == "access_denied"
        return _back(page, social_error="cancelled" if cancelled else "provider_error")
    try:
        identity = protocol.identity_from_code(
            request=request,
            provider_id=provider,
            code=request.GET["code"],
            redirect_uri=_callback_uri(request, provider),
            code_verifier=flow["verifier"],
        )
        if reauth:
            return _reauth_done(flow, identity, page)
        if linking:
            user = user_find_by_id(user_id=flow["user_id"])
            if user is None or not user.is_active:
                return _back(reverse("web:login"), social_error="invalid_state")
            social_link(user=user, identity=identity)
            return _back(page, linked=provider)
        _, pair, _ = social_sign_in(identity=identity)
    except (protocol.UnknownProvider, protocol.ProviderRefused, SocialRefused) as exc:
        return _back(page, social_error=getattr(exc, "code", "unknown_provider"))
    response = HttpResponseRedirect(flow["next"])
    _set_cookie(request, response, pair.refresh)
    return response
