"""The asyncio server's handlers: where each RPC runs, and how streams hold and give back
their thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import peewee
import pytest

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from server.app import on_loop_policy
from server.errors import abort
from server.interceptors import (
    AUTHENTICATE,
    EXPORT_MEETINGS,
    LIST_MEMBER_UPCOMING_MEETINGS,
    LIST_UPCOMING_MEETINGS,
    SERVICE_PREFIX,
    STREAM_EXPORT_MEETINGS,
)
from server.rpc_loop import LoopHandlers, LoopThread, Runs
from server.servicer import RUNS

SERVICE = "test.Loop"
WAIT = 10.0


class Recorder:
    """Handlers that note the thread they ran on."""

    def __init__(self) -> None:
        self.threads: dict[str, list[str]] = {}
        self.closed_on: list[str] = []
        self.closed = threading.Event()
        self.release = threading.Event()
        self.started = threading.Event()

    def note(self, what: str) -> None:
        self.threads.setdefault(what, []).append(threading.current_thread().name)

    def where(self, request: bytes, context: Any) -> bytes:
        self.note(request.decode())
        context.send_initial_metadata((("x-request-id", "rid-1"),))
        return b"ok"

    def refuse(self, request: bytes, context: Any) -> bytes:
        from google.rpc import code_pb2, status_pb2

        abort(context, status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message="no"))
        return b""  # pragma: no cover - abort raises

    def rows(self, request: bytes, context: Any) -> Iterator[bytes]:
        try:
            for row in range(int(request)):
                self.note("rows")
                yield str(row).encode()
        finally:
            self.closed_on.append(threading.current_thread().name)
            self.closed.set()

    def until_deadline(self, request: bytes, context: Any) -> Iterator[bytes]:
        """As the export: sends while the call is active, then stops."""
        while context.is_active():
            yield b"row"
            time.sleep(0.001)

    def held(self, request: bytes, context: Any) -> Iterator[bytes]:
        self.started.set()
        yield b"first"
        self.release.wait(WAIT)
        yield b"last"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def channel(recorder: Recorder) -> Iterator[grpc.Channel]:
    handlers = LoopHandlers(
        [
            grpc.method_handlers_generic_handler(
                SERVICE,
                {
                    "OnLoop": grpc.unary_unary_rpc_method_handler(recorder.where),
                    "OnThread": grpc.unary_unary_rpc_method_handler(recorder.where),
                    "Refuse": grpc.unary_unary_rpc_method_handler(recorder.refuse),
                    "Rows": grpc.unary_stream_rpc_method_handler(recorder.rows),
                    "Held": grpc.unary_stream_rpc_method_handler(recorder.held),
                    "UntilDeadline": grpc.unary_stream_rpc_method_handler(recorder.until_deadline),
                },
            )
        ],
        [],
        workers=1,
        on_loop=lambda method, request: method == f"/{SERVICE}/OnLoop",
    )
    loop = LoopThread(name="test-loop")

    async def start() -> tuple[grpc.aio.Server, int]:
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((handlers,))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    server, port = loop.call(start())
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield channel
    channel.close()
    loop.call(server.stop(None))
    handlers.shutdown()
    loop.stop()


def unary(channel: grpc.Channel, method: str) -> Any:
    return channel.unary_unary(f"/{SERVICE}/{method}")


def stream(channel: grpc.Channel, method: str) -> Any:
    return channel.unary_stream(f"/{SERVICE}/{method}")


def test_a_method_named_on_the_loop_runs_there_and_others_on_worker_threads(
    channel: grpc.Channel, recorder: Recorder
) -> None:
    assert unary(channel, "OnLoop")(b"loop", timeout=WAIT) == b"ok"
    assert unary(channel, "OnThread")(b"thread", timeout=WAIT) == b"ok"
    assert recorder.threads["loop"] == ["test-loop"]
    assert recorder.threads["thread"][0].startswith("rpc")


def test_initial_metadata_and_aborts_reach_the_caller(channel: grpc.Channel) -> None:
    _, call = unary(channel, "OnThread").with_call(b"thread", timeout=WAIT)
    assert ("x-request-id", "rid-1") in call.initial_metadata()
    with pytest.raises(grpc.RpcError) as refused:
        unary(channel, "Refuse")(b"", timeout=WAIT)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details() == "no"


def test_a_stream_runs_and_ends_on_one_thread_of_its_own(
    channel: grpc.Channel, recorder: Recorder
) -> None:
    assert list(stream(channel, "Rows")(b"5", timeout=WAIT)) == [b"0", b"1", b"2", b"3", b"4"]
    assert recorder.closed.wait(WAIT)
    (thread,) = set(recorder.threads["rows"])
    assert thread.startswith("rpc-stream")
    assert recorder.closed_on == [thread]


def test_a_cancelled_stream_is_closed_on_its_thread(
    channel: grpc.Channel, recorder: Recorder
) -> None:
    rows = stream(channel, "Rows")(b"1000000", timeout=WAIT)
    assert next(rows) == b"0"
    rows.cancel()
    assert recorder.closed.wait(WAIT)
    assert recorder.closed_on == [recorder.threads["rows"][0]]
    assert len(recorder.threads["rows"]) < 1_000_000


def test_a_stream_cut_by_its_deadline_never_ends_as_a_success(
    channel: grpc.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    # The handler stops when its deadline passes, a moment before gRPC's core cancels the
    # call: ending it normally there would tell the client that the cut stream was whole.
    caplog.set_level(logging.DEBUG)
    for deadline in (0.01, 0.02, 0.03) * 15:
        rows = stream(channel, "UntilDeadline")(b"", timeout=deadline)
        with pytest.raises(grpc.RpcError) as cut:
            for _ in rows:
                pass
        assert cut.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    time.sleep(0.2)  # what an RPC logs, it has logged by now
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_streams_wait_for_a_thread_past_the_workers(
    channel: grpc.Channel, recorder: Recorder
) -> None:
    held = stream(channel, "Held")(b"", timeout=WAIT)
    assert next(held) == b"first"
    waiting = stream(channel, "Rows")(b"2", timeout=WAIT)
    second: list[bytes] = []
    reader = threading.Thread(target=lambda: second.extend(waiting))
    reader.start()
    # One worker: the second stream may not start while the first holds its thread.
    reader.join(0.5)
    assert "rows" not in recorder.threads
    recorder.release.set()
    assert list(held) == [b"last"]
    reader.join(WAIT)
    assert second == [b"0", b"1"]


def test_a_unary_rpc_off_the_loop_waits_for_a_thread_that_a_stream_holds(
    channel: grpc.Channel, recorder: Recorder
) -> None:
    held = stream(channel, "Held")(b"", timeout=WAIT)
    assert next(held) == b"first"
    with pytest.raises(grpc.RpcError) as waited:
        unary(channel, "OnThread")(b"thread", timeout=0.5)
    assert waited.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "thread" not in recorder.threads
    assert unary(channel, "OnLoop")(b"loop", timeout=WAIT) == b"ok"  # the loop is free
    recorder.release.set()
    assert list(held) == [b"last"]
    assert unary(channel, "OnThread")(b"thread", timeout=WAIT) == b"ok"


def test_on_sqlite_the_feed_authenticate_and_export_pages_run_on_the_loop(tmp_path: Any) -> None:
    on_loop = on_loop_policy(peewee.SqliteDatabase(str(tmp_path / "m.db")))
    assert on_loop(LIST_UPCOMING_MEETINGS, pb.ListUpcomingMeetingsRequest())
    assert on_loop(AUTHENTICATE, pb.AuthenticateRequest())
    assert on_loop(EXPORT_MEETINGS, pb.ExportMeetingsRequest(page=3))
    assert on_loop(EXPORT_MEETINGS, pb.ExportMeetingsRequest(page_size=10))
    # A whole export in one answer reads every row: on a thread, as streams are.
    assert not on_loop(EXPORT_MEETINGS, pb.ExportMeetingsRequest())


def test_on_postgresql_every_rpc_runs_on_a_thread() -> None:
    on_loop = on_loop_policy(peewee.PostgresqlDatabase("unused"))
    assert not on_loop(LIST_UPCOMING_MEETINGS, pb.ListUpcomingMeetingsRequest())
    assert not on_loop(AUTHENTICATE, pb.AuthenticateRequest())
    assert not on_loop(EXPORT_MEETINGS, pb.ExportMeetingsRequest(page=1))


def test_every_method_of_the_service_declares_where_it_runs() -> None:
    service = pb.DESCRIPTOR.services_by_name["MeetingsService"]
    assert set(RUNS) == {SERVICE_PREFIX + name for name in service.methods_by_name}
    # A stream reads for as long as it lasts: never on the loop.
    streams = {SERVICE_PREFIX + m.name for m in service.methods if m.server_streaming}
    assert streams and all(RUNS[name] is Runs.ON_THREAD for name in streams)


def test_on_sqlite_a_members_feed_runs_on_the_loop_and_an_undeclared_method_does_not(
    tmp_path: Any,
) -> None:
    on_loop = on_loop_policy(peewee.SqliteDatabase(str(tmp_path / "m.db")))
    assert on_loop(LIST_MEMBER_UPCOMING_MEETINGS, pb.ListMemberUpcomingMeetingsRequest())
    assert not on_loop(STREAM_EXPORT_MEETINGS, pb.StreamExportMeetingsRequest())
    assert not on_loop("/other.Service/Method", pb.ExportMeetingsRequest(page=1))
