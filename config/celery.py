"""Celery application: broker and eager mode come from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("promptcraft")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
