"""Prompt template tables: categories, tags, templates, their immutable versions, ratings and favourites.

Counters on PromptTemplate are denormalised and written only by prompts.services (row + F() update
in one transaction).

A foreign key that a composite index or unique constraint already leads with has no index of
its own (`db_index=False`): every insert pays for each index it writes (tests/test_schema.py).
"""

import uuid

from django.conf import settings
from django.db import models


class Category(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(max_length=1000, blank=True)
    ordering = models.PositiveIntegerField(default=0, help_text="Lower comes first.")

    class Meta:
        ordering = ["ordering", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    slug = models.SlugField(max_length=32, unique=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Difficulty(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"
    EXPERT = "expert", "Expert"


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private"
    UNLISTED = "unlisted", "Unlisted"
    PUBLIC = "public", "Public"


class PromptTemplate(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="prompt_templates", db_index=False
    )
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=2000, blank=True)
    content = models.TextField(max_length=20_000)
    # {name: {label, help, type, choices, default, required}}; only variables the content uses.
    variable_specs = models.JSONField(default=dict, blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="templates", db_index=False
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="templates")
    difficulty = models.CharField(max_length=16, choices=Difficulty.choices, default=Difficulty.BEGINNER)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE)
    version = models.PositiveIntegerField(default=1)
    forked_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="forks")
    rating_sum = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    favorites_count = models.PositiveIntegerField(default=0)
    usage_count = models.PositiveIntegerField(default=0)
    # Set the first time the template becomes public: "published" is credited once per template.
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating_avg__gte=0, rating_avg__lte=5), name="prompts_template_rating_avg_range"
            ),
        ]
        indexes = [
            models.Index(fields=["visibility", "-created_at"], name="prompts_tpl_vis_created_idx"),
            models.Index(fields=["visibility", "-updated_at"], name="prompts_tpl_vis_updated_idx"),
            models.Index(fields=["visibility", "-rating_avg"], name="prompts_tpl_vis_rating_idx"),
            models.Index(fields=["visibility", "-usage_count"], name="prompts_tpl_vis_usage_idx"),
            models.Index(fields=["visibility", "-favorites_count"], name="prompts_tpl_vis_favs_idx"),
            models.Index(fields=["owner", "-created_at"], name="prompts_tpl_owner_created_idx"),
            models.Index(fields=["category", "difficulty"], name="prompts_tpl_cat_diff_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class TemplateVersion(models.Model):
    """A saved state of a template; never updated once written."""

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="versions", db_index=False)
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    content = models.TextField(max_length=20_000)
    variable_specs = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="prompts_version_unique_number"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="prompts_version_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        # A guard, not a rule: history is append-only, an edit is always a new version.
        if not self._state.adding:
            raise ValueError("Template versions are immutable; save a new version instead.")
        super().save(*args, **kwargs)


class Rating(models.Model):
    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="ratings", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="template_ratings")
    score = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "user"], name="prompts_rating_one_per_user"),
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="prompts_rating_score_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} rated {self.template_id}: {self.score}"


class Favorite(models.Model):
    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="favorites", db_index=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="template_favorites", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "user"], name="prompts_favorite_one_per_user"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="prompts_fav_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.template_id}"
