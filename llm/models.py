"""LLM runs: one row per generation, written at start and once more when it settles (never per token).

A foreign key that a composite index or unique constraint already leads with has no index of
its own (`db_index=False`): every insert pays for each index it writes (tests/test_schema.py).
"""

import uuid

from django.conf import settings
from django.db import models

# Hard limits on stored text; the services refuse prompts above LLM_MAX_PROMPT_CHARS first.
PROMPT_MAX_CHARS = 32_000
SYSTEM_MAX_CHARS = 8_000
OUTPUT_MAX_CHARS = 200_000


class RunStatus(models.TextChoices):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class LLMRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="llm_runs", db_index=False
    )
    model = models.CharField(max_length=100)  # "provider:model"
    # Template runs keep the template reference, the version rendered and the variables used.
    template = models.ForeignKey(
        "prompts.PromptTemplate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="llm_runs",
        db_index=False,
    )
    template_version = models.PositiveIntegerField(null=True, blank=True)
    variables = models.JSONField(default=dict, blank=True)
    prompt = models.TextField(max_length=PROMPT_MAX_CHARS)
    system = models.TextField(max_length=SYSTEM_MAX_CHARS, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)  # effective temperature / max_tokens
    output = models.TextField(max_length=OUTPUT_MAX_CHARS, blank=True, default="")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    error_code = models.CharField(max_length=32, blank=True, default="")
    error_message = models.CharField(max_length=500, blank=True, default="")
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    reserved_credits = models.PositiveIntegerField(default=0)
    # A run of a RunBatch, paid from its caller's reservation (a graded attempt holds one for all
    # its runs): the start takes no credits and the settle refunds none; the caller settles the
    # reservation once. It holds no run slot of its own (its batch holds one) and earns no run XP.
    prepaid = models.BooleanField(default=False)
    # Left out of its user's history and resume: a run whose prompt or output is not the user's
    # to see (a hidden challenge case).
    sealed = models.BooleanField(default=False)
    # An unverified account's run of an embedded model: it reserves and costs nothing, and counts
    # against UNVERIFIED_FREE_RUNS_PER_DAY (llm.services).
    free = models.BooleanField(default=False)
    cost_credits = models.PositiveIntegerField(default=0)
    ttft_ms = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="llm_run_user_history_idx"),
            models.Index(fields=["user", "status"], name="llm_run_user_status_idx"),
            models.Index(fields=["template", "-created_at"], name="llm_run_template_idx"),
            models.Index(fields=["created_at"], name="llm_run_created_idx"),  # platform-wide windows
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cost_credits__lte=models.F("reserved_credits")),
                name="llm_run_cost_within_reservation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} run {self.id} ({self.status})"


class RunBatch(models.Model):
    """Runs a caller starts together and prepays in one reservation (a graded attempt's case runs).

    A batch exists while its caller runs it, and is deleted when it closes. Until then (and not
    past `expires_at`) it holds one of its user's concurrent-run slots, however many of its runs
    stream at once, and its runs not started yet stay counted in the `ai_requests` window, so the
    room checked for all of them when it opened is still there when they start. Its id is the
    caller's (the attempt's).
    """

    id = models.UUIDField(primary_key=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    runs = models.PositiveIntegerField()  # the runs it may start
    started = models.PositiveIntegerField(default=0)
    # Its runs are free runs (an unverified account's, on an embedded model); those it has yet to
    # start stay counted against the day's free allowance.
    free = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # A batch still here after this lost its process: it no longer holds a slot or window room.
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(started__lte=models.F("runs")), name="llm_batch_started_le_runs"),
        ]

    def __str__(self) -> str:
        return f"run batch {self.id} ({self.started}/{self.runs})"
