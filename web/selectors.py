"""Reads and input parsing for the pages."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils.safestring import SafeString

from challenges import selectors as challenge_selectors
from challenges.models import Challenge, Technique, Visibility
from llm import registry
from prompts.models import Difficulty
from web.markdown import render_lesson

BOARDS = ("all-time", "weekly", "monthly")
DEFAULT_WIDGET_SIZE = 10
MAX_WIDGET_SIZE = 100
# Far more than the curriculum holds: the catalogue page lists every public challenge at once.
CATALOGUE_LIMIT = 500


def widget_board_params(query: Mapping[str, str]) -> tuple[str, int]:
    """The board and size a widget asks for, with unknown boards and bad sizes falling back to defaults."""
    board = query.get("board", "weekly")
    if board not in BOARDS:
        board = "weekly"
    try:
        size = int(query.get("size", DEFAULT_WIDGET_SIZE))
    except (TypeError, ValueError):
        size = DEFAULT_WIDGET_SIZE
    return board, min(max(size, 1), MAX_WIDGET_SIZE)


@dataclass(frozen=True)
class ChallengeCard:
    """What the catalogue shows of a challenge to anyone (the page adds the visitor's own marks)."""

    slug: str
    title: str
    summary: str
    track: str
    technique: str
    technique_label: str
    difficulty: str
    difficulty_label: str
    par_tokens: int
    public_cases: int
    hidden_cases: int
    solvers_count: int
    featured: bool


@dataclass(frozen=True)
class ModelChoice:
    id: str
    name: str
    available: bool


@dataclass(frozen=True)
class ChallengePage:
    """A public challenge as its page shows it: the lesson as safe HTML and the public cases only."""

    card: ChallengeCard
    lesson: SafeString
    variables: list[str]
    cases: list[dict[str, Any]]  # public cases: {id, input, checks}
    models: list[ModelChoice]
    default_model: str
    samples: int
    pass_threshold: float
    params: dict[str, Any]
    hints: list[str]
    system: str  # empty when the challenge keeps its system prompt secret
    system_hidden: bool

    @property
    def hidden_numbers(self) -> range:
        """The numbers the page gives the hidden cases, after the public ones."""
        first = len(self.cases) + 1
        return range(first, first + self.card.hidden_cases)

    def script_data(self) -> dict[str, Any]:
        """What the page's script needs, for `json_script` (nothing about the hidden cases but their number)."""
        return {
            "slug": self.card.slug,
            "variables": self.variables,
            "cases": [{"id": case["id"], "input": case["input"]} for case in self.cases],
            "hidden_cases": self.card.hidden_cases,
            "samples": self.samples,
            "par_tokens": self.card.par_tokens,
            "pass_threshold": self.pass_threshold,
            "default_model": self.default_model,
        }


def _card(challenge: Challenge, solvers: int) -> ChallengeCard:
    return ChallengeCard(
        slug=challenge.slug,
        title=challenge.title,
        summary=challenge.summary,
        track=challenge.track,
        technique=challenge.technique,
        technique_label=Technique(challenge.technique).label,
        difficulty=challenge.difficulty,
        difficulty_label=Difficulty(challenge.difficulty).label,
        par_tokens=challenge.par_tokens,
        public_cases=challenge.public_cases,
        hidden_cases=challenge.hidden_cases,
        solvers_count=solvers,
        featured=challenge.featured,
    )


def _public_challenges():
    # The visibility filter is explicit because an anonymous user's missing id would otherwise
    # also match the author-less built-in challenges.
    return challenge_selectors.challenge_list(user=AnonymousUser()).filter(visibility=Visibility.PUBLIC)


def _cards(challenges: list[Challenge]) -> list[ChallengeCard]:
    # Nobody's view: the solvers counts, no personal figures.
    figures = challenge_selectors.challenge_figures(challenges=challenges, user=AnonymousUser())
    return [_card(challenge, figures.solvers.get(challenge.slug, 0)) for challenge in challenges]


def challenge_catalogue() -> list[ChallengeCard]:
    """Every public challenge, featured first, with its solvers count."""
    return _cards(list(_public_challenges()[:CATALOGUE_LIMIT]))


def _track_label(track: str) -> str:
    return track.replace("-", " ").capitalize()


def cards_by_track(cards: list[ChallengeCard]) -> list[tuple[str, str, list[ChallengeCard]]]:
    """(track, label, its cards) in the order the tracks first appear."""
    groups: dict[str, list[ChallengeCard]] = {}
    for card in cards:
        groups.setdefault(card.track, []).append(card)
    return [(track, _track_label(track), group) for track, group in groups.items()]


def challenge_facets(cards: list[ChallengeCard]) -> dict[str, list[tuple[str, str]]]:
    """The filter choices the catalogue offers: its tracks (in order of appearance), techniques, difficulties."""
    tracks = list(dict.fromkeys(card.track for card in cards))
    used = {card.technique for card in cards}
    return {
        "tracks": [(track, _track_label(track)) for track in tracks],
        "techniques": [(value, label) for value, label in Technique.choices if value in used],
        "difficulties": list(Difficulty.choices),
    }


def _model_choices(allowed: list[str]) -> list[ModelChoice]:
    listed = {model.spec.id: model for model in registry.models_list()}
    ids = allowed or list(listed)
    choices = []
    for model_id in ids:
        model = listed.get(model_id)
        name = model.spec.display_name if model else model_id
        choices.append(ModelChoice(id=model_id, name=name, available=bool(model and model.available)))
    return choices


def _visible_to(user, slug: str) -> Challenge | None:
    try:
        return challenge_selectors.challenge_get_visible(slug=slug, user=user)
    except Http404:
        return None


def challenge_page(slug: str, *, user=None) -> ChallengePage | None:
    """The challenge `slug` for its page: public, or (given `user`) one they may see; None otherwise."""
    challenge = _public_challenges().filter(slug=slug).first() if user is None else _visible_to(user, slug)
    if challenge is None:
        return None
    models = _model_choices(list(challenge.allowed_models))
    default = challenge.default_model or settings.LLM_DEFAULT_MODEL
    if models and default not in {model.id for model in models}:
        default = models[0].id
    return ChallengePage(
        card=_cards([challenge])[0],
        lesson=render_lesson(challenge.brief),
        variables=challenge.variables,
        cases=challenge_selectors.public_cases(challenge.cases),
        models=models,
        default_model=default,
        samples=challenge.samples,
        pass_threshold=challenge.pass_threshold,
        params=dict(challenge.params),
        hints=list(challenge.hints),
        system="" if challenge.system_hidden else challenge.system,
        system_hidden=challenge.system_hidden and bool(challenge.system),
    )
