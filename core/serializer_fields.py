"""DRF serializer fields shared by the apps."""

from typing import Any

from rest_framework import serializers

from core import safe_json


class JSONField(serializers.JSONField):
    """DRF's JSONField; a form field's text (multipart or urlencoded input) is parsed with core.safe_json's limits.

    A JSON body is parsed with those limits already (config.parsers); DRF's own field would parse
    form text with plain json.loads, where a document nested a thousand deep is a RecursionError.
    """

    def to_internal_value(self, data: Any) -> Any:
        if getattr(data, "is_json_string", False):
            try:
                return safe_json.loads(data)
            except ValueError:
                self.fail("invalid")
        return super().to_internal_value(data)
