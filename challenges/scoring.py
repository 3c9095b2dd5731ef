"""An attempt's score: 0-1000 from its pass rate and its prompt's length against the challenge's par.

    score = round(1000 x pass_rate x min(1, par_tokens / prompt_tokens) ^ 0.5)

Correctness first: the pass rate scales the score linearly. Length costs only above par, and
gently (twice par keeps 71%, four times par 50%); going under par gains nothing, so a prompt at
par that passes every case scores 1000. Documented in README ("Challenges").
"""

from dataclasses import dataclass
from typing import Any

MAX_SCORE = 1000
LENGTH_EXPONENT = 0.5
FORMULA = "round(1000 * pass_rate * min(1, par_tokens / prompt_tokens) ** 0.5)"


@dataclass(frozen=True)
class Score:
    score: int
    passed: bool
    pass_rate: float
    breakdown: dict[str, Any]


def length_factor(*, prompt_tokens: int, par_tokens: int) -> float:
    """1 at or under par, then (par / tokens) ** 0.5."""
    return min(1.0, par_tokens / max(prompt_tokens, 1)) ** LENGTH_EXPONENT


def attempt_score(
    *, passed_samples: int, total_samples: int, prompt_tokens: int, par_tokens: int, pass_threshold: float
) -> Score:
    """The score of an attempt whose samples were all graded; it passes at `pass_threshold`."""
    pass_rate = passed_samples / total_samples if total_samples else 0.0
    factor = length_factor(prompt_tokens=prompt_tokens, par_tokens=par_tokens)
    score = round(MAX_SCORE * pass_rate * factor)
    passed = total_samples > 0 and passed_samples >= pass_threshold * total_samples - 1e-9
    breakdown = {
        "formula": FORMULA,
        "passed_samples": passed_samples,
        "total_samples": total_samples,
        "pass_rate": round(pass_rate, 4),
        "pass_threshold": pass_threshold,
        "prompt_tokens": prompt_tokens,
        "par_tokens": par_tokens,
        "length_factor": round(factor, 4),
        "correctness_points": round(MAX_SCORE * pass_rate),
        "length_penalty": round(MAX_SCORE * pass_rate) - score,
        "score": score,
    }
    return Score(score=score, passed=passed, pass_rate=pass_rate, breakdown=breakdown)
