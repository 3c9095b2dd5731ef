"""The score formula and its breakdown."""

import pytest

from challenges.scoring import FORMULA, attempt_score, length_factor


def score(passed: int, total: int, tokens: int, par: int = 40, threshold: float = 1.0):
    return attempt_score(
        passed_samples=passed, total_samples=total, prompt_tokens=tokens, par_tokens=par, pass_threshold=threshold
    )


@pytest.mark.parametrize(
    ("passed", "total", "tokens", "expected"),
    [
        (5, 5, 40, 1000),  # at par
        (5, 5, 10, 1000),  # under par gains nothing
        (5, 5, 80, 707),  # twice par: sqrt(1/2)
        (5, 5, 160, 500),  # four times par
        (4, 5, 40, 800),
        (4, 5, 80, 566),
        (0, 5, 40, 0),
    ],
)
def test_score_is_pass_rate_times_the_length_factor(passed, total, tokens, expected):
    assert score(passed, total, tokens).score == expected


def test_an_attempt_passes_at_the_threshold():
    assert score(5, 5, 40).passed
    assert not score(4, 5, 40).passed
    assert score(4, 5, 40, threshold=0.8).passed
    assert score(2, 3, 40, threshold=2 / 3).passed  # no float noise at the boundary
    assert not score(0, 0, 40, threshold=0.01).passed


def test_the_breakdown_explains_the_score():
    assert score(4, 5, 80).breakdown == {
        "formula": FORMULA,
        "passed_samples": 4,
        "total_samples": 5,
        "pass_rate": 0.8,
        "pass_threshold": 1.0,
        "prompt_tokens": 80,
        "par_tokens": 40,
        "length_factor": 0.7071,
        "correctness_points": 800,
        "length_penalty": 234,
        "score": 566,
    }


def test_length_factor_never_divides_by_zero():
    assert length_factor(prompt_tokens=0, par_tokens=10) == 1.0
