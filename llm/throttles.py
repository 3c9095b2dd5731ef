"""The `ai_requests` throttle: runs per user per fixed window, shared by REST and the playground socket.

Every AI request a user makes is a run row, so the throttle counts the user's runs created in the
current window (`THROTTLE_AI_REQUESTS`, 50/hour by default) inside the run start itself
(`llm.services.run_start`). The start holds the user's row lock while it counts, so the limit is
exact across server processes and concurrent requests. Requests refused before a run exists
(invalid input, the concurrency limit) do not count.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from llm import conf

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _parse_rate(rate: str) -> tuple[int, int]:
    num, period = rate.split("/")
    return int(num), _PERIODS[period.strip()[0]]


@dataclass(frozen=True)
class Window:
    """A fixed window (the `ai_requests` throttle's, the free runs' day): at most `limit` runs created since `start`."""

    limit: int
    start: datetime
    end: datetime

    def retry_after(self, now: datetime) -> float:
        """Seconds until the window reopens (at least one)."""
        return max(1.0, (self.end - now).total_seconds())


def ai_requests_window(now: datetime) -> Window:
    limit, duration = _parse_rate(conf.ai_requests_rate())
    return _fixed_window(limit, duration, now)


def free_runs_window(now: datetime) -> Window:
    """The UTC day of an unverified account's free runs (UNVERIFIED_FREE_RUNS_PER_DAY)."""
    return _fixed_window(conf.unverified_free_runs_per_day(), _PERIODS["d"], now)


def _fixed_window(limit: int, duration: int, now: datetime) -> Window:
    start = int(now.timestamp() // duration) * duration
    return Window(
        limit=limit,
        start=datetime.fromtimestamp(start, UTC),
        end=datetime.fromtimestamp(start + duration, UTC),
    )
