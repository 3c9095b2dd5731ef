"""`manage.py llm_rotate_keys`: re-encrypt every stored API key with the first LLM_ENCRYPTION_KEY."""

from django.core.management.base import BaseCommand

from llm.connection_services import keys_rotate


class Command(BaseCommand):
    help = "Re-encrypt connection and learner API keys with the first key of LLM_ENCRYPTION_KEY (rotation)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"re-encrypted {keys_rotate()} keys")
