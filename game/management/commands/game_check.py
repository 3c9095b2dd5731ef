"""`manage.py game_check [--repair]`: verify user counters against the XP and credit ledgers."""

from django.core.management.base import BaseCommand, CommandError

from game.consistency import progress_check


class Command(BaseCommand):
    help = "Verify (and with --repair fix) XP, level, rank and credits against the ledgers."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--repair", action="store_true", help="write the ledger values back")

    def handle(self, *args, repair: bool = False, **options) -> None:
        mismatches = progress_check(repair=repair)
        for m in mismatches:
            self.stdout.write(f"{m.user_id} {m.field}: stored {m.stored!r}, ledger says {m.expected!r}")
        if not mismatches:
            self.stdout.write(self.style.SUCCESS("All counters match the ledgers."))
        elif repair:
            self.stdout.write(self.style.SUCCESS(f"Repaired {len(mismatches)} counter(s)."))
        else:
            raise CommandError(f"{len(mismatches)} counter(s) disagree with the ledgers; run with --repair.")
