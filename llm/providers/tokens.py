"""Token estimates for when the exact count is not known (credit reservations, servers without usage)."""

import math


def estimate_tokens(*texts: str | None) -> int:
    """A deliberately generous estimate: 3 UTF-8 bytes per token (English averages about 4 characters)."""
    return sum(math.ceil(len(text.encode()) / 3) for text in texts if text)
