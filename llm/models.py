"""LLM runs: one row per generation, written at start and once more when it settles (never per token).

A foreign key that a composite index or unique constraint already leads with has no index of
its own (`db_index=False`): every insert pays for each index it writes (tests/test_schema.py).
"""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
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
    # Run with the user's own key for its connection (ProviderKey): costs no credits.
    own_key = models.BooleanField(default=False)
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


# --- connections and their models (llm.registry reads them over the environment's) ---------------

# A connection's name is the prefix of its models' ids (`name:model`).
CONNECTION_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"


class ConnectionKind(models.TextChoices):
    OPENAI_COMPATIBLE = "openai-compatible"
    ANTHROPIC = "anthropic"
    LOCAL = "local"


class Connection(models.Model):
    """A server models are run on: its kind of API, where it is and the key for it (encrypted)."""

    name = models.CharField(
        max_length=40,
        unique=True,
        validators=[RegexValidator(CONNECTION_NAME_PATTERN, "Lowercase letters, digits and hyphens; a letter first.")],
    )
    kind = models.CharField(max_length=24, choices=ConnectionKind.choices)
    base_url = models.URLField(max_length=300, blank=True, default="")
    # A Fernet token (llm.secrets), never the key itself; empty: no key.
    api_key_encrypted = models.TextField(blank=True, default="", editable=False)
    connect_timeout_seconds = models.FloatField(default=5.0, validators=[MinValueValidator(0.1)])
    read_timeout_seconds = models.FloatField(default=60.0, validators=[MinValueValidator(0.1)])
    enabled = models.BooleanField(default=True)
    # Learners may run its models with their own key (ProviderKey), paying no credits.
    allow_user_keys = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key_encrypted)


class ConnectionModel(models.Model):
    """A model served by a connection, as the registry offers it (`connection:name`)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="models", db_index=False)
    name = models.CharField(max_length=150)  # the server's own model name
    display_name = models.CharField(max_length=150, blank=True, default="")
    description = models.CharField(max_length=500, blank=True, default="")
    context_limit = models.PositiveIntegerField(default=8192, validators=[MinValueValidator(1)])
    max_output_tokens = models.PositiveIntegerField(default=1024, validators=[MinValueValidator(1)])
    default_temperature = models.FloatField(default=0.7, validators=[MinValueValidator(0)])
    default_max_tokens = models.PositiveIntegerField(default=256, validators=[MinValueValidator(1)])
    credits_per_1k_input = models.DecimalField(
        max_digits=10, decimal_places=4, default=0, validators=[MinValueValidator(0)]
    )
    credits_per_1k_output = models.DecimalField(
        max_digits=10, decimal_places=4, default=0, validators=[MinValueValidator(0)]
    )
    enabled = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)  # order within the connection's models
    discovered_at = models.DateTimeField(null=True, blank=True)  # added by "Discover models"
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["connection__name", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "name"], name="llm_connection_model_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.connection.name}:{self.name}"


class ConnectionHealth(models.Model):
    """The last availability probe of a connection (by name: environment connections have no row)."""

    connection_name = models.CharField(max_length=40, primary_key=True)
    up = models.BooleanField()
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.connection_name}: {'up' if self.up else 'down'}"


class ProviderKey(models.Model):
    """A learner's own API key for a connection that allows it; runs with it cost no credits."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="user_keys")
    api_key_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "connection"], name="llm_provider_key_one_per_connection"),
        ]

    def __str__(self) -> str:
        return f"key of user {self.user_id} for {self.connection_id}"
