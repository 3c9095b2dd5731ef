"""Attempt writes: prepare (validate, render every case), start (one credits reservation for all its
runs), the start of each case run, and the settlement (once).

An attempt reserves the most all its case runs can cost before any provider call; its case runs
are one LLM run batch (`llm.services.batch_open`, under the attempt's id): the `ai_requests`
window is checked for all of them at once and the attempt holds ONE of the user's concurrent-run
slots however many of its runs stream. Each case run is a normal LLM run paid from the
reservation (prepaid), and a hidden case's run is `sealed` out of the learner's history. The
settlement closes the batch, refunds what the runs did not use, scores the attempt and hands it
to the game when it counts there. Refusals (AttemptRefused) write nothing and charge nothing.
"""

import uuid
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from challenges import conf, rewards, scoring, selectors, tokens
from challenges.grading import PreparedCase, cases_prepare
from challenges.models import Attempt, AttemptSample, AttemptStatus, Challenge, ChallengeVersion
from game import services as game_services
from llm import conf as llm_conf
from llm import selectors as llm_selectors
from llm import services as llm_services
from llm.models import PROMPT_MAX_CHARS, SYSTEM_MAX_CHARS, LLMRun
from prompts import variables

RESERVE_REASON = "attempt.reserve"
REFUND_REASON = "attempt.refund"
_PARAM_FIELDS = {"temperature", "max_tokens"}


class AttemptRefused(Exception):
    """The attempt cannot start; nothing was written or charged. `status` is the HTTP answer."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        status: int = 400,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class SampleJob:
    """One run to make: a case's rendered prompt, validated, and which sample of the case it is."""

    case_id: str
    sample: int
    hidden: bool
    sealed: bool
    plan: llm_services.RunPlan


@dataclass(frozen=True)
class AttemptPlan:
    challenge: Challenge
    version: ChallengeVersion
    model_id: str
    prompt: str
    system: str
    params: dict[str, Any]
    prompt_tokens: int
    jobs: tuple[SampleJob, ...]
    reserve: int


@dataclass(frozen=True)
class StartedAttempt:
    """An attempt row as its start left it, with the runs to make and its cases ready to grade."""

    attempt: Attempt
    jobs: tuple[SampleJob, ...]
    cases: dict[str, PreparedCase]  # in the version's order


@dataclass(frozen=True)
class GradedSample:
    case_id: str
    sample: int
    passed: bool
    output: str
    checks: list[dict[str, Any]]
    stopped_early: bool = False


def _refused_run(exc: llm_services.RunRefused) -> AttemptRefused:
    """A case run's refusal as the attempt's; its message never quotes a case's input."""
    field = exc.field
    if field in _PARAM_FIELDS:
        field = f"params.{field}"
    return AttemptRefused(exc.code, exc.message, field=field)


def _check_prompt(prompt: Any, names: list[str]) -> str:
    if not isinstance(prompt, str) or not prompt.strip():
        raise AttemptRefused("invalid_request", "The prompt is empty.", field="prompt")
    limit = min(llm_conf.max_prompt_chars(), PROMPT_MAX_CHARS)
    if len(prompt) > limit:
        raise AttemptRefused("invalid_request", f"The prompt is longer than {limit} characters.", field="prompt")
    try:
        used = variables.parse_variables(prompt)
    except variables.TemplateSyntaxError as exc:
        raise AttemptRefused("invalid_request", str(exc), field="prompt") from None
    if missing := [name for name in names if name not in used]:
        placeholders = ", ".join(f"{{{{{name}}}}}" for name in missing)
        raise AttemptRefused("invalid_request", f"The prompt must use every variable: {placeholders}.", field="prompt")
    if unknown := [name for name in used if name not in names]:
        raise AttemptRefused("invalid_request", f"The challenge has no variable {', '.join(unknown)}.", field="prompt")
    return prompt


def _model_for(version: ChallengeVersion, model: str | None) -> str:
    model_id = model or version.default_model or settings.LLM_DEFAULT_MODEL
    if version.allowed_models and model_id not in version.allowed_models:
        allowed = ", ".join(version.allowed_models)
        raise AttemptRefused(
            "invalid_request", f"Model {model_id!r} is not allowed here; use one of: {allowed}.", field="model"
        )
    return model_id


def attempt_prepare(
    *, user, challenge: str, prompt: Any, model: str | None = None, system: str = "", params: dict | None = None
) -> AttemptPlan:
    """Validate an attempt and render the learner's prompt once per case; raises AttemptRefused."""
    try:
        found = selectors.challenge_get_visible(slug=str(challenge), user=user)
    except Http404:
        raise AttemptRefused("unknown_challenge", "No such challenge.", field="challenge", status=404) from None
    version = selectors.challenge_version_current(found)
    model_id = _model_for(version, model)
    prompt = _check_prompt(prompt, list(version.cases[0]["input"]))
    system = system or ""
    if len(system) > SYSTEM_MAX_CHARS:
        raise AttemptRefused(
            "invalid_request", f"The system prompt is longer than {SYSTEM_MAX_CHARS} characters.", field="system"
        )
    run_params = {**version.params, **{k: v for k, v in (params or {}).items() if k in _PARAM_FIELDS and v is not None}}
    run_system = "\n\n".join(part for part in (version.system.strip(), system.strip()) if part)
    optional = {name: {"required": False} for name in version.cases[0]["input"]}  # an input may be empty
    jobs: list[SampleJob] = []
    for case in version.cases:
        rendered = variables.render(prompt, case["input"], optional)
        try:
            plan = llm_services.run_prepare(
                user=user, model=model_id, prompt=rendered, params={**run_params, "system": run_system}
            )
        except llm_services.RunRefused as exc:
            raise _refused_run(exc) from None
        sealed = case["hidden"] or version.system_hidden
        jobs += [SampleJob(case["id"], sample, case["hidden"], sealed, plan) for sample in range(version.samples)]
    request = jobs[0].plan.request
    return AttemptPlan(
        challenge=found,
        version=version,
        model_id=jobs[0].plan.model_id,
        prompt=prompt,
        system=system,
        params={"temperature": request.temperature, "max_tokens": request.max_tokens},
        prompt_tokens=tokens.prompt_tokens(prompt, system),
        jobs=tuple(jobs),
        reserve=sum(job.plan.max_cost_credits for job in jobs),
    )


@transaction.atomic
def attempt_start(*, user_id, plan: AttemptPlan) -> tuple[Attempt, tuple[SampleJob, ...]]:
    """Create the attempt, open its run batch and reserve what all its runs may cost; returns it and its jobs.

    Raises AttemptRefused (429: the window cannot hold its runs, or every run slot is taken; 403
    `email_unverified`: an unverified account's attempt on a model other than the embedded ones,
    or past its free runs of the day). An unverified account's attempt is free: its jobs are free
    runs and it reserves nothing. An attempt the balance cannot cover is saved as failed
    `insufficient_credits`, charging nothing.
    """
    attempt_id = uuid.uuid4()
    try:
        free = llm_services.batch_open(
            user_id=user_id,
            batch_id=attempt_id,
            runs=len(plan.jobs),
            max_seconds=conf.attempt_max_seconds(),
            model_id=plan.model_id,
        )
    except llm_services.RunRefused as exc:
        if exc.code == "email_unverified":
            raise AttemptRefused(exc.code, exc.message, status=403) from None
        raise AttemptRefused(exc.code, exc.message, status=429, retry_after=exc.retry_after) from None
    jobs = tuple(replace(job, plan=job.plan.as_free()) for job in plan.jobs) if free else plan.jobs
    reserve = 0 if free else plan.reserve
    attempt = Attempt.objects.create(
        id=attempt_id,
        user_id=user_id,
        challenge=plan.challenge,
        version=plan.version,
        model=plan.model_id,
        prompt=plan.prompt,
        system=plan.system,
        params=plan.params,
        prompt_tokens=plan.prompt_tokens,
        reserved_credits=reserve,
    )
    if reserve > 0:
        try:
            game_services.credits_spend(
                user_id=user_id,
                amount=reserve,
                reason=RESERVE_REASON,
                idempotency_key=f"attempt:{attempt.pk}:reserve",
                source=f"challenges.attempt:{attempt.pk}",
            )
        except game_services.InsufficientCredits:
            attempt.status, attempt.finished_at = AttemptStatus.FAILED, timezone.now()
            attempt.error_code = "insufficient_credits"
            attempt.error_message = (
                f"This attempt makes {len(plan.jobs)} runs that may cost up to {reserve} credits; "
                "your balance does not cover them."
            )
            attempt.reserved_credits = 0
            attempt.save(update_fields=["status", "finished_at", "error_code", "error_message", "reserved_credits"])
            llm_services.batch_close(batch_id=attempt_id)
    return attempt, jobs


def attempt_create(
    *, user, challenge: str, prompt: Any, model: str | None = None, system: str = "", params: dict | None = None
) -> StartedAttempt:
    """Validate an attempt and start it (REST and the playground alike); raises AttemptRefused."""
    plan = attempt_prepare(user=user, challenge=challenge, prompt=prompt, model=model, system=system, params=params)
    attempt, jobs = attempt_start(user_id=user.pk, plan=plan)
    return StartedAttempt(attempt=attempt, jobs=jobs, cases=cases_prepare(plan.version.cases))


class AttemptEnded(Exception):
    """The attempt was settled meanwhile (it outlived its process): start no more of its runs."""


@transaction.atomic
def attempt_runs_start(*, attempt_id, user_id, jobs: list[SampleJob]) -> list[LLMRun]:
    """Start case runs of a running attempt together, in its batch, paid from its reservation; raises AttemptEnded.

    The attempt row lock orders the start against the settlement: runs either start before the
    settlement reads the attempt's runs, or find the attempt settled (and its batch closed).
    """
    if Attempt.objects.select_for_update().filter(pk=attempt_id, status=AttemptStatus.RUNNING).first() is None:
        raise AttemptEnded(str(attempt_id))
    try:
        runs = llm_services.batch_runs_start(
            user_id=user_id, batch_id=attempt_id, plans=[(job.plan, job.sealed) for job in jobs]
        )
    except llm_services.RunRefused as exc:  # its batch is closed or used up: the attempt is over
        raise AttemptEnded(str(attempt_id)) from exc
    AttemptSample.objects.bulk_create(
        AttemptSample(attempt_id=attempt_id, case_id=job.case_id, sample=job.sample, run=run)
        for job, run in zip(jobs, runs, strict=True)
    )
    return runs


def attempt_run_start(*, attempt_id, user_id, job: SampleJob) -> LLMRun:
    """Start one case run of a running attempt (see attempt_runs_start); raises AttemptEnded."""
    return attempt_runs_start(attempt_id=attempt_id, user_id=user_id, jobs=[job])[0]


def _score(attempt: Attempt, rows: list[AttemptSample]) -> None:
    version = attempt.version
    result = scoring.attempt_score(
        passed_samples=sum(1 for row in rows if row.passed),
        total_samples=len(version.cases) * version.samples,
        prompt_tokens=attempt.prompt_tokens,
        par_tokens=version.par_tokens,
        pass_threshold=version.pass_threshold,
    )
    attempt.passed, attempt.pass_rate, attempt.score = result.passed, result.pass_rate, result.score
    attempt.score_breakdown = result.breakdown


@transaction.atomic
def attempt_settle(
    *,
    attempt_id,
    graded: list[GradedSample],
    status: str,
    error_code: str = "",
    error_message: str = "",
) -> Attempt:
    """Record the graded samples, charge what the runs used, score and reward the attempt; once.

    A settled attempt is left as it is. Only a completed attempt (every sample graded) is scored,
    and only one that counts in the game (`rewards.attempt_counts`) is handed to it.
    """
    # Only the attempt row: the challenge row stays free for its other learners' settlements and edits.
    attempt = Attempt.objects.select_for_update(of=("self",)).select_related("challenge", "version").get(pk=attempt_id)
    if attempt.status != AttemptStatus.RUNNING:
        return attempt
    rows = list(AttemptSample.objects.filter(attempt=attempt))
    by_key = {(row.case_id, row.sample): row for row in rows}
    for sample in graded:
        row = by_key.get((sample.case_id, sample.sample))
        if row is not None:
            row.passed, row.output, row.checks = sample.passed, sample.output, sample.checks
            row.stopped_early = sample.stopped_early
    AttemptSample.objects.bulk_update(rows, ["passed", "output", "checks", "stopped_early"])
    cost = llm_selectors.runs_cost(run_ids=[row.run_id for row in rows if row.run_id])
    attempt.cost_credits = min(cost, attempt.reserved_credits)
    refund = attempt.reserved_credits - attempt.cost_credits
    if refund > 0:
        game_services.credits_grant(
            user_id=attempt.user_id,
            amount=refund,
            reason=REFUND_REASON,
            idempotency_key=f"attempt:{attempt.pk}:refund",
            source=f"challenges.attempt:{attempt.pk}",
        )
    llm_services.batch_close(batch_id=attempt.pk)
    attempt.status, attempt.finished_at = status, timezone.now()
    attempt.error_code, attempt.error_message = error_code, error_message[:500]
    if status == AttemptStatus.COMPLETED:
        _score(attempt, rows)
        if rewards.attempt_counts(attempt=attempt, challenge=attempt.challenge):
            award = rewards.attempt_reward(attempt=attempt, challenge=attempt.challenge)
            attempt.xp_awarded, attempt.best = award.xp_awarded, award.best
    attempt.save()
    return attempt


def attempts_fail_stale() -> int:
    """Settle every attempt still running past CHALLENGES_ATTEMPT_MAX_SECONDS as failed; returns how many."""
    before = timezone.now() - timezone.timedelta(seconds=conf.attempt_max_seconds())
    stale = Attempt.objects.filter(status=AttemptStatus.RUNNING, created_at__lt=before).values_list("pk", flat=True)
    settled = 0
    for attempt_id in list(stale):
        attempt_settle(
            attempt_id=attempt_id,
            graded=[],
            status=AttemptStatus.FAILED,
            error_code="interrupted",
            error_message="The attempt stopped without finishing.",
        )
        settled += 1
    return settled
