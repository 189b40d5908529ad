"""Names vulture cannot see used: entry points that a framework calls, not our code.

vulture reads this file with the code (`make dead-code`) and counts each name below as used;
it is never imported. Each line is a real reference, so mypy fails when an entry point is
renamed or removed and its line here would otherwise hide nothing.
"""

from __future__ import annotations

import psycopg2.extensions

from cli import main as cli_main
from server.metrics import DatabasePoolCollector
from server.rpc_loop import ServiceCollector
from server.servicer import MeetingsServicer
from store import models

cli_main.gateway  # click command `meetings gateway`, registered by its decorator
cli_main.load  # click command `meetings load`
cli_main.org_create  # click command `meetings org create`
cli_main.org_rotate_key  # click command `meetings org rotate-key`
MeetingsServicer.Authenticate  # gRPC method, called through the generated service handlers
MeetingsServicer.ExportMeetings  # gRPC method
MeetingsServicer.StreamExportMeetings  # gRPC method
MeetingsServicer.ListUpcomingMeetings  # gRPC method
MeetingsServicer.ListMemberUpcomingMeetings  # gRPC method
DatabasePoolCollector.collect  # prometheus-client calls a registered collector's collect()
ServiceCollector.add_registered_method_handlers  # generated add_*Servicer_to_server calls it
psycopg2.extensions.connection.autocommit  # set on the schema lock's connection: a driver knob
models.BaseModel.Meta  # peewee reads each model's Meta options when the class is made
models.BaseModel.Meta.legacy_table_names  # peewee Meta option
models.Meeting.Meta.indexes  # peewee Meta option (also Registration.Meta.indexes)
models.Meeting.group_leader_id  # the column peewee adds for the foreign key, typed for mypy
