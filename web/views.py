"""Server-rendered page shells; the pages load their data from the public API with a JWT held in memory."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from web.selectors import widget_board_params

# Every page shell: (template, script module under web/js/pages/, whether the page needs a login).
PAGES: dict[str, tuple[str, str, bool]] = {
    "playground": ("web/playground.html", "playground", True),
    "login": ("web/login.html", "login", False),
    "signup": ("web/signup.html", "signup", False),
    "forgot_password": ("web/forgot_password.html", "forgot_password", False),
    "reset_password": ("web/reset_password.html", "reset_password", False),
    "library": ("web/library.html", "library", True),
    "template_new": ("web/template_edit.html", "template_edit", True),
    "template_detail": ("web/template_detail.html", "template_detail", True),
    "template_edit": ("web/template_edit.html", "template_edit", True),
    "profile": ("web/profile.html", "profile", True),
    "leaderboard": ("web/leaderboard.html", "leaderboard", False),
}


def page(name: str):
    """A GET view rendering one page shell (the CSRF cookie is set for the session endpoints)."""
    template, script, login_required = PAGES[name]

    @require_GET
    @ensure_csrf_cookie
    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        context = {"page": name, "page_script": f"web/js/pages/{script}.js", "login_required": login_required}
        context.update({key: str(value) for key, value in kwargs.items()})
        return render(request, template, context)

    view.__name__ = f"{name}_page"
    return view


@require_GET
@xframe_options_exempt
def leaderboard_widget_frame(request: HttpRequest) -> HttpResponse:
    """The iframe form of the live leaderboard widget; only the configured origins may frame it."""
    board, size = widget_board_params(request.GET)
    response = render(request, "web/widget_frame.html", {"board": board, "size": size})
    ancestors = " ".join(["'self'", *settings.WIDGET_ALLOWED_ORIGINS])
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response
