"""Run lifecycle writes: prepare (validate, render), start (limits + credit reservation), settle.

A run reserves the most it can cost before any provider call and settles once, when it ends,
refunding the difference between the reservation and what it used. Nothing is written per token.
The game owns the credit ledger: the reservation and the refund go through `game.services`.

A caller that prepays many runs at once (a graded attempt) opens a `RunBatch` for them: the
batch is checked against the limits once, holds one run slot for all its runs, and its runs
start without limits or reservations of their own (`run_start(batch_id=...)`).

An account whose email is not verified spends no credits: under the same user row lock, its
starts are refused (`email_unverified`) except on the embedded models (`local:*`), where they are
free runs (nothing reserved or charged) up to UNVERIFIED_FREE_RUNS_PER_DAY per UTC day.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, F, Q, Subquery
from django.utils import timezone

from core.background import after_commit, enqueue_on_commit
from game import services as game_services
from llm import conf, registry, selectors, signals, template_runs, throttles
from llm.models import OUTPUT_MAX_CHARS, PROMPT_MAX_CHARS, SYSTEM_MAX_CHARS, LLMRun, RunBatch, RunStatus
from llm.providers.base import GenerationRequest

User = get_user_model()

# Models an unverified account may run (free, within its daily allowance): those served here.
FREE_RUN_PROVIDERS = frozenset({"local"})
RESERVE_REASON = "run.reserve"
REFUND_REASON = "run.refund"
SETTLE_FIELDS = (
    "status",
    "output",
    "input_tokens",
    "output_tokens",
    "cost_credits",
    "ttft_ms",
    "latency_ms",
    "error_code",
    "error_message",
    "finished_at",
)


class RunRefused(Exception):
    """The run cannot start; nothing was charged and no provider was called."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retry_after: float | None = None,
        field: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.field = field
        self.errors = errors  # per-variable messages of a template that did not render


@dataclass(frozen=True)
class RunPlan:
    """A validated run request: what to send to which provider, and what it may cost."""

    model_id: str
    request: GenerationRequest
    max_cost_credits: int  # what to reserve: the estimated prompt plus max_tokens, at the model's prices
    template_id: str | None = None
    template_version: int | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    own_key: bool = False  # sent with the user's own key for the connection: costs no credits
    # A free run's plan (a free batch's: run_start decides alone under its lock): costs nothing.
    free: bool = False

    def as_free(self) -> "RunPlan":
        return replace(self, max_cost_credits=0, free=True)


@dataclass(frozen=True)
class StartedRun:
    """A run row as its start left it, with the provider request validated for it."""

    run: LLMRun
    request: GenerationRequest


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended, as the runner observed it."""

    status: str  # completed / cancelled / failed
    output: str
    produced_tokens: int  # deltas received (a fallback count when the provider sent no usage)
    input_tokens: int | None = None  # from the provider's usage, when it arrived
    output_tokens: int | None = None
    ttft_ms: int | None = None
    latency_ms: int | None = None
    error_code: str = ""
    error_message: str = ""


def _model_get(model_id: str) -> registry.ModelSpec | None:
    try:
        return registry.model_get(model_id)
    except registry.UnknownModel:
        return None


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def run_prepare(
    *,
    user,
    model: str,
    prompt: str | None = None,
    template_id: str | None = None,
    variables: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> RunPlan:
    """Validate a run request (model, params, sizes) and render a template run; raises RunRefused."""
    params = params or {}
    spec = _model_get(model)
    if spec is None:
        raise RunRefused("invalid_request", f"Unknown model {model!r}.", field="model")
    connection = registry.connections_all().get(spec.provider)
    # Only a connection that takes learners' keys costs the lookup.
    takes_keys = user is not None and connection is not None and connection.allow_user_keys
    credential = selectors.provider_key_for(user_id=user.pk, connection=spec.provider) if takes_keys else None
    if not spec.available() and not credential:
        raise RunRefused("invalid_request", f"Model {model!r} is not available now.", field="model")
    if (down := selectors.connection_is_down(name=spec.provider)) is not None:
        # The last probe failed: refuse before any reservation or provider call, instead of
        # making the learner wait for a connect timeout.
        raise RunRefused(
            "provider_unavailable",
            f"The {spec.provider} connection is unreachable ({down.last_error or 'no answer'}); try again later.",
            retry_after=settings.LLM_PROBE_INTERVAL_SECONDS,
        )
    template: template_runs.RenderedTemplate | None = None
    if template_id is not None:
        try:
            template = template_runs.template_render(user=user, template_id=template_id, variables=variables or {})
        except template_runs.TemplateRefused as exc:
            raise RunRefused("invalid_request", exc.message, field=exc.field, errors=exc.errors) from None
        prompt = template.prompt
    prompt = prompt or ""
    if not prompt.strip():
        raise RunRefused("invalid_request", "The prompt is empty.", field="prompt")
    limit = min(conf.max_prompt_chars(), PROMPT_MAX_CHARS)
    if len(prompt) > limit:
        raise RunRefused("invalid_request", f"The prompt is longer than {limit} characters.", field="prompt")
    system = params.get("system") or ""
    if len(system) > SYSTEM_MAX_CHARS:
        raise RunRefused(
            "invalid_request", f"The system prompt is longer than {SYSTEM_MAX_CHARS} characters.", field="system"
        )
    max_tokens = params.get("max_tokens") or spec.default_max_tokens
    if not _positive_int(max_tokens):
        raise RunRefused("invalid_request", "max_tokens must be a positive integer.", field="max_tokens")
    if max_tokens > spec.max_output_tokens:
        raise RunRefused(
            "invalid_request", f"max_tokens is at most {spec.max_output_tokens} for {model}.", field="max_tokens"
        )
    temperature = params.get("temperature")
    temperature = spec.default_temperature if temperature is None else float(temperature)
    stop = tuple(params.get("stop") or ())  # only the OpenAI-compatible endpoint sends stop sequences
    # The model's own limits (temperature range, context window, stop sequences), named by field.
    try:
        request = spec.request(prompt=prompt, system=system, temperature=temperature, max_tokens=max_tokens, stop=stop)
    except registry.ParamsError as exc:
        name, messages = next(iter(exc.errors.items()))
        raise RunRefused("invalid_request", f"{name}: {' '.join(messages)}", field=name) from None
    if credential:
        request = replace(request, credential=credential)
    return RunPlan(
        model_id=spec.id,
        request=request,
        max_cost_credits=0 if credential else spec.max_cost_credits(request),
        own_key=bool(credential),
        template_id=template.template_id if template else None,
        template_version=template.version if template else None,
        variables=dict(variables or {}),
    )


def _stale_before() -> datetime:
    return timezone.now() - timezone.timedelta(seconds=conf.run_max_seconds())


def _new_run(user_id, plan: RunPlan) -> LLMRun:
    request = plan.request
    return LLMRun(
        user_id=user_id,
        model=plan.model_id,
        template_id=plan.template_id,
        template_version=plan.template_version,
        variables=plan.variables,
        prompt=request.prompt,
        system=request.system or "",
        params={
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            **({"stop": list(request.stop)} if request.stop else {}),
        },
        reserved_credits=plan.max_cost_credits,
        own_key=plan.own_key,
        free=plan.free,
    )


def _lock_user(user_id) -> bool:
    """Lock the user's row (the first lock of every run start); returns whether their email is verified."""
    return User.objects.select_for_update().values_list("email_verified", flat=True).get(pk=user_id)


def _free_model_check(model_id: str) -> None:
    """Refuse (email_unverified) a model an unverified account may not run; it may run the embedded ones."""
    if registry.parse_model_id(model_id)[0] not in FREE_RUN_PROVIDERS:
        raise RunRefused(
            "email_unverified",
            f"Verify your email address to run {model_id}: until then your credits stay unspent, and only "
            "the built-in models (local:*) run, free, a few times a day.",
        )


def _free_runs_check(counts: dict[str, int], window: throttles.Window, runs: int = 1) -> None:
    """Refuse (email_unverified) runs past the day's free allowance of an unverified account."""
    if counts["free"] + runs > window.limit:
        left = max(0, window.limit - counts["free"])
        raise RunRefused(
            "email_unverified",
            f"This needs {runs} free run{'s' if runs != 1 else ''} and {left} of today's {window.limit} are left. "
            "Verify your email address to spend your credits on more.",
        )


def _run_counts(user_id, now: datetime, free_since: datetime | None = None) -> tuple[throttles.Window, dict[str, int]]:
    """The user's `ai_requests` in the window and their runs going, read under their row lock.

    `recent` counts the runs created in the window plus the runs their open batches have yet to
    start; `running` counts their running runs outside batches plus one per open batch. With
    `free_since` (an unverified account), `free` counts its free runs since then, the same way.
    """
    window, stale_before = throttles.ai_requests_window(now), _stale_before()
    since = min(window.start, stale_before, *([free_since] if free_since else []))
    counts = {
        "recent": Count("pk", filter=Q(created_at__gte=window.start)),
        "running": Count("pk", filter=Q(status=RunStatus.RUNNING, prepaid=False, created_at__gte=stale_before)),
    }
    if free_since is not None:
        counts["free"] = Count("pk", filter=Q(free=True, created_at__gte=free_since))
    runs = LLMRun.objects.filter(user_id=user_id, created_at__gte=since).aggregate(**counts)
    # A user has an open batch or two at most: their rows cost less to read than to aggregate.
    batches = list(RunBatch.objects.filter(user_id=user_id, expires_at__gt=now).values_list("runs", "started", "free"))
    return window, {
        "recent": runs["recent"] + sum(planned - started for planned, started, _ in batches),
        "running": runs["running"] + len(batches),
        "free": runs.get("free", 0) + sum(planned - started for planned, started, free in batches if free),
    }


def _check_concurrency(counts: dict[str, int]) -> None:
    limit = conf.max_concurrent_runs()
    if counts["running"] >= limit:
        raise RunRefused("concurrency_limit", f"At most {limit} runs at a time; wait for one to finish.")


@transaction.atomic
def batch_open(*, user_id, batch_id, runs: int, max_seconds: float, model_id: str) -> bool:
    """Open a batch of `runs` prepaid runs of `model_id`; raises RunRefused (rate_limited, concurrency_limit,
    email_unverified) before writing. Returns whether its runs are free (an unverified account's).

    The `ai_requests` window must hold all its runs, and the batch takes one run slot (it counts
    as one run against LLM_MAX_CONCURRENT_RUNS until closed, or for `max_seconds` at most). For an
    unverified account the day's free allowance must hold them too. The checks run under the user
    row lock that every run start takes, so they are exact.
    """
    verified = _lock_user(user_id)
    if not verified:
        _free_model_check(model_id)
    now = timezone.now()
    free_window = None if verified else throttles.free_runs_window(now)
    window, counts = _run_counts(user_id, now, free_since=free_window.start if free_window else None)
    if counts["recent"] + runs > window.limit:
        raise RunRefused(
            "rate_limited",
            f"This needs {runs} AI requests and the hourly allowance does not cover them; try again later.",
            retry_after=window.retry_after(now),
        )
    if free_window is not None:
        _free_runs_check(counts, free_window, runs)
    _check_concurrency(counts)
    RunBatch.objects.create(
        id=batch_id,
        user_id=user_id,
        runs=runs,
        free=not verified,
        expires_at=now + timezone.timedelta(seconds=max_seconds),
    )
    return not verified


def batch_close(*, batch_id) -> None:
    """Release the batch's run slot and the window room of the runs it did not start (idempotent)."""
    RunBatch.objects.filter(pk=batch_id).delete()


@transaction.atomic
def batch_runs_start(*, user_id, batch_id, plans: Sequence[tuple[RunPlan, bool]]) -> list[LLMRun]:
    """Start runs of an open batch, `(plan, sealed)` each, in one statement; raises RunRefused (batch_closed).

    Refused when the batch is closed, belongs to someone else, has fewer runs left, or is free
    and the plans are not (or the other way round). Batch runs take no user row lock: they move
    runs from the batch's pending room into the window's runs (and the free runs') and hold no
    slot of their own, so no other start's counts change.
    """
    kinds = {plan.free for plan, _ in plans}
    if len(kinds) > 1:
        raise RunRefused("batch_closed", "The runs of one batch are all free or none is.")
    batch = RunBatch.objects.filter(pk=batch_id, user_id=user_id, started__lte=F("runs") - len(plans))
    if kinds:
        batch = batch.filter(free=kinds.pop())
    taken = batch.update(started=F("started") + len(plans))
    if not taken:
        raise RunRefused("batch_closed", "The batch these runs belong to is closed.")
    runs = [_new_run(user_id, plan) for plan, _ in plans]
    for run, (_, sealed) in zip(runs, plans, strict=True):
        run.prepaid, run.sealed = True, sealed
    created = LLMRun.objects.bulk_create(runs)
    signals.runs_created.send(sender=LLMRun, runs=created)
    return created


@transaction.atomic
def run_start(
    *, user_id, plan: RunPlan, batch_id=None, sealed: bool = False, email_verified: bool | None = None
) -> LLMRun:
    """Create the run and reserve its maximum cost; raises RunRefused (throttle, concurrency, email_unverified)
    before writing.

    An unverified account's run is free (see the module's docstring). A run the balance cannot
    cover is saved as failed `insufficient_credits` (charging nothing), so the client gets a run
    id to refer to. A run of an open batch (`batch_id`) is prepaid: paid from its caller's
    reservation, limited by its batch (no checks, slot or reservation of its own). A `sealed` one
    stays out of the user's history.

    `email_verified` is what the caller's user object says (run_create passes it): True lets the
    reservation's statement be the lock, as for every verified account; otherwise (False, or None
    for unknown) the lock is taken first and reads whether the email is verified now.
    """
    if batch_id is not None:
        return batch_runs_start(user_id=user_id, batch_id=batch_id, plans=[(plan, sealed)])[0]
    run = _new_run(user_id, plan)
    run.sealed = sealed
    # The user row lock comes first: it serialises the starts of one user across processes, so the
    # `ai_requests` window (llm.throttles), the free allowance and the concurrency limit below are
    # exact. For a verified account the reservation's first statement takes it (one round trip for
    # both); otherwise an explicit lock reads whether the account may spend credits now (it may
    # have been verified since the caller's user was loaded): an unverified one's run is free
    # (nothing reserved) on an embedded model and refused on any other. The counts are a later
    # statement than the lock: on PostgreSQL they see every start committed while this one waited
    # for it. A refused start raises, and the transaction takes the reservation back.
    locked = email_verified is not True
    if locked:
        email_verified = _lock_user(user_id)
    verified = bool(email_verified)
    if not verified:
        _free_model_check(plan.model_id)
        run.free, run.reserved_credits = True, 0
    covered = _reserve(run, locked=locked)
    now = timezone.now()
    free_window = None if verified else throttles.free_runs_window(now)
    window, counts = _run_counts(user_id, now, free_since=free_window.start if free_window else None)
    if counts["recent"] >= window.limit:
        raise RunRefused("rate_limited", "Too many AI requests; try again later.", retry_after=window.retry_after(now))
    if free_window is not None:
        _free_runs_check(counts, free_window)
    _check_concurrency(counts)
    if not covered:
        run.status, run.finished_at = RunStatus.FAILED, now
        run.error_code = "insufficient_credits"
        run.error_message = f"This run may cost up to {run.reserved_credits} credits; your balance does not cover it."
        run.reserved_credits = 0
    run.save(force_insert=True)
    return run


def _reserve(run: LLMRun, *, locked: bool) -> bool:
    """Take the run's reservation from the balance, locking the user row unless `locked`; False when it does not
    cover it."""
    if run.reserved_credits <= 0:
        if not locked:
            _lock_user(run.user_id)
        return True
    try:
        game_services.credits_spend(
            user_id=run.user_id,
            amount=run.reserved_credits,
            reason=RESERVE_REASON,
            idempotency_key=f"run:{run.pk}:reserve",
            source=f"llm.run:{run.pk}",
        )
    except game_services.InsufficientCredits:
        return False
    return True


def run_create(
    *,
    user,
    model: str,
    prompt: str | None = None,
    template_id: str | None = None,
    variables: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> StartedRun:
    """Validate a run request and start it (REST and the playground alike); raises RunRefused."""
    plan = run_prepare(
        user=user, model=model, prompt=prompt, template_id=template_id, variables=variables, params=params
    )
    run = run_start(user_id=user.pk, plan=plan, email_verified=user.email_verified)
    return StartedRun(run=run, request=plan.request)


def _settled_cost(run: LLMRun, spec: registry.ModelSpec | None, outcome: RunOutcome) -> tuple[int, int, int]:
    """(input_tokens, output_tokens, cost) to charge; never above the reservation."""
    if outcome.produced_tokens == 0:
        return outcome.input_tokens or 0, 0, 0  # nothing produced, however the run ended: full refund
    input_tokens = outcome.input_tokens
    if input_tokens is None:
        input_tokens = registry.ModelSpec.prompt_tokens_estimate(run.prompt, run.system)
    output_tokens = outcome.output_tokens if outcome.output_tokens is not None else outcome.produced_tokens
    if run.own_key or spec is None:
        return input_tokens, output_tokens, 0  # paid with the user's own key (or a model gone since)
    cost = spec.cost_credits(input_tokens=input_tokens, output_tokens=output_tokens)
    return input_tokens, output_tokens, min(cost, run.reserved_credits)


@transaction.atomic
def run_settle(*, run_id, outcome: RunOutcome) -> LLMRun:
    """Record how the run ended and refund the unused reservation; a settled run is left as it is.

    A prepaid run refunds nothing and earns no run XP: its caller settles the reservation that
    paid for it, and rewards what the batch was for.
    """
    # The runner's user row, then the run row: the project's lock order (prompts.services), so a
    # settle queues behind a rating or fork that holds the user and never waits holding the run.
    runner = LLMRun.objects.filter(pk=run_id).values("user_id")
    User.objects.select_for_update().filter(pk=Subquery(runner)).values_list("pk", flat=True).first()
    run = LLMRun.objects.select_for_update().get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        return run
    input_tokens, output_tokens, cost = _settled_cost(run, _model_get(run.model), outcome)
    run.status = outcome.status
    run.output = outcome.output[:OUTPUT_MAX_CHARS]
    run.input_tokens, run.output_tokens, run.cost_credits = input_tokens, output_tokens, cost
    run.ttft_ms, run.latency_ms = outcome.ttft_ms, outcome.latency_ms
    run.error_code, run.error_message = outcome.error_code, outcome.error_message[:500]
    run.finished_at = timezone.now()
    run.save(update_fields=SETTLE_FIELDS)
    refund = 0 if run.prepaid else run.reserved_credits - cost
    if refund > 0:
        game_services.credits_grant(
            user_id=run.user_id,
            amount=refund,
            reason=REFUND_REASON,
            idempotency_key=f"run:{run.pk}:refund",
            source=f"llm.run:{run.pk}",
        )
    if run.status == RunStatus.COMPLETED:
        if run.template_id:
            # After commit: a template comes before its runs in the lock order (a delete unlinks
            # them), and this transaction holds the run.
            after_commit(template_runs.template_record_use, template_id=run.template_id, user_id=run.user_id)
        # XP, streaks and badges follow in the worker, off the run's path, for a run that produced
        # something (an empty one is free, so it earns nothing either). The task is named rather
        # than imported: llm.tasks imports this module.
        if outcome.produced_tokens and not run.prepaid:
            enqueue_on_commit("llm.run_completed_record", str(run.pk))
    return run


def run_completed_record(*, run_id) -> None:
    """Report a completed run to the game as `run.completed` (idempotent per run)."""
    run = LLMRun.objects.get(pk=run_id)
    provider, model_name = registry.parse_model_id(run.model)
    game_services.activity_record(
        user_id=run.user_id,
        activity="run.completed",
        idempotency_key=f"run:{run.pk}",
        data={"provider": provider, "model": model_name, "output_tokens": run.output_tokens},
    )


def run_fail_stale(*, run_id) -> LLMRun:
    """Settle a run whose process is gone (still `running` past LLM_RUN_MAX_SECONDS) as timed out."""
    run = LLMRun.objects.get(pk=run_id)
    return run_settle(
        run_id=run_id,
        outcome=RunOutcome(
            status=RunStatus.FAILED,
            output=run.output,
            produced_tokens=0,
            error_code="timeout",
            error_message="The run stopped without finishing.",
        ),
    )


def run_ended(*, run_id) -> LLMRun | None:
    """The run if it has ended (settling it as timed out if its process vanished), else None."""
    run = LLMRun.objects.get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        return run
    if run.created_at < _stale_before():
        return run_fail_stale(run_id=run_id)
    return None


def run_orphaned(*, run_id, output: str) -> LLMRun:
    """Settle a run whose server process died mid-run (seen by a follower): failed, fully refunded."""
    return run_settle(
        run_id=run_id,
        outcome=RunOutcome(
            status=RunStatus.FAILED,
            output=output,
            produced_tokens=0,  # its usage died with the process: charge nothing
            error_code="interrupted",
            error_message="The server running this run stopped.",
        ),
    )


def runs_fail_stale() -> int:
    """Settle every run still `running` past LLM_RUN_MAX_SECONDS as timed out; returns how many."""
    stale = LLMRun.objects.filter(status=RunStatus.RUNNING, created_at__lt=_stale_before()).values_list("pk", flat=True)
    settled = 0
    for run_id in list(stale):
        run_fail_stale(run_id=run_id)
        settled += 1
    return settled
