"""Reads and input parsing for the pages."""

from collections.abc import Mapping

BOARDS = ("all-time", "weekly", "monthly")
DEFAULT_WIDGET_SIZE = 10
MAX_WIDGET_SIZE = 100


def widget_board_params(query: Mapping[str, str]) -> tuple[str, int]:
    """The board and size a widget asks for, with unknown boards and bad sizes falling back to defaults."""
    board = query.get("board", "weekly")
    if board not in BOARDS:
        board = "weekly"
    try:
        size = int(query.get("size", DEFAULT_WIDGET_SIZE))
    except (TypeError, ValueError):
        size = DEFAULT_WIDGET_SIZE
    return board, min(max(size, 1), MAX_WIDGET_SIZE)
