"""Roll a range of UTC days up again from the raw tables (default: everything up to the grace line)."""

from datetime import UTC, datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from insights import rollups


def _day(value: str) -> datetime:
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time.min, tzinfo=UTC)
    except ValueError as error:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from error


class Command(BaseCommand):
    help = "Rebuild the insights rollups for UTC days FROM..TO (inclusive); without them, all history."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="start", help="first UTC day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", help="last UTC day, YYYY-MM-DD")

    def handle(self, *args, start: str | None, end: str | None, **options) -> None:
        if start is None and end is None:
            steps, line = rollups.rollup_all()
            self.stdout.write(f"rolled up {steps} day(s) up to {line.isoformat()}")
            return
        lo = _day(start) if start else rollups.earliest_fact()
        hi = _day(end) + timedelta(days=1) if end else timezone.now()
        if lo is None or lo >= hi:
            raise CommandError("--from must not be after --to")
        # Never past the grace line: slots after it are still read from the raw tables.
        until, _ = rollups.rolled_until()
        hi = min(hi, until) if until else hi
        steps = rollups.rollup_days(start=lo, end=hi)
        self.stdout.write(f"rolled up {steps} day(s) from {lo.isoformat()} to {hi.isoformat()}")
