"""llm-rubric: the configured judge model reads the rubric and the output and answers PASS or FAIL.

The judge is the platform's grader, not the learner's run: it is called straight through its
provider at temperature 0, neither charged nor kept in anyone's history.
"""

import logging
from contextlib import aclosing

from challenges import conf
from challenges.checks import Verdict
from llm import registry
from llm.providers.base import ProviderError, Usage

logger = logging.getLogger(__name__)

JUDGE_MAX_TOKENS = 8
JUDGE_SYSTEM = (
    "You grade the output of another model against a rubric. Answer with exactly one word: "
    "PASS if the output meets the rubric, FAIL if it does not."
)


def judge_prompt(*, rubric: str, output: str) -> str:
    return (
        f"Rubric:\n<rubric>\n{rubric}\n</rubric>\n\nOutput:\n<output>\n{output}\n</output>\n\nVerdict (PASS or FAIL):"
    )


async def verdict(*, rubric: str, output: str) -> Verdict:
    """The judge's verdict on `output`; a judge that cannot answer fails the check, saying so."""
    model_id = conf.judge_model()
    if not model_id:
        return Verdict(False, "no judge model is configured")
    try:
        spec = registry.model_get(model_id)
        request = spec.request(
            prompt=judge_prompt(rubric=rubric, output=output),
            system=JUDGE_SYSTEM,
            temperature=0.0,
            max_tokens=JUDGE_MAX_TOKENS,
        )
        parts: list[str] = []
        async with aclosing(registry.provider_for(model_id).stream(request)) as stream:
            async for item in stream:
                if not isinstance(item, Usage):
                    parts.append(item)
    except (ProviderError, registry.UnknownModel, registry.ParamsError) as exc:
        logger.warning("the judge model %s could not grade: %s", model_id, exc)
        return Verdict(False, "the judge model could not be reached")
    answer = "".join(parts).strip().upper()
    if answer.startswith("PASS"):
        return Verdict(True, "the judge found the rubric met")
    return Verdict(False, "the judge found the rubric not met")
