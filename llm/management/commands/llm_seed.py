"""`manage.py llm_seed`: write the environment's connections and models as rows (idempotent)."""

from django.core.management.base import BaseCommand

from llm.connection_services import connections_seed


class Command(BaseCommand):
    help = (
        "Store the connections and models that OPENAI_*, ANTHROPIC_* and LLM_MODELS_JSON describe as "
        "database rows, where none of that name exists yet, so they can be edited in the admin."
    )

    def handle(self, *args, **options) -> None:
        added = connections_seed()
        self.stdout.write(f"added: {', '.join(added)}" if added else "nothing to add")
