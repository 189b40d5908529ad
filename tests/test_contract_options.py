"""The legacy facts written on the contract's enum values: complete, and consistent with the
messages that carry them."""

from __future__ import annotations

from google.protobuf.descriptor import EnumDescriptor

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import options_pb2


def _named_values(enum: EnumDescriptor) -> list[str]:
    return [value.name for value in enum.values if value.number != 0]


def test_every_enum_value_but_unspecified_has_a_legacy_name() -> None:
    for enum in (
        pb.ExportColumn.DESCRIPTOR,
        pb.ReportingDays.DESCRIPTOR,
        pb.ReportType.DESCRIPTOR,
        pb.RegistrationState.DESCRIPTOR,
    ):
        names = [
            value.GetOptions().Extensions[options_pb2.legacy_name]
            for value in enum.values
            if value.number != 0
        ]
        assert all(names), enum.name
        assert len(set(names)) == len(names), enum.name
        assert not enum.values_by_number[0].GetOptions().Extensions[options_pb2.legacy_name]


def test_every_export_column_has_its_facts_and_a_row_field_of_its_name() -> None:
    row_fields = pb.ExportedMeeting.DESCRIPTOR.fields_by_name
    json_keys, labels = set(), set()
    for value in pb.ExportColumn.DESCRIPTOR.values:
        if value.number == 0:
            continue
        options = value.GetOptions()
        facts = options.Extensions[options_pb2.export_column]
        key = options.Extensions[options_pb2.legacy_name]
        assert facts.kind != options_pb2.EXPORT_COLUMN_KIND_UNSPECIFIED, key
        assert facts.json_key and facts.label, key
        assert key in row_fields, key
        assert row_fields[key].number == value.number, key
        json_keys.add(facts.json_key)
        labels.add(facts.label)
    assert len(json_keys) == len(labels) == len(_named_values(pb.ExportColumn.DESCRIPTOR)) == 18


def test_the_legacy_renames_are_the_pages() -> None:
    facts = {
        value.GetOptions().Extensions[options_pb2.legacy_name]: value.GetOptions().Extensions[
            options_pb2.export_column
        ]
        for value in pb.ExportColumn.DESCRIPTOR.values
        if value.number != 0
    }
    renamed = {key: f.json_key for key, f in facts.items() if f.json_key != key}
    assert renamed == {"group_leader_id": "group_leader"}
