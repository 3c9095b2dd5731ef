"""Rollup tables: what the insights endpoints read instead of the raw runs, ledgers and attempts.

Every row covers one UTC quarter-hour (`slot`, its start). Every time zone in use today is offset
from UTC by a whole number of quarter-hours, so summing slots into a viewer's local days, weeks
and months is exact in any zone. Rows are written only by `insights.rollups` (delete the range,
insert it again from the raw tables), so a range can be rolled up again at any time.

Latency, first-token time and prompt-token figures are kept as histograms (`insights.histograms`):
bucket -> count, summed across rows, from which medians and p95s are read.
"""

from django.conf import settings
from django.db import models


class _RunFacts(models.Model):
    runs = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cost_credits = models.BigIntegerField(default=0)
    ttft_hist = models.JSONField(default=dict)  # completed runs' first-token times
    latency_hist = models.JSONField(default=dict)  # completed runs' latencies

    class Meta:
        abstract = True


class UserRunSlot(_RunFacts):
    """A user's runs of one model in one slot."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    slot = models.DateTimeField()
    model = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "slot", "model"], name="insights_user_run_slot_unique")]
        indexes = [models.Index(fields=["slot"], name="insights_user_run_slot_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.model} @ {self.slot:%Y-%m-%d %H:%M}"


class UserLedgerSlot(models.Model):
    """A user's XP and credits in one slot (spent is net of refunds)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    slot = models.DateTimeField()
    xp = models.BigIntegerField(default=0)
    credits_spent = models.BigIntegerField(default=0)
    credits_earned = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "slot"], name="insights_user_ledger_slot_unique")]
        indexes = [models.Index(fields=["slot"], name="insights_user_ledger_slot_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} ledger @ {self.slot:%Y-%m-%d %H:%M}"


class TemplateRunSlot(_RunFacts):
    """One user's runs of a template with one model in one slot (the user makes unique runners countable)."""

    template_id = models.UUIDField()  # no foreign key: a deleted template's history stays summable
    user_id = models.UUIDField()
    slot = models.DateTimeField()
    model = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["template_id", "slot", "user_id", "model"], name="insights_template_run_slot_unique"
            )
        ]
        indexes = [models.Index(fields=["slot"], name="insights_template_run_slot_idx")]

    def __str__(self) -> str:
        return f"template {self.template_id} @ {self.slot:%Y-%m-%d %H:%M}"


class ModelRunSlot(_RunFacts):
    """Every user's runs of one model that ended with one error code (blank: none) in one slot."""

    slot = models.DateTimeField()
    model = models.CharField(max_length=100)
    provider = models.CharField(max_length=32)
    error_code = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slot", "model", "error_code"], name="insights_model_run_slot_unique")
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.error_code or 'ok'} @ {self.slot:%Y-%m-%d %H:%M}"


class ChallengeSlot(models.Model):
    """One user's attempts at one challenge in one slot."""

    challenge_id = models.BigIntegerField()
    user_id = models.UUIDField()
    slot = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    finished = models.PositiveIntegerField(default=0)  # completed (graded) attempts
    passed = models.PositiveIntegerField(default=0)
    best_score = models.PositiveIntegerField(default=0)
    cost_credits = models.BigIntegerField(default=0)
    pass_tokens_hist = models.JSONField(default=dict)  # prompt tokens of passing attempts

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["challenge_id", "slot", "user_id"], name="insights_challenge_slot_unique")
        ]
        indexes = [
            models.Index(fields=["user_id", "slot"], name="insights_challenge_user_idx"),
            models.Index(fields=["slot"], name="insights_challenge_slot_idx"),
        ]

    def __str__(self) -> str:
        return f"challenge {self.challenge_id} @ {self.slot:%Y-%m-%d %H:%M}"


class ChallengeCaseSlot(models.Model):
    """A challenge's graded samples of one case in one slot, and how many failed."""

    challenge_id = models.BigIntegerField()
    case_id = models.CharField(max_length=16)
    slot = models.DateTimeField()
    samples = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["challenge_id", "slot", "case_id"], name="insights_case_slot_unique")
        ]

    def __str__(self) -> str:
        return f"challenge {self.challenge_id} case {self.case_id} @ {self.slot:%Y-%m-%d %H:%M}"


class RollupState(models.Model):
    """How far the rollups reach: slots before `rolled_until` are read from the tables above."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    rolled_until = models.DateTimeField(null=True)
    generation = models.PositiveBigIntegerField(default=0)  # moves on every write
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"rolled up until {self.rolled_until}"


class HistogramDay(models.Model):
    """A UTC day's first-token and latency histograms of one user or one provider, summed from its slots.

    A window's percentiles read these for the UTC days wholly inside it and the slots only for the
    partial days at its two ends, so they stay exact in any zone while reading a row per day.
    """

    scope = models.CharField(max_length=16)  # "user" (key: the user's id) or "provider" (key: its name)
    key = models.CharField(max_length=64)
    day = models.DateField()
    ttft_hist = models.JSONField(default=dict)
    latency_hist = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key", "day"], name="insights_histogram_day_unique")]
        indexes = [models.Index(fields=["day"], name="insights_histogram_day_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} histograms on {self.day}"
