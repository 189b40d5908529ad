import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import datetime_pb2 as _datetime_pb2
from google.type import decimal_pb2 as _decimal_pb2
from heypeers.meetings.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExportColumn(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_COLUMN_UNSPECIFIED: _ClassVar[ExportColumn]
    EXPORT_COLUMN_NAME: _ClassVar[ExportColumn]
    EXPORT_COLUMN_MEETING_TYPE: _ClassVar[ExportColumn]
    EXPORT_COLUMN_START_TIME: _ClassVar[ExportColumn]
    EXPORT_COLUMN_DURATION: _ClassVar[ExportColumn]
    EXPORT_COLUMN_STATUS: _ClassVar[ExportColumn]
    EXPORT_COLUMN_TOPIC: _ClassVar[ExportColumn]
    EXPORT_COLUMN_SPECIAL_FOCUS: _ClassVar[ExportColumn]
    EXPORT_COLUMN_HOST: _ClassVar[ExportColumn]
    EXPORT_COLUMN_LOCATION: _ClassVar[ExportColumn]
    EXPORT_COLUMN_PRICE: _ClassVar[ExportColumn]
    EXPORT_COLUMN_MAX_ATTENDEES: _ClassVar[ExportColumn]
    EXPORT_COLUMN_MEETING_DESCRIPTION: _ClassVar[ExportColumn]
    EXPORT_COLUMN_GROUP_LEADER_ID: _ClassVar[ExportColumn]
    EXPORT_COLUMN_PRIVACY: _ClassVar[ExportColumn]
    EXPORT_COLUMN_EAP: _ClassVar[ExportColumn]
    EXPORT_COLUMN_ALLOW_MEETING_DONATION: _ClassVar[ExportColumn]
    EXPORT_COLUMN_INVITATION_ONLY: _ClassVar[ExportColumn]
    EXPORT_COLUMN_WAIT_LIST: _ClassVar[ExportColumn]

class ReportingDays(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORTING_DAYS_UNSPECIFIED: _ClassVar[ReportingDays]
    REPORTING_DAYS_ALL: _ClassVar[ReportingDays]
    REPORTING_DAYS_ALL_PAST: _ClassVar[ReportingDays]
    REPORTING_DAYS_ALL_UPCOMING: _ClassVar[ReportingDays]
    REPORTING_DAYS_TODAY: _ClassVar[ReportingDays]
    REPORTING_DAYS_CURRENT_MONTH: _ClassVar[ReportingDays]
    REPORTING_DAYS_LAST_WEEK: _ClassVar[ReportingDays]
    REPORTING_DAYS_LAST_MONTH: _ClassVar[ReportingDays]
    REPORTING_DAYS_CUSTOM: _ClassVar[ReportingDays]

class ReportType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORT_TYPE_UNSPECIFIED: _ClassVar[ReportType]
    REPORT_TYPE_ALL_MEETINGS: _ClassVar[ReportType]
    REPORT_TYPE_EAP_MEETINGS: _ClassVar[ReportType]

class RowEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROW_ENCODING_UNSPECIFIED: _ClassVar[RowEncoding]
    ROW_ENCODING_TYPED: _ClassVar[RowEncoding]
    ROW_ENCODING_JSON: _ClassVar[RowEncoding]

class RegistrationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REGISTRATION_STATE_UNSPECIFIED: _ClassVar[RegistrationState]
    REGISTRATION_STATE_REGISTERED: _ClassVar[RegistrationState]
    REGISTRATION_STATE_WAITLISTED: _ClassVar[RegistrationState]
EXPORT_COLUMN_UNSPECIFIED: ExportColumn
EXPORT_COLUMN_NAME: ExportColumn
EXPORT_COLUMN_MEETING_TYPE: ExportColumn
EXPORT_COLUMN_START_TIME: ExportColumn
EXPORT_COLUMN_DURATION: ExportColumn
EXPORT_COLUMN_STATUS: ExportColumn
EXPORT_COLUMN_TOPIC: ExportColumn
EXPORT_COLUMN_SPECIAL_FOCUS: ExportColumn
EXPORT_COLUMN_HOST: ExportColumn
EXPORT_COLUMN_LOCATION: ExportColumn
EXPORT_COLUMN_PRICE: ExportColumn
EXPORT_COLUMN_MAX_ATTENDEES: ExportColumn
EXPORT_COLUMN_MEETING_DESCRIPTION: ExportColumn
EXPORT_COLUMN_GROUP_LEADER_ID: ExportColumn
EXPORT_COLUMN_PRIVACY: ExportColumn
EXPORT_COLUMN_EAP: ExportColumn
EXPORT_COLUMN_ALLOW_MEETING_DONATION: ExportColumn
EXPORT_COLUMN_INVITATION_ONLY: ExportColumn
EXPORT_COLUMN_WAIT_LIST: ExportColumn
REPORTING_DAYS_UNSPECIFIED: ReportingDays
REPORTING_DAYS_ALL: ReportingDays
REPORTING_DAYS_ALL_PAST: ReportingDays
REPORTING_DAYS_ALL_UPCOMING: ReportingDays
REPORTING_DAYS_TODAY: ReportingDays
REPORTING_DAYS_CURRENT_MONTH: ReportingDays
REPORTING_DAYS_LAST_WEEK: ReportingDays
REPORTING_DAYS_LAST_MONTH: ReportingDays
REPORTING_DAYS_CUSTOM: ReportingDays
REPORT_TYPE_UNSPECIFIED: ReportType
REPORT_TYPE_ALL_MEETINGS: ReportType
REPORT_TYPE_EAP_MEETINGS: ReportType
ROW_ENCODING_UNSPECIFIED: RowEncoding
ROW_ENCODING_TYPED: RowEncoding
ROW_ENCODING_JSON: RowEncoding
REGISTRATION_STATE_UNSPECIFIED: RegistrationState
REGISTRATION_STATE_REGISTERED: RegistrationState
REGISTRATION_STATE_WAITLISTED: RegistrationState

class AuthenticateRequest(_message.Message):
    __slots__ = ("access_key",)
    ACCESS_KEY_FIELD_NUMBER: _ClassVar[int]
    access_key: str
    def __init__(self, access_key: _Optional[str] = ...) -> None: ...

class AuthenticateResponse(_message.Message):
    __slots__ = ("token", "organization_id", "expire_time")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    token: str
    organization_id: int
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, token: _Optional[str] = ..., organization_id: _Optional[int] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExportMeetingsRequest(_message.Message):
    __slots__ = ("organization_id", "columns", "reporting_days", "start_time", "end_time", "report_type", "page", "page_size", "row_encoding")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    REPORTING_DAYS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    REPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    ROW_ENCODING_FIELD_NUMBER: _ClassVar[int]
    organization_id: int
    columns: _containers.RepeatedScalarFieldContainer[ExportColumn]
    reporting_days: ReportingDays
    start_time: _datetime_pb2.DateTime
    end_time: _datetime_pb2.DateTime
    report_type: ReportType
    page: int
    page_size: int
    row_encoding: RowEncoding
    def __init__(self, organization_id: _Optional[int] = ..., columns: _Optional[_Iterable[_Union[ExportColumn, str]]] = ..., reporting_days: _Optional[_Union[ReportingDays, str]] = ..., start_time: _Optional[_Union[_datetime_pb2.DateTime, _Mapping]] = ..., end_time: _Optional[_Union[_datetime_pb2.DateTime, _Mapping]] = ..., report_type: _Optional[_Union[ReportType, str]] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ..., row_encoding: _Optional[_Union[RowEncoding, str]] = ...) -> None: ...

class ExportMeetingsResponse(_message.Message):
    __slots__ = ("meetings", "metadata", "json_meetings")
    MEETINGS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    JSON_MEETINGS_FIELD_NUMBER: _ClassVar[int]
    meetings: _containers.RepeatedCompositeFieldContainer[ExportedMeeting]
    metadata: PageMetadata
    json_meetings: bytes
    def __init__(self, meetings: _Optional[_Iterable[_Union[ExportedMeeting, _Mapping]]] = ..., metadata: _Optional[_Union[PageMetadata, _Mapping]] = ..., json_meetings: _Optional[bytes] = ...) -> None: ...

class StreamExportMeetingsRequest(_message.Message):
    __slots__ = ("organization_id", "columns", "reporting_days", "start_time", "end_time", "report_type", "row_encoding")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    REPORTING_DAYS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    REPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ROW_ENCODING_FIELD_NUMBER: _ClassVar[int]
    organization_id: int
    columns: _containers.RepeatedScalarFieldContainer[ExportColumn]
    reporting_days: ReportingDays
    start_time: _datetime_pb2.DateTime
    end_time: _datetime_pb2.DateTime
    report_type: ReportType
    row_encoding: RowEncoding
    def __init__(self, organization_id: _Optional[int] = ..., columns: _Optional[_Iterable[_Union[ExportColumn, str]]] = ..., reporting_days: _Optional[_Union[ReportingDays, str]] = ..., start_time: _Optional[_Union[_datetime_pb2.DateTime, _Mapping]] = ..., end_time: _Optional[_Union[_datetime_pb2.DateTime, _Mapping]] = ..., report_type: _Optional[_Union[ReportType, str]] = ..., row_encoding: _Optional[_Union[RowEncoding, str]] = ...) -> None: ...

class StreamExportMeetingsResponse(_message.Message):
    __slots__ = ("meetings", "json_meetings", "row_count")
    MEETINGS_FIELD_NUMBER: _ClassVar[int]
    JSON_MEETINGS_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    meetings: _containers.RepeatedCompositeFieldContainer[ExportedMeeting]
    json_meetings: bytes
    row_count: int
    def __init__(self, meetings: _Optional[_Iterable[_Union[ExportedMeeting, _Mapping]]] = ..., json_meetings: _Optional[bytes] = ..., row_count: _Optional[int] = ...) -> None: ...

class ExportedMeeting(_message.Message):
    __slots__ = ("name", "meeting_type", "start_time", "duration", "status", "topic", "special_focus", "host", "location", "price", "max_attendees", "meeting_description", "group_leader_id", "privacy", "eap", "allow_meeting_donation", "invitation_only", "wait_list")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEETING_TYPE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    SPECIAL_FOCUS_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTENDEES_FIELD_NUMBER: _ClassVar[int]
    MEETING_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    GROUP_LEADER_ID_FIELD_NUMBER: _ClassVar[int]
    PRIVACY_FIELD_NUMBER: _ClassVar[int]
    EAP_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MEETING_DONATION_FIELD_NUMBER: _ClassVar[int]
    INVITATION_ONLY_FIELD_NUMBER: _ClassVar[int]
    WAIT_LIST_FIELD_NUMBER: _ClassVar[int]
    name: str
    meeting_type: str
    start_time: _timestamp_pb2.Timestamp
    duration: int
    status: str
    topic: str
    special_focus: str
    host: str
    location: str
    price: _decimal_pb2.Decimal
    max_attendees: int
    meeting_description: str
    group_leader_id: int
    privacy: bool
    eap: bool
    allow_meeting_donation: bool
    invitation_only: bool
    wait_list: bool
    def __init__(self, name: _Optional[str] = ..., meeting_type: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[int] = ..., status: _Optional[str] = ..., topic: _Optional[str] = ..., special_focus: _Optional[str] = ..., host: _Optional[str] = ..., location: _Optional[str] = ..., price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., max_attendees: _Optional[int] = ..., meeting_description: _Optional[str] = ..., group_leader_id: _Optional[int] = ..., privacy: _Optional[bool] = ..., eap: _Optional[bool] = ..., allow_meeting_donation: _Optional[bool] = ..., invitation_only: _Optional[bool] = ..., wait_list: _Optional[bool] = ...) -> None: ...

class PageMetadata(_message.Message):
    __slots__ = ("page", "per_page", "total_pages", "total_count")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PER_PAGE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAGES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    page: int
    per_page: int
    total_pages: int
    total_count: int
    def __init__(self, page: _Optional[int] = ..., per_page: _Optional[int] = ..., total_pages: _Optional[int] = ..., total_count: _Optional[int] = ...) -> None: ...

class ListUpcomingMeetingsRequest(_message.Message):
    __slots__ = ("organization_id", "meeting_series_id", "page", "page_size")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    MEETING_SERIES_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    organization_id: int
    meeting_series_id: int
    page: int
    page_size: int
    def __init__(self, organization_id: _Optional[int] = ..., meeting_series_id: _Optional[int] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListUpcomingMeetingsResponse(_message.Message):
    __slots__ = ("current_page", "items", "total_items", "total_pages", "meetings")
    CURRENT_PAGE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ITEMS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAGES_FIELD_NUMBER: _ClassVar[int]
    MEETINGS_FIELD_NUMBER: _ClassVar[int]
    current_page: int
    items: int
    total_items: int
    total_pages: int
    meetings: _containers.RepeatedCompositeFieldContainer[UpcomingMeeting]
    def __init__(self, current_page: _Optional[int] = ..., items: _Optional[int] = ..., total_items: _Optional[int] = ..., total_pages: _Optional[int] = ..., meetings: _Optional[_Iterable[_Union[UpcomingMeeting, _Mapping]]] = ...) -> None: ...

class UpcomingMeeting(_message.Message):
    __slots__ = ("id", "name", "start_time", "end_time", "duration", "duration_in_minutes", "topic", "description", "location", "meeting_series_id", "max_attendees", "registered_attendees", "group_leader")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    DURATION_IN_MINUTES_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    MEETING_SERIES_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTENDEES_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ATTENDEES_FIELD_NUMBER: _ClassVar[int]
    GROUP_LEADER_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    duration: str
    duration_in_minutes: int
    topic: str
    description: str
    location: str
    meeting_series_id: int
    max_attendees: int
    registered_attendees: int
    group_leader: GroupLeader
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[str] = ..., duration_in_minutes: _Optional[int] = ..., topic: _Optional[str] = ..., description: _Optional[str] = ..., location: _Optional[str] = ..., meeting_series_id: _Optional[int] = ..., max_attendees: _Optional[int] = ..., registered_attendees: _Optional[int] = ..., group_leader: _Optional[_Union[GroupLeader, _Mapping]] = ...) -> None: ...

class GroupLeader(_message.Message):
    __slots__ = ("id", "name", "avatar")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    AVATAR_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    avatar: str
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., avatar: _Optional[str] = ...) -> None: ...

class ListMemberUpcomingMeetingsRequest(_message.Message):
    __slots__ = ("organization_id", "idp_id", "page", "page_size")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    IDP_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    organization_id: int
    idp_id: str
    page: int
    page_size: int
    def __init__(self, organization_id: _Optional[int] = ..., idp_id: _Optional[str] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListMemberUpcomingMeetingsResponse(_message.Message):
    __slots__ = ("current_page", "items", "total_items", "total_pages", "meetings")
    CURRENT_PAGE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ITEMS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAGES_FIELD_NUMBER: _ClassVar[int]
    MEETINGS_FIELD_NUMBER: _ClassVar[int]
    current_page: int
    items: int
    total_items: int
    total_pages: int
    meetings: _containers.RepeatedCompositeFieldContainer[MemberUpcomingMeeting]
    def __init__(self, current_page: _Optional[int] = ..., items: _Optional[int] = ..., total_items: _Optional[int] = ..., total_pages: _Optional[int] = ..., meetings: _Optional[_Iterable[_Union[MemberUpcomingMeeting, _Mapping]]] = ...) -> None: ...

class MemberUpcomingMeeting(_message.Message):
    __slots__ = ("meeting", "registration_state", "registered_at")
    MEETING_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_STATE_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    meeting: UpcomingMeeting
    registration_state: RegistrationState
    registered_at: _timestamp_pb2.Timestamp
    def __init__(self, meeting: _Optional[_Union[UpcomingMeeting, _Mapping]] = ..., registration_state: _Optional[_Union[RegistrationState, str]] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
