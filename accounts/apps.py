from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        # Register the tasks in every process, not only in workers: a reset request queues
        # `accounts.password_reset_email_send` by name, and eager mode (development) runs it in place.
        from accounts import schema, tasks  # noqa: F401  (the schema's security scheme registers itself)
