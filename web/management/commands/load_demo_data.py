"""`manage.py load_demo_data`: idempotent demo content for `make run`.

Each app may ship `<app>/demo.py` with a `load()` that creates what is missing and returns
what to print (lines, or a mapping of counts); they run in layer order, so later apps can build on earlier ones' data.
"""

import importlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

DEMO_APPS = ("accounts", "game", "prompts", "llm", "challenges", "insights", "web")


def demo_module(app: str):
    """The app's demo module, or None when it has none."""
    try:
        return importlib.import_module(f"{app}.demo")
    except ModuleNotFoundError as exc:
        if exc.name == f"{app}.demo":
            return None
        raise


def summary_lines(result) -> list[str]:
    """What a loader reports, as lines: a list of lines, a mapping of counts, a string, or nothing."""
    if not result:
        return []
    if isinstance(result, str):
        return [result]
    if isinstance(result, dict):
        return [f"{key}: {value}" for key, value in result.items()]
    return [str(line) for line in result]


class Command(BaseCommand):
    help = "Load demo users and content (safe to run again: only what is missing is created)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Load even when DEBUG is off.")

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo data has well-known passwords; use --force to load it with DEBUG off.")
        for app in DEMO_APPS:
            module = demo_module(app)
            if module is None:
                continue
            for line in summary_lines(module.load()):
                self.stdout.write(f"{app}: {line}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
