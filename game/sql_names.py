"""Quoted table and column names for the SQL the game and llm apps build once from their models."""

from django.db import connection


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def column(model, field_name: str) -> str:
    """The quoted column of `model.field_name`."""
    return quote(model._meta.get_field(field_name).column)
