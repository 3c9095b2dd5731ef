"""The writes that change what an insights document reads, each touching its scopes (`insights.freshness`).

Receivers of the lower apps' model signals (and of the two they send for bulk writes), connected
in `InsightsConfig.ready`; no lower app knows insights. What no signal reports is covered by a
signal in the same transaction: an attempt's graded samples and a template's rating and
favourite counters change with the Attempt, Rating or Favorite row they belong to.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save

from challenges.models import Attempt, Challenge, ChallengeVersion
from game.models import CreditEntry, PlayerStats, XPEvent
from insights import freshness
from llm.models import LLMRun
from llm.signals import runs_created
from prompts.models import Favorite, PromptTemplate, Rating
from prompts.signals import template_counted


def _run_scopes(run: LLMRun) -> list[str]:
    scopes = [freshness.user(run.user_id), freshness.PLATFORM]
    if run.template_id:
        scopes.append(freshness.template(run.template_id))
    return scopes


def run_saved(sender, instance: LLMRun, **kwargs) -> None:
    """A run started or settled: its learner's, its template's and the platform's documents."""
    freshness.touch(*_run_scopes(instance))


def runs_bulk_created(sender, runs: list[LLMRun], **kwargs) -> None:
    freshness.touch(*{scope for run in runs for scope in _run_scopes(run)})


def ledger_saved(sender, instance: XPEvent | CreditEntry | PlayerStats, **kwargs) -> None:
    """XP, credits, streaks and skill: the learner's document."""
    freshness.touch(freshness.user(instance.user_id))


def attempt_saved(sender, instance: Attempt, **kwargs) -> None:
    freshness.touch(freshness.user(instance.user_id), freshness.challenge(instance.challenge_id), freshness.PLATFORM)


def challenge_changed(sender, instance: Challenge, **kwargs) -> None:
    """Its title and slug are in its learners' documents and the platform's top list: every document."""
    freshness.touch(freshness.ALL)


def challenge_version_saved(sender, instance: ChallengeVersion, **kwargs) -> None:
    freshness.touch(freshness.challenge(instance.challenge_id))


def template_changed(sender, instance: PromptTemplate, **kwargs) -> None:
    """Its own document (title, version, counters), its original's forks and the platform's top list."""
    freshness.touch(
        freshness.template(instance.pk),
        freshness.template(instance.forked_from_id) if instance.forked_from_id else "",
        freshness.PLATFORM,
    )


def template_feedback_changed(sender, instance: Rating | Favorite, **kwargs) -> None:
    freshness.touch(freshness.template(instance.template_id))


def template_was_counted(sender, template_id, **kwargs) -> None:
    freshness.touch(freshness.template(template_id))


def user_saved(sender, instance, created: bool, **kwargs) -> None:
    """A sign-up: the platform's users and sign-ups (a profile edit changes no document)."""
    if created:
        freshness.touch(freshness.PLATFORM)


def user_deleted(sender, instance, **kwargs) -> None:
    freshness.touch(freshness.PLATFORM)


def connect() -> None:
    user_model = get_user_model()
    uid = "insights.freshness"
    post_save.connect(run_saved, sender=LLMRun, dispatch_uid=uid)
    runs_created.connect(runs_bulk_created, sender=LLMRun, dispatch_uid=uid)
    for model in (XPEvent, CreditEntry, PlayerStats):
        post_save.connect(ledger_saved, sender=model, dispatch_uid=uid)
    post_save.connect(attempt_saved, sender=Attempt, dispatch_uid=uid)
    post_save.connect(challenge_changed, sender=Challenge, dispatch_uid=uid)
    post_delete.connect(challenge_changed, sender=Challenge, dispatch_uid=uid)
    post_save.connect(challenge_version_saved, sender=ChallengeVersion, dispatch_uid=uid)
    post_save.connect(template_changed, sender=PromptTemplate, dispatch_uid=uid)
    post_delete.connect(template_changed, sender=PromptTemplate, dispatch_uid=uid)
    for model in (Rating, Favorite):
        post_save.connect(template_feedback_changed, sender=model, dispatch_uid=uid)
        post_delete.connect(template_feedback_changed, sender=model, dispatch_uid=uid)
    template_counted.connect(template_was_counted, sender=PromptTemplate, dispatch_uid=uid)
    post_save.connect(user_saved, sender=user_model, dispatch_uid=uid)
    post_delete.connect(user_deleted, sender=user_model, dispatch_uid=uid)
