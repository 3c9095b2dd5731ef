"""Graded challenges: the challenge, its immutable versions, attempts and their graded case samples.

A challenge's cases live in JSON (`[{id, input, checks, hidden}]`): they are read whole, with
the version they belong to, and never queried one by one. An attempt keeps the version it was
graded on; its samples point at the LLM runs that produced them.

A foreign key that a composite index or unique constraint already leads with has no index of
its own (`db_index=False`): every insert pays for each index it writes (tests/test_schema.py).
"""

import uuid

from django.conf import settings
from django.db import models

from llm.models import PROMPT_MAX_CHARS, SYSTEM_MAX_CHARS
from prompts.models import Difficulty

BRIEF_MAX_CHARS = 20_000


class Technique(models.TextChoices):
    INSTRUCTIONS = "instructions", "Instructions and constraints"
    DELIMITERS = "delimiters", "Delimiters"
    FEW_SHOT = "few-shot", "Few-shot examples"
    CLASSIFICATION = "classification", "Classification"
    JSON_OUTPUT = "json-output", "Structured JSON output"
    EXTRACTION = "extraction", "Extraction"
    STEP_BY_STEP = "step-by-step", "Step-by-step reasoning"
    ROLE_SYSTEM = "role-system", "Role and system prompts"
    INJECTION_DEFENCE = "injection-defence", "Prompt-injection defence"


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private"
    PUBLIC = "public", "Public"


# Paths under challenges/ that the API itself answers (the list-level actions), so never a slug.
RESERVED_SLUGS = frozenset({"import"})


class Challenge(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    brief = models.TextField(max_length=BRIEF_MAX_CHARS)
    track = models.SlugField(max_length=50, default="foundations")
    technique = models.CharField(max_length=32, choices=Technique.choices)
    difficulty = models.CharField(max_length=16, choices=Difficulty.choices, default=Difficulty.BEGINNER)
    # Null for the built-in curriculum (staff edit it in the admin).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="challenges"
    )
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE)
    featured = models.BooleanField(default=False)
    builtin = models.BooleanField(default=False)
    # The current version: what the fields below say now is saved as ChallengeVersion `version`.
    version = models.PositiveIntegerField(default=1)
    cases = models.JSONField(default=list)
    next_case_number = models.PositiveIntegerField(default=1)  # case ids are never reused
    public_cases = models.PositiveSmallIntegerField(default=0)
    hidden_cases = models.PositiveSmallIntegerField(default=0)
    samples = models.PositiveSmallIntegerField(default=1)
    pass_threshold = models.FloatField(default=1.0)
    par_tokens = models.PositiveIntegerField(default=100)
    allowed_models = models.JSONField(default=list, blank=True)  # model ids; empty: any
    default_model = models.CharField(max_length=100, blank=True)
    params = models.JSONField(default=dict, blank=True)  # temperature / max_tokens of the case runs
    hints = models.JSONField(default=list, blank=True)
    system = models.TextField(max_length=SYSTEM_MAX_CHARS, blank=True)
    system_hidden = models.BooleanField(default=False)
    reference_prompt = models.TextField(max_length=PROMPT_MAX_CHARS, blank=True)
    reference_system = models.TextField(max_length=SYSTEM_MAX_CHARS, blank=True)
    naive_prompt = models.TextField(max_length=PROMPT_MAX_CHARS, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-featured", "created_at", "pk"]
        indexes = [
            models.Index(fields=["visibility", "track"], name="challenge_vis_track_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pass_threshold__gt=0, pass_threshold__lte=1), name="challenge_threshold_range"
            ),
            models.CheckConstraint(condition=models.Q(samples__gte=1), name="challenge_samples_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def variables(self) -> list[str]:
        """The input names every case gives (the placeholders a learner's prompt must use)."""
        return list(self.cases[0]["input"]) if self.cases else []


class ChallengeVersion(models.Model):
    """What a version of a challenge grades: its cases, checks, system prompt, samples and par; never updated."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="versions", db_index=False)
    number = models.PositiveIntegerField()
    brief = models.TextField(max_length=BRIEF_MAX_CHARS)
    cases = models.JSONField(default=list)
    samples = models.PositiveSmallIntegerField(default=1)
    pass_threshold = models.FloatField(default=1.0)
    par_tokens = models.PositiveIntegerField(default=100)
    allowed_models = models.JSONField(default=list, blank=True)
    default_model = models.CharField(max_length=100, blank=True)
    params = models.JSONField(default=dict, blank=True)
    system = models.TextField(max_length=SYSTEM_MAX_CHARS, blank=True)
    system_hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["challenge", "number"]
        constraints = [
            models.UniqueConstraint(fields=["challenge", "number"], name="challenge_version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.challenge_id} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        # A guard, not a rule: attempts keep the version they were graded on, so it never changes.
        if not self._state.adding:
            raise ValueError("Challenge versions are immutable; save a new version instead.")
        super().save(*args, **kwargs)


class AttemptStatus(models.TextChoices):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Attempt(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="challenge_attempts", db_index=False
    )
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="attempts", db_index=False)
    version = models.ForeignKey(ChallengeVersion, on_delete=models.CASCADE, related_name="attempts")
    model = models.CharField(max_length=100)
    prompt = models.TextField(max_length=PROMPT_MAX_CHARS)
    system = models.TextField(max_length=SYSTEM_MAX_CHARS, blank=True)
    params = models.JSONField(default=dict, blank=True)  # effective temperature / max_tokens
    prompt_tokens = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.RUNNING)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    passed = models.BooleanField(default=False)
    pass_rate = models.FloatField(default=0.0)
    score = models.PositiveIntegerField(default=0)
    score_breakdown = models.JSONField(default=dict, blank=True)
    reserved_credits = models.PositiveIntegerField(default=0)
    cost_credits = models.PositiveIntegerField(default=0)
    xp_awarded = models.PositiveIntegerField(default=0)
    best = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "challenge", "-created_at"], name="attempt_user_challenge_idx"),
            models.Index(fields=["challenge", "passed", "-score"], name="attempt_challenge_score_idx"),
            models.Index(fields=["status", "created_at"], name="attempt_status_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cost_credits__lte=models.F("reserved_credits")),
                name="attempt_cost_within_reservation",
            ),
            models.CheckConstraint(condition=models.Q(score__lte=1000), name="attempt_score_at_most_1000"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.id} ({self.status})"


class AttemptSample(models.Model):
    """One run of one case of an attempt: written when its run starts, graded when the attempt settles."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="samples", db_index=False)
    case_id = models.CharField(max_length=16)
    sample = models.PositiveSmallIntegerField(default=0)
    run = models.ForeignKey("llm.LLMRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    passed = models.BooleanField(null=True)  # None: not graded (the attempt ended first)
    output = models.TextField(blank=True)
    checks = models.JSONField(default=list, blank=True)  # [{type, passed, message}]
    stopped_early = models.BooleanField(default=False)

    class Meta:
        ordering = ["attempt", "case_id", "sample"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "case_id", "sample"], name="attempt_sample_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id} {self.case_id}#{self.sample}"
