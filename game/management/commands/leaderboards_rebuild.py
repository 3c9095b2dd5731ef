"""`manage.py leaderboards_rebuild [--async]`: rebuild the Redis leaderboards from the database."""

from django.core.management.base import BaseCommand

from game import services, tasks


class Command(BaseCommand):
    help = "Rebuild every leaderboard from the database (now, or queued to a worker with --async)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--async", action="store_true", dest="queued", help="queue the Celery task instead")

    def handle(self, *args, queued: bool = False, **options) -> None:
        if queued:
            tasks.leaderboards_rebuild.delay()
            self.stdout.write("Rebuild queued.")
            return
        counts = services.leaderboards_rebuild()
        self.stdout.write(", ".join(f"{board}: {n} ranked" for board, n in counts.items()) or "No Redis configured.")
