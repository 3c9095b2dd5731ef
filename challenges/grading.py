"""A version's cases, prepared once per attempt, and the grading of one case sample.

cases = cases_prepare(version.cases)
cases["c1"].failed_early(streamed_so_far)   # index of a check the prefix has failed already, or None
results = await grade(cases["c1"], output)  # one CheckResult per check, in the case's order
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from challenges import checks, rubric


@dataclass(frozen=True)
class CheckResult:
    type: str
    passed: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "passed": self.passed, "message": self.message}


@dataclass(frozen=True)
class PreparedCase:
    id: str
    hidden: bool
    input: Mapping[str, str]
    checks: tuple[checks.PreparedCheck, ...]

    @property
    def needs_judge(self) -> bool:
        return any(check.rubric is not None for check in self.checks)

    def failed_early(self, prefix: str) -> int | None:
        """The first check that `prefix` (the output streamed so far) has failed for good, if any."""
        for index, check in enumerate(self.checks):
            if check.fails_on_prefix(prefix):
                return index
        return None

    def grade_local(self, output: str) -> list[CheckResult | None]:
        """Every check but llm-rubric (None in its place), on the stripped output."""
        text = output.strip()
        results: list[CheckResult | None] = []
        for check in self.checks:
            if check.rubric is not None:
                results.append(None)
                continue
            verdict = check.run(text)
            results.append(CheckResult(check.type, verdict.passed, verdict.message))
        return results


def cases_prepare(cases: list[dict[str, Any]]) -> dict[str, PreparedCase]:
    """The version's cases by id, their checks ready to judge outputs."""
    return {
        case["id"]: PreparedCase(
            id=case["id"],
            hidden=case["hidden"],
            input=case["input"],
            checks=tuple(checks.prepare(spec) for spec in case["checks"]),
        )
        for case in cases
    }


async def grade(case: PreparedCase, output: str) -> list[CheckResult]:
    """Every check of the case on `output`; llm-rubric checks ask the judge model."""
    results = case.grade_local(output)
    for index, check in enumerate(case.checks):
        if check.rubric is not None:
            verdict = await rubric.verdict(rubric=check.rubric, output=output.strip())
            results[index] = CheckResult(check.type, verdict.passed, verdict.message)
    return [result for result in results if result is not None]
