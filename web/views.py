"""Server-rendered pages: shells that load their data from the public API with a JWT held in memory,
and the challenge pages, whose public content (the catalogue, the lessons) is rendered here."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.services import InvalidVerificationLink, email_verify
from accounts.social.protocol import providers_configured
from web.redirects import next_path
from web.selectors import cards_by_track, challenge_catalogue, challenge_facets, challenge_page, widget_board_params

# Every page shell: (template, script module under web/js/pages/, whether the page needs a login).
PAGES: dict[str, tuple[str, str, bool]] = {
    "playground": ("web/playground.html", "playground", True),
    "login": ("web/login.html", "login", False),
    "signup": ("web/signup.html", "signup", False),
    "forgot_password": ("web/forgot_password.html", "forgot_password", False),
    "reset_password": ("web/reset_password.html", "reset_password", False),
    "verify_email": ("web/verify_email.html", "verify_email", False),
    "library": ("web/library.html", "library", True),
    "template_new": ("web/template_edit.html", "template_edit", True),
    "template_detail": ("web/template_detail.html", "template_detail", True),
    "template_edit": ("web/template_edit.html", "template_edit", True),
    "profile": ("web/profile.html", "profile", True),
    "settings": ("web/settings.html", "settings", True),
    "leaderboard": ("web/leaderboard.html", "leaderboard", False),
    "challenges": ("web/challenges.html", "challenges", False),
    "challenge": ("web/challenge_detail.html", "challenge", False),
    "staff_insights": ("web/staff_insights.html", "staff_insights", True),  # the API answers staff only
    "runs": ("web/runs.html", "runs", True),
    "run_detail": ("web/run_detail.html", "run_detail", True),
    "run_compare": ("web/run_compare.html", "run_compare", True),
    "notifications": ("web/notifications.html", "notifications", True),
}

# Pages that send the visitor on to `?next=` once signed in (checked here, read by web/js/auth.js).
SIGN_IN_PAGES = frozenset({"login", "signup"})


def _context(name: str) -> dict:
    _, script, login_required = PAGES[name]
    return {"page": name, "page_script": f"web/js/pages/{script}.js", "login_required": login_required}


def page(name: str):
    """A GET view rendering one page shell (the CSRF cookie is set for the session endpoints)."""
    template = PAGES[name][0]

    @require_GET
    @ensure_csrf_cookie
    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        context = _context(name)
        context.update({key: str(value) for key, value in kwargs.items()})
        if name in SIGN_IN_PAGES:
            context["next_path"] = next_path(request)
            context["social_providers"] = providers_configured(request)
            context["next_query"] = urlencode({"next": context["next_path"]})
        return render(request, template, context)

    view.__name__ = f"{name}_page"
    return view


@require_GET
@ensure_csrf_cookie
def verify_email_page(request: HttpRequest) -> HttpResponse:
    """The link in verification emails: verifies the address it names and says so, signed in or not.

    Verifying is idempotent, so a mail client that fetches the link ahead of its reader does no harm.
    """
    try:
        user = email_verify(token=request.GET.get("token", ""))
    except InvalidVerificationLink:
        context = {**_context("verify_email"), "verified": False}
        return render(request, PAGES["verify_email"][0], context, status=400)
    context = {**_context("verify_email"), "verified": True, "email": user.email}
    return render(request, PAGES["verify_email"][0], context)


@require_GET
@ensure_csrf_cookie
def challenge_list_page(request: HttpRequest) -> HttpResponse:
    """The public catalogue, rendered here; the page's script adds the visitor's solved marks and bests."""
    cards = challenge_catalogue()
    context = {**_context("challenges"), "tracks": cards_by_track(cards), "facets": challenge_facets(cards)}
    return render(request, PAGES["challenges"][0], context)


@require_GET
@ensure_csrf_cookie
def challenge_detail_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A public challenge: its lesson, public cases and the attempt editor (an unknown slug is a 404)."""
    challenge = challenge_page(slug)
    context = {**_context("challenge"), "challenge": challenge, "slug": slug}
    return render(request, PAGES["challenge"][0], context, status=200 if challenge else 404)


@extend_schema(exclude=True)  # a piece of a page, not part of the API
@api_view(["GET"])
def challenge_body(request: Request, slug: str) -> Response:
    """The page body of a challenge the caller may see (their own private one), for its page's script.

    The page itself is rendered for everyone, so it knows only public challenges; an author's
    script asks here, with its bearer token, and shows the same HTML.
    """
    challenge = challenge_page(slug, user=request.user)
    if challenge is None:
        raise NotFound("No challenge matches the given slug.")
    html = render_to_string("web/_challenge.html", {"challenge": challenge}, request=request._request)
    return Response({"title": challenge.card.title, "html": html})


@require_GET
@xframe_options_exempt
def leaderboard_widget_frame(request: HttpRequest) -> HttpResponse:
    """The iframe form of the live leaderboard widget; only the configured origins may frame it."""
    board, size = widget_board_params(request.GET)
    response = render(request, "web/widget_frame.html", {"board": board, "size": size})
    ancestors = " ".join(["'self'", *settings.WIDGET_ALLOWED_ORIGINS])
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response
