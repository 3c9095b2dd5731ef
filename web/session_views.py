"""`/session/…`: keep the refresh token in an HttpOnly cookie and hand the page fresh access tokens."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_POST

from core import safe_json
from web.services import SessionInvalid, session_check, session_close, session_refresh

COOKIE_NAME = "pc_refresh"
COOKIE_PATH = "/session/"


def _set_cookie(request: HttpRequest, response: HttpResponse, refresh: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        refresh,
        max_age=int(settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds()),
        path=COOKIE_PATH,
        secure=request.is_secure(),
        httponly=True,
        samesite="Strict",
    )


def _unauthenticated(message: str, code: str = "not_authenticated") -> JsonResponse:
    # The cookie is left alone: when two tabs refresh at once, the loser's 401 must not delete the
    # new token the winner's answer has just stored (the page retries once with it).
    return JsonResponse({"detail": message, "code": code}, status=401)


@require_POST
def session_open(request: HttpRequest) -> JsonResponse:
    """Store the refresh token from a login/registration answer in the cookie."""
    try:
        body = safe_json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"detail": "The body is not valid JSON.", "code": "parse_error"}, status=400)
    refresh = body.get("refresh") if isinstance(body, dict) else None
    try:
        refresh = session_check(refresh=refresh)
    except SessionInvalid as exc:
        return _unauthenticated(str(exc))
    response = JsonResponse({"ok": True})
    _set_cookie(request, response, refresh)
    return response


@require_POST
def session_token(request: HttpRequest) -> JsonResponse:
    """A fresh access token from the cookie's refresh token (rotated when it is old)."""
    if not request.COOKIES.get(COOKIE_NAME):
        return _unauthenticated("Not logged in.", code="no_session")
    try:
        access, refresh = session_refresh(refresh=request.COOKIES[COOKIE_NAME])
    except SessionInvalid as exc:
        return _unauthenticated(str(exc))
    response = JsonResponse({"access": access})
    _set_cookie(request, response, refresh)
    return response


@require_POST
def session_end(request: HttpRequest) -> HttpResponse:
    """Log out: blacklist the refresh token and drop the cookie."""
    refresh = request.COOKIES.get(COOKIE_NAME)
    if refresh:
        session_close(refresh=refresh)
    response = HttpResponse(status=205)
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, samesite="Strict")
    return response
