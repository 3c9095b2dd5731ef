"""Signals prompts sends where Django's model signals stay silent."""

from django.dispatch import Signal

# A template's counters moved by an UPDATE (its uses; an UPDATE sends no post_save): sent with
# `template_id` once the row is written.
template_counted = Signal()
