from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExportColumnKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_COLUMN_KIND_UNSPECIFIED: _ClassVar[ExportColumnKind]
    EXPORT_COLUMN_KIND_TEXT: _ClassVar[ExportColumnKind]
    EXPORT_COLUMN_KIND_TIME: _ClassVar[ExportColumnKind]
    EXPORT_COLUMN_KIND_INTEGER: _ClassVar[ExportColumnKind]
    EXPORT_COLUMN_KIND_DECIMAL: _ClassVar[ExportColumnKind]
    EXPORT_COLUMN_KIND_FLAG: _ClassVar[ExportColumnKind]
EXPORT_COLUMN_KIND_UNSPECIFIED: ExportColumnKind
EXPORT_COLUMN_KIND_TEXT: ExportColumnKind
EXPORT_COLUMN_KIND_TIME: ExportColumnKind
EXPORT_COLUMN_KIND_INTEGER: ExportColumnKind
EXPORT_COLUMN_KIND_DECIMAL: ExportColumnKind
EXPORT_COLUMN_KIND_FLAG: ExportColumnKind
LEGACY_NAME_FIELD_NUMBER: _ClassVar[int]
legacy_name: _descriptor.FieldDescriptor
EXPORT_COLUMN_FIELD_NUMBER: _ClassVar[int]
export_column: _descriptor.FieldDescriptor

class ExportColumnFacts(_message.Message):
    __slots__ = ("json_key", "label", "kind", "nullable")
    JSON_KEY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NULLABLE_FIELD_NUMBER: _ClassVar[int]
    json_key: str
    label: str
    kind: ExportColumnKind
    nullable: bool
    def __init__(self, json_key: _Optional[str] = ..., label: _Optional[str] = ..., kind: _Optional[_Union[ExportColumnKind, str]] = ..., nullable: _Optional[bool] = ...) -> None: ...
