"""Authoring writes: create, update (a new immutable version when what is graded changes), import,
publish, and staff moderation. One transaction each.

Callers pass documents checked by `challenges.documents.ChallengeDocumentSerializer`
(`challenge_import` checks its own). A challenge becomes public only once its author has a
passing attempt at the current version; a new version of an authored challenge goes back to
private until the author passes it again. The built-in curriculum (no author) is public and
edited by staff.
"""

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.text import slugify
from rest_framework.exceptions import ValidationError

from challenges import documents, selectors
from challenges.models import RESERVED_SLUGS, Challenge, ChallengeVersion, Visibility

# Document field -> model field, for the fields whose names differ.
_MODEL_FIELD = {"models": "allowed_models"}
VERSIONED_FIELDS = (
    "brief",
    "cases",
    "samples",
    "pass_threshold",
    "par_tokens",
    "allowed_models",
    "default_model",
    "params",
    "system",
    "system_hidden",
)
PLAIN_FIELDS = (
    "title",
    "summary",
    "track",
    "technique",
    "difficulty",
    "hints",
    "reference_prompt",
    "reference_system",
    "naive_prompt",
)
_CASE_ID = re.compile(documents.CASE_ID_PATTERN)


def _fields(document: Mapping[str, Any]) -> dict[str, Any]:
    """The model fields a validated document sets."""
    values = {_MODEL_FIELD.get(key, key): value for key, value in document.items() if key != "slug"}
    return {key: values[key] for key in (*VERSIONED_FIELDS, *PLAIN_FIELDS) if key in values}


def _unique_slug(wanted: str) -> str:
    base = slugify(wanted)[:70].strip("-") or "challenge"
    slug, suffix = base, 2
    while slug in RESERVED_SLUGS or Challenge.objects.filter(slug=slug).exists():
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


def _with_case_ids(cases: list[dict[str, Any]], *, known: set[str], next_number: int) -> tuple[list[dict], int]:
    """Cases with stable ids: a known id is kept, any other case gets a new one (ids are never reused)."""
    kept: set[str] = set()
    for case in cases:
        case_id = case.get("id")
        if isinstance(case_id, str) and case_id in known and case_id not in kept:
            kept.add(case_id)
    numbered = []
    for case in cases:
        case_id = case.get("id")
        if not (isinstance(case_id, str) and case_id in kept):
            case_id, next_number = f"c{next_number}", next_number + 1
        kept.discard(case_id)
        numbered.append(
            {"id": case_id, "input": case["input"], "checks": case["checks"], "hidden": case.get("hidden", False)}
        )
    return numbered, next_number


def _document_ids(cases: list[dict[str, Any]]) -> tuple[set[str], int]:
    """The ids a new challenge may keep from its document (well-formed, distinct) and the next free number."""
    ids = [case.get("id") for case in cases]
    valid = {case_id for case_id in ids if isinstance(case_id, str) and _CASE_ID.fullmatch(case_id)}
    valid = {case_id for case_id in valid if ids.count(case_id) == 1}
    highest = max((int(case_id[1:]) for case_id in valid), default=0)
    return valid, highest + 1


def _count_cases(challenge: Challenge) -> None:
    challenge.hidden_cases = sum(1 for case in challenge.cases if case["hidden"])
    challenge.public_cases = len(challenge.cases) - challenge.hidden_cases


def _version_write(challenge: Challenge) -> ChallengeVersion:
    return ChallengeVersion.objects.create(
        challenge=challenge,
        number=challenge.version,
        **{field: getattr(challenge, field) for field in VERSIONED_FIELDS},
    )


def _check_publishable(challenge: Challenge) -> None:
    if challenge.builtin:
        return
    if not selectors.author_passed(challenge=challenge):
        raise ValidationError(
            {"visibility": [f"Pass version {challenge.version} of your challenge yourself before making it public."]}
        )


@transaction.atomic
def challenge_create(*, author, document: Mapping[str, Any], builtin: bool = False) -> Challenge:
    """A new challenge at version 1 from a validated document: private, or public when built in."""
    fields = _fields(document)
    known, next_number = _document_ids(fields["cases"])
    fields["cases"], next_number = _with_case_ids(fields["cases"], known=known, next_number=next_number)
    challenge = Challenge(
        slug=_unique_slug(document.get("slug") or document["title"]),
        author=None if builtin else author,
        builtin=builtin,
        visibility=Visibility.PUBLIC if builtin else Visibility.PRIVATE,
        next_case_number=next_number,
        version=1,
        **fields,
    )
    _count_cases(challenge)
    challenge.save(force_insert=True)
    _version_write(challenge)
    return challenge


def challenge_check_editor(*, challenge: Challenge, actor) -> None:
    """Raise PermissionDenied unless `actor` may edit the challenge: its author, or staff for a built-in."""
    allowed = actor.is_staff if challenge.builtin else challenge.author_id == actor.pk
    if not allowed:
        raise PermissionDenied("Only the author can change this challenge.")


def _locked_for_editor(*, challenge: Challenge, actor) -> Challenge:
    locked = Challenge.objects.select_for_update().get(pk=challenge.pk)
    challenge_check_editor(challenge=locked, actor=actor)
    return locked


@transaction.atomic
def challenge_update(
    *, challenge: Challenge, actor, document: Mapping[str, Any] | None = None, visibility: str | None = None
) -> Challenge:
    """Apply the author's validated document; a change to what is graded saves the next version.

    `visibility="public"` needs the author's passing attempt at the (resulting) current version.
    """
    challenge = _locked_for_editor(challenge=challenge, actor=actor)
    fields = _fields(document or {})
    if "cases" in fields:
        fields["cases"], challenge.next_case_number = _with_case_ids(
            fields["cases"], known={case["id"] for case in challenge.cases}, next_number=challenge.next_case_number
        )
    versioned = any(field in fields and fields[field] != getattr(challenge, field) for field in VERSIONED_FIELDS)
    for field, value in fields.items():
        setattr(challenge, field, value)
    _count_cases(challenge)
    if versioned:
        challenge.version += 1
        if not challenge.builtin:
            challenge.visibility = Visibility.PRIVATE  # public again once the author passes this version
    if visibility is not None:
        if visibility == Visibility.PUBLIC and challenge.visibility != Visibility.PUBLIC:
            _check_publishable(challenge)
        challenge.visibility = visibility
    challenge.save()
    if versioned:
        _version_write(challenge)
    return challenge


def _checked_document(document: Any) -> dict[str, Any]:
    serializer = documents.ChallengeDocumentSerializer(data=document)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@transaction.atomic
def challenge_import(*, author, document: Any) -> Challenge:
    """A private challenge of `author` from an exported document (its slug kept when free)."""
    return challenge_create(author=author, document=_checked_document(document))


@transaction.atomic
def challenge_builtin_upsert(*, document: Any) -> tuple[Challenge, bool]:
    """Create or update a built-in challenge from its curriculum document, by slug; (challenge, created)."""
    checked = _checked_document(document)
    slug = checked.get("slug") or slugify(checked["title"])
    existing = Challenge.objects.filter(slug=slug).first()
    if existing is None:
        return challenge_create(author=None, document={**checked, "slug": slug}, builtin=True), True
    if not existing.builtin:
        raise ValidationError({"slug": [f"The slug {slug!r} belongs to a learner's challenge."]})
    challenge = Challenge.objects.select_for_update().get(pk=existing.pk)
    fields = _fields(checked)
    fields["cases"], challenge.next_case_number = _with_case_ids(
        fields["cases"], known={case["id"] for case in challenge.cases}, next_number=challenge.next_case_number
    )
    versioned = any(fields[field] != getattr(challenge, field) for field in VERSIONED_FIELDS)
    changed = versioned or any(fields[field] != getattr(challenge, field) for field in PLAIN_FIELDS)
    if not changed:
        return challenge, False
    for field, value in fields.items():
        setattr(challenge, field, value)
    _count_cases(challenge)
    if versioned:
        challenge.version += 1
    challenge.save()
    if versioned:
        _version_write(challenge)
    return challenge, False


@transaction.atomic
def challenge_feature(*, challenge: Challenge, actor, featured: bool) -> Challenge:
    """Staff: feature a public challenge at the top of the list, or stop featuring it."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff can feature challenges.")
    challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)
    if featured and challenge.visibility != Visibility.PUBLIC:
        raise ValidationError({"featured": ["Only public challenges can be featured."]})
    challenge.featured = featured
    challenge.save(update_fields=["featured", "updated_at"])
    return challenge


@transaction.atomic
def challenge_unpublish(*, challenge: Challenge, actor) -> Challenge:
    """Staff moderation: take a challenge out of lists and links (private to its author, unfeatured)."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff can unpublish challenges.")
    challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)
    challenge.visibility, challenge.featured = Visibility.PRIVATE, False
    challenge.save(update_fields=["visibility", "featured", "updated_at"])
    return challenge
