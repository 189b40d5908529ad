"""MeetingsService's handlers on an asyncio gRPC server, on the event loop or on a thread.

The servicer and its interceptor are plain functions that read the database with a blocking
driver. The server itself is grpc.aio: one event loop receives every RPC and writes every
answer, with none of the hand-offs of the thread-pool server (whose polling thread passed each
RPC to a worker thread and back: under the feed's load half of the gRPC process's CPU time was
the kernel switching threads). Each RPC's handler then runs

- on the loop itself, when it is a few reads of an in-process database (on SQLite: the feed,
  Authenticate, one page of an export): a thread would add only hand-offs, since SQLite's
  reads take turns within the process anyway (store.session.sqlite_turn). Each method says
  which it is where it is registered (`Runs`, declared in server.servicer.RUNS); the
  transport reads that declaration and nothing of the method's own parsing;
- on a worker thread otherwise: every RPC on PostgreSQL (a thread waits on the network while
  the loop serves others), a whole export in one answer, and every stream (it reads for
  seconds). A stream keeps one thread of its own from start to end: its database connection
  belongs to that thread.

`LoopContext` gives the handlers the part of grpc.ServicerContext they use, safely from
either place; what must be awaited (initial metadata, an abort) is done by the loop after the
handler returns or raises.

A stream's client may leave at any moment (a cancel, a deadline, a dropped connection). gRPC's
core then refuses what the loop still sends, and grpcio logs the refusal as an ERROR unless it
has already learnt that the client left: a race. Streams therefore write their messages
themselves and wait, on a refusal, for the cancellation gRPC is about to deliver (see _sent).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
from google.rpc import code_pb2, status_pb2
from grpc._cython import cygrpc  # type: ignore[attr-defined]
from grpc_status import rpc_status

from server.errors import DEADLINE_MESSAGE
from server.method_handlers import Behavior, rewrapped

T = TypeVar("T")
if TYPE_CHECKING:  # grpc-stubs' generics, not subscriptable at run time
    MethodHandler = grpc.RpcMethodHandler[Any, Any]
    GenericHandler = grpc.GenericRpcHandler[Any, Any]
Metadata = tuple[tuple[str, str | bytes], ...]
_END = object()
_LOGGER = logging.getLogger(__name__)
# grpcio's error for a batch of operations its core refused (not in grpcio's typed API). Left
# to gRPC, it is logged as an ERROR with a traceback, unless gRPC has already learnt that the
# client left: a race that a stream cancelled mid-write loses now and then.
BATCH_REFUSED: type[Exception] = cygrpc.ExecuteBatchError
# How long a refused send waits for gRPC to cancel the RPC (it comes within milliseconds).
CANCELLATION_GRACE_SECONDS = 1.0
DEADLINE_STATUS = rpc_status.to_status(
    status_pb2.Status(code=code_pb2.DEADLINE_EXCEEDED, message=DEADLINE_MESSAGE)
)


class Runs(Enum):
    """Where a method's unary RPCs run when the database is in process, as the method declares
    it; with a database over the network every RPC runs on a worker thread."""

    ON_LOOP = "on the loop"
    # One page is a few reads; without a page the RPC reads every row it selects.
    ON_LOOP_FOR_ONE_PAGE = "on the loop when the request names a page"
    ON_THREAD = "on a worker thread"


# A request names a page by setting either field (the contract's words: "paginated when the
# request names a page or a page size").
PAGE_FIELDS = ("page", "page_size")


def declared_on_loop(runs: Mapping[str, Runs]) -> Callable[[str, Any], bool]:
    """`LoopHandlers`' on_loop from each method's declaration (by full method name, as
    /package.Service/Method); an undeclared method runs on a thread."""

    def on_loop(method: str, request: Any) -> bool:
        where = runs.get(method, Runs.ON_THREAD)
        if where is Runs.ON_LOOP_FOR_ONE_PAGE:
            return any(request.HasField(field) for field in PAGE_FIELDS)
        return where is Runs.ON_LOOP

    return on_loop


class Aborted(Exception):
    """A handler aborted its RPC with `status`; the loop sends it."""

    def __init__(self, status: grpc.Status) -> None:
        super().__init__(status.details)
        self.status = status


class LoopContext:
    """An asyncio RPC's context, as the thread-pool server's context looked to a handler.

    Read once on the loop when the RPC starts (metadata, peer, deadline) and usable from the
    RPC's worker thread afterwards. `add_callback` callbacks run when the RPC ends, however it
    ends (a cancelled RPC's deadline stops its query).
    """

    def __init__(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        self._metadata = tuple(context.invocation_metadata() or ())
        self._peer = context.peer()
        remaining = context.time_remaining()
        self._expires = None if remaining is None else time.monotonic() + remaining
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []
        self._ended = False
        self._initial_metadata: Metadata | None = None
        context.add_done_callback(self._on_done)  # type: ignore[arg-type]

    def invocation_metadata(self) -> Metadata:
        return self._metadata

    def peer(self) -> str:
        return self._peer

    def time_remaining(self) -> float | None:
        return None if self._expires is None else max(self._expires - time.monotonic(), 0.0)

    def is_active(self) -> bool:
        return not self._ended and (self._expires is None or time.monotonic() < self._expires)

    def send_initial_metadata(self, metadata: Metadata) -> None:
        self._initial_metadata = tuple(metadata)

    def add_callback(self, callback: Callable[[], None]) -> bool:
        with self._lock:
            if not self._ended:
                self._callbacks.append(callback)
                return True
        callback()  # the RPC ended already
        return True

    def abort_with_status(self, status: grpc.Status) -> None:
        raise Aborted(status)

    def _on_done(self, _context: object) -> None:
        with self._lock:
            self._ended = True
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    async def send_pending(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        """Send the initial metadata the handler set, once."""
        if self._initial_metadata is not None:
            metadata, self._initial_metadata = self._initial_metadata, None
            await context.send_initial_metadata(metadata)

    async def abort(self, context: grpc.aio.ServicerContext[Any, Any], aborted: Aborted) -> None:
        await self.send_pending(context)
        status = aborted.status
        await context.abort(status.code, status.details, status.trailing_metadata)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    with suppress(RuntimeError):  # the loop is closed: the server is gone, and its slots
        loop.call_soon_threadsafe(callback)


def _next(messages: Iterator[Any]) -> Any:
    return next(messages, _END)


class LoopHandlers(grpc.GenericRpcHandler):  # type: ignore[type-arg]
    """The aio server's handlers for services written for the thread-pool server.

    `handlers` are the services' generic handlers and `interceptors` wrap them (the first
    outermost), as grpc.server would; `on_loop(method, request)` says whether a unary RPC
    runs on the loop (streams never do).
    """

    def __init__(
        self,
        handlers: Sequence[GenericHandler],
        interceptors: Sequence[grpc.ServerInterceptor],  # type: ignore[type-arg]
        *,
        workers: int,
        on_loop: Callable[[str, Any], bool] = lambda method, request: False,
    ) -> None:
        self._handlers = tuple(handlers)
        self._interceptors = tuple(interceptors)
        self._on_loop = on_loop
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rpc")
        # RPCs on threads, streams included, hold a slot each: at most `workers` at once, so at
        # most that many database connections are lent out (the pool is sized by it).
        self._slots = asyncio.Semaphore(workers)
        self._methods: dict[str, MethodHandler | None] = {}

    def service(self, details: grpc.HandlerCallDetails) -> MethodHandler | None:
        method: str = details.method
        if method not in self._methods:
            self._methods[method] = self._bridged(method, self._intercepted(details))
        return self._methods[method]

    def shutdown(self) -> None:
        """Let the worker threads go (after the server stopped)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _intercepted(self, details: grpc.HandlerCallDetails) -> MethodHandler | None:
        def lookup(call_details: grpc.HandlerCallDetails) -> MethodHandler | None:
            for handler in self._handlers:
                found = handler.service(call_details)
                if found is not None:
                    return found
            return None

        def at(index: int) -> Callable[[grpc.HandlerCallDetails], Any]:
            if index == len(self._interceptors):
                return lookup
            interceptor = self._interceptors[index]
            return lambda d: interceptor.intercept_service(at(index + 1), d)

        return at(0)(details)  # type: ignore[no-any-return]

    def _bridged(self, method: str, handler: MethodHandler | None) -> MethodHandler | None:
        if handler is None:
            return None

        def bridge(kind: str, behavior: Behavior) -> Behavior:
            if kind == "unary":
                return self._unary(method, behavior)
            if kind == "server_stream":
                return self._stream(behavior)
            raise TypeError(f"{method}: only unary requests are served")

        return rewrapped(handler, bridge)

    def _unary(
        self, method: str, behavior: Callable[[Any, Any], Any]
    ) -> Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Any]:
        pool, on_loop, slots = self._pool, self._on_loop, self._slots

        async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            call = LoopContext(context)
            try:
                if on_loop(method, request):
                    response = behavior(request, call)
                else:
                    loop = asyncio.get_running_loop()
                    await slots.acquire()
                    work = pool.submit(behavior, request, call)
                    # The slot is free when the thread is, even if the caller left before.
                    work.add_done_callback(lambda _: _call_soon(loop, slots.release))
                    response = await asyncio.wrap_future(work)
            except Aborted as aborted:
                await call.abort(context, aborted)
            await call.send_pending(context)
            return response

        return handle

    def _stream(
        self, behavior: Callable[[Any, Any], Iterator[Any]]
    ) -> Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Coroutine[Any, Any, None]]:
        slots = self._slots

        # A coroutine that writes each message itself (not an async generator that gRPC
        # drains): a write refused because the client left is then ours to handle.
        async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
            call = LoopContext(context)
            loop = asyncio.get_running_loop()
            # A slot before a thread: past the limit a stream waits, as on a full pool.
            await slots.acquire()
            thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rpc-stream")
            messages: Any = behavior(request, call)  # a generator: nothing has run yet
            try:
                while (message := await loop.run_in_executor(thread, _next, messages)) is not _END:
                    await _sent(call.send_pending(context))
                    await _sent(context.write(message))
                await _sent(call.send_pending(context))
                if not call.is_active():
                    # The handler stops once the deadline passed, a moment before gRPC's
                    # core cancels the call: what it sent is not the whole answer.
                    raise Aborted(DEADLINE_STATUS)
            except Aborted as aborted:
                await _abort_ended(call, context, aborted)
            finally:
                # On the stream's own thread, after any read still running there: closing the
                # generator runs its cleanup (the reader closed, the connection given back).
                closed = thread.submit(messages.close)
                closed.add_done_callback(lambda _: _call_soon(loop, slots.release))
                thread.shutdown(wait=False)

        return handle


async def _sent(sending: Awaitable[None]) -> None:
    """Await a send to the client. gRPC's core refuses it once the call has ended (the client
    cancelled, its deadline passed, the connection dropped), and gRPC cancels this RPC's task
    as soon as it learns why: the refusal waits for that cancellation, which ends the RPC as
    cancelled (no error logged). Refused without one, it is a real failure, and raised."""
    try:
        await sending
    except BATCH_REFUSED:
        await asyncio.sleep(CANCELLATION_GRACE_SECONDS)
        raise


async def _abort_ended(
    call: LoopContext, context: grpc.aio.ServicerContext[Any, Any], aborted: Aborted
) -> None:
    """Send the status a handler aborted with. If the call ended first (the client's deadline
    passed as the export's query was stopped by it), there is no one left to tell: gRPC then
    ends the RPC as aborted, without logging the refused status as an error."""
    await _sent(call.send_pending(context))
    status = aborted.status
    try:
        await context.abort(status.code, status.details, status.trailing_metadata)
    except BATCH_REFUSED:
        _LOGGER.debug("status %s not sent: the call had ended", status.code)


class ServiceCollector:
    """Collects what a generated `add_XServicer_to_server` registers, for `LoopHandlers`."""

    def __init__(self) -> None:
        self.handlers: list[GenericHandler] = []

    def add_generic_rpc_handlers(self, handlers: Sequence[GenericHandler]) -> None:
        self.handlers.extend(handlers)

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Any]) -> None:
        """The same methods as the generic handler; nothing more to keep."""


class LoopThread:
    """An event loop running on a thread of its own, for the gRPC server.

    The server keeps its own loop so that a process can run it beside other work (the
    gateway's loop under `serve --one-process`, tests, the CLI's stop signals).
    """

    def __init__(self, name: str = "grpc-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def on_loop(self) -> bool:
        return threading.current_thread() is self._thread

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coroutine` on the loop and wait for its result (from another thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def submit(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run `coroutine` on the loop: at once in order from the loop itself, else waited for."""
        if self.on_loop():
            task = self.loop.create_task(coroutine)
            self._tasks.add(task)  # kept until done: the loop holds tasks only weakly
            task.add_done_callback(self._tasks.discard)
        else:
            self.call(coroutine)

    @property
    def closed(self) -> bool:
        return self.loop.is_closed()

    def stop(self) -> None:
        """Stop the loop and close it once its thread is done."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()
