"""Every page of the site, listed once.

tests/browser/test_audit.py runs the accessibility audit (axe-core), the phone-width checks and the
theme screenshots on each page of PAGES, in the light and the dark theme. A new page is one line:

    SitePage("runs", "/runs/", "runs-ready"),
    SitePage("run", "/runs/{run_id}/", "run-ready", setup=a_run),

`ready` is the body flag the page's script sets once it has drawn (`runs-ready` for
`<body data-runs-ready="true">`), or any CSS selector. `setup(user=…)` makes what the page needs for
the signed-in learner and returns the values its `path` names; it runs once per test module, with
database access, before the server starts. Pages are visited by one signed-in learner, who is staff
(so that the staff pages open too), unless `guest=True` (the sign-in pages).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

Setup = Callable[..., dict[str, str]]


def a_template(*, user) -> dict[str, str]:
    """A public template of the learner's, with two variables (one, whichever pages ask for it)."""
    from prompts.models import PromptTemplate
    from prompts.services import template_create

    template = PromptTemplate.objects.filter(owner=user, title="Summarise an article").first() or template_create(
        owner=user,
        title="Summarise an article",
        description="A short summary in a chosen number of words.",
        content="Summarise {{ text }} in {{ words }} words.",
        tags=["writing"],
        visibility="public",
    )
    return {"template_id": str(template.pk)}


def a_challenge(*, user) -> dict[str, str]:
    """The built-in challenge of tests/browser/support.py (public cases and hidden ones)."""
    from tests.browser.support import builtin_challenge

    return {"slug": builtin_challenge().slug}


def two_runs(*, user) -> dict[str, str]:
    """Two finished runs of the learner's (a history, a detail and a comparison to show)."""
    from llm.models import LLMRun

    runs = list(LLMRun.objects.filter(user=user).order_by("created_at")[:2])
    for prompt, output in [("Name a colour.", "Blue."), ("Name a fruit.", "A pear.")][len(runs) :]:
        runs.append(
            LLMRun.objects.create(
                user=user,
                model="local:gemma-3-270m",
                prompt=prompt,
                status="completed",
                output=output,
                input_tokens=5,
                output_tokens=3,
                reserved_credits=20,
                cost_credits=1,
                ttft_ms=120,
                latency_ms=900,
            )
        )
    return {"run_a": str(runs[0].pk), "run_b": str(runs[1].pk)}


@dataclass(frozen=True)
class SitePage:
    name: str  # the test id and the screenshots' name
    path: str  # may name values returned by `setup`: "/library/{template_id}/"
    ready: str  # a body flag ("library-ready") or a CSS selector
    setup: Setup | None = None
    guest: bool = False

    @property
    def ready_selector(self) -> str:
        if re.fullmatch(r"[a-z]+(-[a-z]+)*", self.ready):
            return f"body[data-{self.ready}='true']"
        return self.ready


PAGES: list[SitePage] = [
    SitePage("playground", "/", "playground-ready"),
    SitePage("login", "/login/", "ready", guest=True),
    SitePage("signup", "/signup/", "ready", guest=True),
    SitePage("forgot-password", "/forgot-password/", "ready", guest=True),
    SitePage("reset-password", "/reset-password/", "ready", guest=True),
    SitePage("verify-email", "/verify-email/", "ready", guest=True),
    SitePage("library", "/library/", "library-ready", setup=a_template),
    SitePage("template-new", "/library/new/", "editor-ready"),
    SitePage("template", "/library/{template_id}/", "detail-ready", setup=a_template),
    SitePage("template-edit", "/library/{template_id}/edit/", "editor-ready", setup=a_template),
    SitePage("profile", "/profile/", "profile-ready"),
    SitePage("settings", "/settings/", "settings-ready"),
    SitePage("runs", "/runs/", "runs-ready", setup=two_runs),
    SitePage("run", "/runs/{run_a}/", "run-ready", setup=two_runs),
    SitePage("run-compare", "/runs/compare/?a={run_a}&b={run_b}", "compare-ready", setup=two_runs),
    SitePage("notifications", "/notifications/", "notifications-ready"),
    SitePage("leaderboard", "/leaderboard/", "leaderboard-ready"),
    SitePage("challenges", "/challenges/", "challenges-ready", setup=a_challenge),
    SitePage("challenge", "/challenges/{slug}/", "challenge-ready", setup=a_challenge),
    SitePage("staff-insights", "/staff/insights/", "platform-ready"),
    SitePage("widget", "/widgets/leaderboard/", "section.lb[data-updated]"),
]
