"""What the contract writes on its enum values (protos/.../options.proto), read once for the
gateway: the legacy string of every value, and the facts of every export column (its JSON key,
label, kind and whether it can be null). Binding, the CSV and NDJSON writers, the OpenAPI
document and the export page all read them from here, so none of them keeps a copy."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from google.protobuf.descriptor import EnumDescriptor, EnumValueDescriptor

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import options_pb2

_LOGGER = logging.getLogger(__name__)

# Kinds whose values are JSON strings: a CSV cell of one may need neutralising.
_STRING_KINDS = frozenset(
    {options_pb2.EXPORT_COLUMN_KIND_TEXT, options_pb2.EXPORT_COLUMN_KIND_TIME}
)


def legacy_name(value: EnumValueDescriptor) -> str:
    """The legacy string of an enum value ("all_upcoming"); empty for UNSPECIFIED."""
    return str(value.GetOptions().Extensions[options_pb2.legacy_name])


def legacy_names(enum: EnumDescriptor) -> Mapping[str, int]:
    """Each legacy string of an enum and its number, in the proto's order, UNSPECIFIED left
    out."""
    return MappingProxyType(
        {legacy_name(value): value.number for value in enum.values if value.number != 0}
    )


@dataclass(frozen=True)
class ExportColumn:
    """One export column, as options.proto's ExportColumnFacts describe it."""

    number: int  # the ExportColumn value
    key: str  # what a partner sends in column[] ("group_leader_id")
    json_key: str  # its key in a legacy JSON row ("group_leader")
    label: str  # the CSV header and the export page's checkbox
    kind: int  # an ExportColumnKind
    nullable: bool  # whether a legacy JSON row can hold null for it

    @property
    def is_string(self) -> bool:
        return self.kind in _STRING_KINDS

    @property
    def is_flag(self) -> bool:
        return bool(self.kind == options_pb2.EXPORT_COLUMN_KIND_FLAG)


def _export_column(value: EnumValueDescriptor) -> ExportColumn:
    facts = value.GetOptions().Extensions[options_pb2.export_column]
    return ExportColumn(
        number=value.number,
        key=legacy_name(value),
        json_key=facts.json_key,
        label=facts.label,
        kind=facts.kind,
        nullable=facts.nullable,
    )


# Every export column, in the proto's order (the export page's, and the OpenAPI document's).
EXPORT_COLUMNS: tuple[ExportColumn, ...] = tuple(
    _export_column(value) for value in pb.ExportColumn.DESCRIPTOR.values if value.number != 0
)
COLUMNS_BY_KEY: Mapping[str, ExportColumn] = MappingProxyType(
    {column.key: column for column in EXPORT_COLUMNS}
)
COLUMNS_BY_NUMBER: Mapping[int, ExportColumn] = MappingProxyType(
    {column.number: column for column in EXPORT_COLUMNS}
)

# The legacy strings the export binds, each to its number.
COLUMNS: Mapping[str, int] = legacy_names(pb.ExportColumn.DESCRIPTOR)
REPORTING_DAYS: Mapping[str, int] = legacy_names(pb.ReportingDays.DESCRIPTOR)
REPORT_TYPES: Mapping[str, int] = legacy_names(pb.ReportType.DESCRIPTOR)
