"""Token estimates for when the exact count is not known (credit reservations, servers without usage)."""

import math


def estimate_tokens(*texts: str | None) -> int:
    """A deliberately generous estimate: about 3 characters per token (English averages about 4)."""
    return sum(math.ceil(len(text) / 3) for text in texts if text)
