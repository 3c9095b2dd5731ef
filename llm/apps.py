from django.apps import AppConfig


class LlmConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "llm"

    def ready(self) -> None:
        # Register the tasks in every process, not only in workers: the run settle queues
        # `llm.run_completed_record` by name, and eager mode (development) runs it in place.
        from llm import tasks  # noqa: F401
