"""Signals llm sends where Django's model signals stay silent."""

from django.dispatch import Signal

# Runs written in bulk (an open batch's runs; `bulk_create` sends no post_save): sent with `runs`,
# the new LLMRun rows, inside the transaction that wrote them.
runs_created = Signal()
