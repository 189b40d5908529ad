"""The row encoders on their own: legacy JSON numbers, keys and batches; typed messages that
set only the requested fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest

from server.export_rows import TypedRows, decimal_text, join_json_rows, json_number
from store.export import Column


def columns(*names: str) -> list[Column]:
    """Columns by name (a typed row has no use for their JSON keys)."""
    return [Column(name, name) for name in names]


@pytest.mark.parametrize(
    ("stored", "number", "text"),
    [
        (0, 0, "0"),
        (10, 10, "10"),
        (Decimal("10.00"), 10, "10"),
        (Decimal("12.50"), 12.5, "12.5"),
        (12.5, 12.5, "12.5"),
        (Decimal("0.10"), 0.1, "0.1"),
        (Decimal("9999999999.99"), 9999999999.99, "9999999999.99"),
        (10.0, 10, "10"),
    ],
)
def test_prices(stored: Any, number: float, text: str) -> None:
    assert json_number(stored) == number
    assert type(json_number(stored)) is type(number)
    assert decimal_text(stored) == text


def test_json_number_refuses_what_is_not_a_price() -> None:
    with pytest.raises(TypeError):
        json_number("10")


def test_json_rows_the_database_wrote_are_joined_with_commas() -> None:
    # The objects themselves (keys, prices, nulls) are the database's: test_golden checks them.
    rows = [(b'{"name":"A","price":10}',), (b'{"name":null,"price":0}',)]
    joined = join_json_rows(rows)
    assert joined == b'{"name":"A","price":10},{"name":null,"price":0}'
    assert orjson.loads(b"[" + joined + b"]")[1] == {"name": None, "price": 0}


def test_json_rows_of_an_empty_batch_are_empty() -> None:
    assert join_json_rows([]) == b""


def test_typed_rows_set_only_requested_non_null_fields() -> None:
    rows = [("2026-05-23T15:00:00.250Z", None, Decimal("12.50"), 0, None)]
    (message,) = TypedRows(
        columns("start_time", "name", "price", "privacy", "group_leader_id")
    ).build(rows)
    assert sorted(f.name for f, _ in message.ListFields()) == ["price", "privacy", "start_time"]
    assert message.start_time.ToJsonString() == "2026-05-23T15:00:00.250Z"
    assert message.price.value == "12.5"
    assert message.HasField("privacy") and message.privacy is False


def test_typed_rows_refuse_an_unknown_column() -> None:
    with pytest.raises(ValueError, match="unknown export column"):
        TypedRows(columns("attendees"))
