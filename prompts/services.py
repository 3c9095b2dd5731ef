"""Every write to templates, versions, ratings and favourites; one transaction each.

Callers pass a template they were allowed to see (prompts.selectors.template_get_visible); these
functions enforce who may change it. Facts the game rewards are reported to
game.services.activity_record inside the same transaction, so a rolled-back change awards nothing.

Lock order, everywhere: user rows first, in primary-key order (accounts.services.users_lock: the
actor's and the owner's, whom an award will lock), then the template, then its ratings, favourites
and runs (a delete unlinks them). A run's settle takes its user, then its run, and counts the
template's use (template_record_use) after it commits, in a transaction of its own.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, FloatField
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from accounts.services import users_lock
from game import services as game_services
from prompts import signals, variables
from prompts.models import Category, Difficulty, Favorite, PromptTemplate, Rating, Tag, TemplateVersion, Visibility

VERSIONED_FIELDS = ("title", "content", "variable_specs")
EDITABLE_FIELDS = ("title", "description", "content", "variable_specs", "category", "tags", "difficulty", "visibility")


def content_variables(*, content: str) -> list[str]:
    """The content's variable names; a malformed placeholder is a 400 on `content`."""
    try:
        return variables.parse_variables(content)
    except variables.TemplateSyntaxError as exc:
        raise ValidationError({"content": [str(exc)]}) from None


def checked_specs(*, content: str, variable_specs: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The content's variables must parse and every spec must name one of them; returns canonical specs."""
    names = content_variables(content=content)
    try:
        return variables.normalize_specs(names, variable_specs)
    except variables.SpecError as exc:
        raise ValidationError({"variable_specs": exc.errors}) from None


def tags_get_or_create(*, slugs: Iterable[str]) -> list[Tag]:
    """Tags by slug, creating missing ones (concurrent creators both succeed)."""
    slugs = sorted(set(slugs))
    if not slugs:
        return []
    Tag.objects.bulk_create([Tag(slug=slug) for slug in slugs], ignore_conflicts=True)
    return list(Tag.objects.filter(slug__in=slugs))


def _record(*, user_id, activity: str, key: str, data: dict[str, Any]) -> None:
    game_services.activity_record(user_id=user_id, activity=activity, idempotency_key=key, data=data)


def _publish_if_first_time(template: PromptTemplate) -> None:
    """Credit `template.published` the first time a template goes public, never again."""
    if template.visibility != Visibility.PUBLIC or template.published_at is not None:
        return
    template.published_at = timezone.now()
    PromptTemplate.objects.filter(pk=template.pk).update(published_at=template.published_at)
    _record(
        user_id=template.owner_id,
        activity="template.published",
        key=f"template.published:{template.pk}",
        data={"template_id": str(template.pk)},
    )


def _version_write(*, template: PromptTemplate, author) -> TemplateVersion:
    return TemplateVersion.objects.create(
        template=template,
        number=template.version,
        title=template.title,
        content=template.content,
        variable_specs=template.variable_specs,
        author=author,
    )


@transaction.atomic
def template_create(
    *,
    owner,
    title: str,
    content: str,
    description: str = "",
    variable_specs: Mapping[str, Any] | None = None,
    category: Category | None = None,
    tags: Iterable[str] = (),
    difficulty: str = Difficulty.BEGINNER,
    visibility: str = Visibility.PRIVATE,
    forked_from: PromptTemplate | None = None,
) -> PromptTemplate:
    """A new template with version 1; reports `template.created` (and `template.published` if public)."""
    template = PromptTemplate.objects.create(
        owner=owner,
        title=title,
        description=description,
        content=content,
        variable_specs=checked_specs(content=content, variable_specs=variable_specs),
        category=category,
        difficulty=difficulty,
        visibility=visibility,
        forked_from=forked_from,
        version=1,
    )
    template.tags.set(tags_get_or_create(slugs=tags))
    _version_write(template=template, author=owner)
    if forked_from is None:
        # A fork is credited to the original's owner (template_fork), not as new authorship.
        _record(
            user_id=owner.pk,
            activity="template.created",
            key=f"template.created:{template.pk}",
            data={"template_id": str(template.pk)},
        )
    _publish_if_first_time(template)
    return template


def _locked_for_owner(*, template: PromptTemplate, actor) -> PromptTemplate:
    locked = PromptTemplate.objects.select_for_update().filter(pk=template.pk).first()
    if locked is None:
        raise Http404("No template matches the given id.")
    if locked.owner_id != actor.pk:
        raise PermissionDenied("Only the owner can change this template.")
    return locked


@transaction.atomic
def template_update(*, template: PromptTemplate, actor, **changes: Any) -> PromptTemplate:
    """Apply the owner's changes; a change of title, content or specs saves the next version."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    users_lock(user_ids=[actor.pk])  # publishing awards the owner
    template = _locked_for_owner(template=template, actor=actor)
    tags = changes.pop("tags", None)
    if "content" in changes or "variable_specs" in changes:
        content = changes.get("content", template.content)
        if "variable_specs" in changes:
            specs = changes["variable_specs"]
        else:
            # Editing the content alone drops the specs of variables it no longer uses.
            names = set(content_variables(content=content))
            specs = {name: spec for name, spec in template.variable_specs.items() if name in names}
        changes["variable_specs"] = checked_specs(content=content, variable_specs=specs)
    versioned = any(field in changes and changes[field] != getattr(template, field) for field in VERSIONED_FIELDS)
    for field, value in changes.items():
        setattr(template, field, value)
    if versioned:
        template.version += 1
    template.save()
    if tags is not None:
        template.tags.set(tags_get_or_create(slugs=tags))
    if versioned:
        _version_write(template=template, author=actor)
    _publish_if_first_time(template)
    return template


@transaction.atomic
def template_version_restore(*, template: PromptTemplate, actor, number: int) -> tuple[PromptTemplate, bool]:
    """The owner brings back a saved version's title, content and specs as the next version.

    History stays append-only: the old version is copied, never reused. Returns the template and
    whether a version was written (False when the current state already is that version's).
    """
    users_lock(user_ids=[actor.pk])  # template_update's order: the owner, then the template
    locked = _locked_for_owner(template=template, actor=actor)
    version = TemplateVersion.objects.filter(template=locked, number=number).first()
    if version is None:
        raise Http404(f"Version {number} does not exist.")
    before = locked.version
    restored = template_update(
        template=locked,
        actor=actor,
        title=version.title,
        content=version.content,
        variable_specs=version.variable_specs,
    )
    return restored, restored.version != before


@transaction.atomic
def template_delete(*, template: PromptTemplate, actor) -> None:
    """The owner deletes a template with its versions, ratings and favourites; forks keep living.

    Reports `template.deleted`: the game's template badges count templates that exist.
    """
    users_lock(user_ids=[actor.pk])  # the game's record locks the owner, who comes before the template
    locked = _locked_for_owner(template=template, actor=actor)
    _record(
        user_id=locked.owner_id,
        activity="template.deleted",
        key=f"template.deleted:{locked.pk}",
        data={"template_id": str(locked.pk)},
    )
    locked.delete()


@transaction.atomic
def template_unpublish(*, template: PromptTemplate, actor) -> PromptTemplate:
    """Staff moderation: take a template out of lists and links by making it private to its owner."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff can unpublish templates.")
    template = PromptTemplate.objects.select_for_update().get(pk=template.pk)
    template.visibility = Visibility.PRIVATE
    template.save(update_fields=["visibility", "updated_at"])
    return template


def _hold_template(template: PromptTemplate) -> None:
    """Lock the template row until commit so it cannot be deleted under a new rating or favourite.

    A template deleted meanwhile is a 404 instead of a foreign-key error at commit. Writes to one
    template's counters queue here (they would at their UPDATE anyway); reads are not blocked.
    """
    if PromptTemplate.objects.select_for_update(no_key=True).filter(pk=template.pk).values_list("pk").first() is None:
        raise Http404("No template matches the given id.")


@transaction.atomic
def template_fork(*, template: PromptTemplate, user) -> PromptTemplate:
    """A private copy of the template's current version owned by `user`, with `forked_from` set."""
    users_lock(user_ids=[user.pk, template.owner_id])
    _hold_template(template)
    fork = template_create(
        owner=user,
        title=template.title,
        description=template.description,
        content=template.content,
        variable_specs=template.variable_specs,
        category=template.category,
        tags=[tag.slug for tag in template.tags.all()],
        difficulty=template.difficulty,
        visibility=Visibility.PRIVATE,
        forked_from=template,
    )
    if template.owner_id != user.pk:
        _record(
            user_id=template.owner_id,
            activity="template.forked",
            key=f"template.forked:{fork.pk}",
            data={"template_id": str(template.pk), "fork_id": str(fork.pk), "actor_id": str(user.pk)},
        )
    return fork


@transaction.atomic
def template_rate(*, template: PromptTemplate, user, score: int) -> Rating:
    """Rate someone else's template 1-5; rating again changes the score. Counters move by F()."""
    if template.owner_id == user.pk:
        raise ValidationError({"template": ["You cannot rate your own template."]})
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({"score": ["Must be a whole number from 1 to 5."]})
    users_lock(user_ids=[user.pk, template.owner_id])
    _hold_template(template)
    rating = Rating.objects.select_for_update().filter(template=template, user=user).first()
    created = False
    if rating is None:
        try:
            with transaction.atomic():
                rating = Rating.objects.create(template=template, user=user, score=score)
            created = True
        except IntegrityError:
            # The same user's concurrent request inserted first: fall through to a change.
            rating = Rating.objects.select_for_update().get(template=template, user=user)
    if created:
        sum_delta, count_delta = score, 1
    else:
        sum_delta, count_delta = score - rating.score, 0
        if sum_delta:
            rating.score = score
            rating.save(update_fields=["score", "updated_at"])
    if sum_delta or count_delta:
        # One UPDATE reads the old row values for every expression, so the average matches the new sum/count.
        PromptTemplate.objects.filter(pk=template.pk).update(
            rating_sum=F("rating_sum") + sum_delta,
            rating_count=F("rating_count") + count_delta,
            rating_avg=Cast(F("rating_sum") + sum_delta, FloatField()) / (F("rating_count") + count_delta),
        )
    if created:
        _record(
            user_id=template.owner_id,
            activity="template.rated",
            key=f"template.rated:{template.pk}:{user.pk}",
            data={"template_id": str(template.pk), "score": score, "actor_id": str(user.pk)},
        )
        _record(
            user_id=user.pk,
            activity="rating.given",
            key=f"rating.given:{template.pk}:{user.pk}",
            data={"template_id": str(template.pk), "score": score},
        )
    return rating


@transaction.atomic
def template_favorite_add(*, template: PromptTemplate, user) -> bool:
    """Favourite a template; False if it already was. The owner is credited once per user."""
    users_lock(user_ids=[user.pk, template.owner_id])
    _hold_template(template)
    if Favorite.objects.filter(template=template, user=user).exists():
        return False
    try:
        with transaction.atomic():
            Favorite.objects.create(template=template, user=user)
    except IntegrityError:
        return False  # the same user's concurrent request won
    PromptTemplate.objects.filter(pk=template.pk).update(favorites_count=F("favorites_count") + 1)
    if template.owner_id != user.pk:
        _record(
            user_id=template.owner_id,
            activity="favorite.received",
            key=f"favorite.received:{template.pk}:{user.pk}",
            data={"template_id": str(template.pk), "actor_id": str(user.pk)},
        )
    return True


@transaction.atomic
def template_favorite_remove(*, template: PromptTemplate, user) -> bool:
    """Un-favourite a template; False if it was not a favourite."""
    _hold_template(template)  # before the favourite row, as template_favorite_add takes them
    deleted, _ = Favorite.objects.filter(template=template, user=user).delete()
    if not deleted:
        return False
    PromptTemplate.objects.filter(pk=template.pk).update(favorites_count=F("favorites_count") - 1)
    return True


def template_record_use(*, template_id, user_id) -> None:
    """A run used the template (the caller checked it may see it): count it atomically.

    Run after the run's settle has committed, holding no other lock (the lock order above).
    """
    PromptTemplate.objects.filter(pk=template_id).update(usage_count=F("usage_count") + 1)
    signals.template_counted.send(sender=PromptTemplate, template_id=template_id)


@transaction.atomic
def template_import(
    *, owner, template: Mapping[str, Any], versions: Iterable[Mapping[str, Any]] = ()
) -> PromptTemplate:
    """A private template from an exported document; its history is replayed as versions 1..N."""
    history = [dict(version) for version in versions]
    for position, version in enumerate(history):
        try:
            version["variable_specs"] = checked_specs(
                content=version["content"], variable_specs=version.get("variable_specs")
            )
        except ValidationError as exc:
            raise ValidationError({"versions": {str(position): exc.detail}}) from None
    current = {"title": template["title"], "content": template["content"]}
    current["variable_specs"] = checked_specs(
        content=template["content"], variable_specs=template.get("variable_specs")
    )
    states = [*history]
    if not states or {field: states[-1][field] for field in VERSIONED_FIELDS} != current:
        states.append(current)
    created = PromptTemplate.objects.create(
        owner=owner,
        title=current["title"],
        description=template.get("description", ""),
        content=current["content"],
        variable_specs=current["variable_specs"],
        category=template.get("category"),
        difficulty=template.get("difficulty") or Difficulty.BEGINNER,
        visibility=Visibility.PRIVATE,
        version=len(states),
    )
    created.tags.set(tags_get_or_create(slugs=template.get("tags") or []))
    TemplateVersion.objects.bulk_create(
        TemplateVersion(
            template=created,
            number=number,
            title=state["title"],
            content=state["content"],
            variable_specs=state["variable_specs"],
            author=owner,
        )
        for number, state in enumerate(states, start=1)
    )
    _record(
        user_id=owner.pk,
        activity="template.created",
        key=f"template.created:{created.pk}",
        data={"template_id": str(created.pk), "imported": True},
    )
    return created
