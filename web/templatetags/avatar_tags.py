"""The avatar upload's limits, as the settings partial states them."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def avatar_max_bytes() -> int:
    return settings.AVATAR_MAX_BYTES


@register.simple_tag
def avatar_max_size() -> str:
    """AVATAR_MAX_BYTES for people: "2 MiB", "512 KiB"."""
    kib = settings.AVATAR_MAX_BYTES / 1024
    return f"{kib / 1024:g} MiB" if kib >= 1024 else f"{kib:g} KiB"
