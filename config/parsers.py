"""The API's JSON parser: DRF's, with the limits of core.safe_json (depth, finite numbers, valid text)."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core import safe_json


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            return safe_json.loads(stream.read().decode(encoding))
        except ValueError as exc:  # UnicodeDecodeError and safe_json.JSONRefused among them
            raise ParseError(f"JSON parse error - {exc}") from None
