"""What the contract writes on its enum values (protos/.../options.proto), read once for the
server: the legacy string of a value (the presets' names, and the store's name of each export
column), and each export column's JSON key and kind."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType

from google.protobuf.descriptor import EnumDescriptor, EnumValueDescriptor

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import options_pb2
from store.export import Column

_LOGGER = logging.getLogger(__name__)


def _legacy_name(value: EnumValueDescriptor) -> str:
    return str(value.GetOptions().Extensions[options_pb2.legacy_name])


def legacy_name(enum: EnumDescriptor, number: int) -> str | None:
    """The legacy string of an enum value ("all_upcoming"), None for an unknown number."""
    value = enum.values_by_number.get(number)
    return None if value is None else _legacy_name(value)


def _facts(value: EnumValueDescriptor) -> options_pb2.ExportColumnFacts:
    return value.GetOptions().Extensions[options_pb2.export_column]


_COLUMN_VALUES = [value for value in pb.ExportColumn.DESCRIPTOR.values if value.number != 0]

# Each ExportColumn value as the store reads it: the column's name (its legacy string, which
# is also the ExportedMeeting field of the column) and the key of its legacy JSON rows.
STORE_COLUMNS: Mapping[int, Column] = MappingProxyType(
    {value.number: Column(_legacy_name(value), _facts(value).json_key) for value in _COLUMN_VALUES}
)
# Each column's ExportColumnKind, by the column's name.
COLUMN_KINDS: Mapping[str, int] = MappingProxyType(
    {_legacy_name(value): _facts(value).kind for value in _COLUMN_VALUES}
)
