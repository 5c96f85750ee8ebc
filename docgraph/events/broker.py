"""The LISTEN/NOTIFY broker: ONE dedicated asyncpg connection per process listens on the
events and jobs channels and fans what arrives out to in-process subscribers.

- Subscribers register for topics (`user:<id>`, `folder:<id>`, see publish.py) and read from
  their own bounded buffer. Fan-out never waits: it runs in the connection's callback, touches
  only the subscribers of the event's topic, and appends to their buffers.
- A slow subscriber (its buffer full) is cut off, never waited for: it is detached and its
  next read raises `SubscriberTooSlow`, so the subscription ends with an error telling the
  client to resubscribe and refetch. Others are unaffected. Dropping single events instead
  would lose notifications silently.
- When the connection drops (server restart, failover, pg_terminate_backend, a ping that does
  not answer), the broker reconnects with exponential backoff and LISTENs again. Subscribers
  keep their buffers; each receives `RESYNC` once the broker listens again, because anything
  committed meanwhile was not heard (notification subscribers refill that gap from the table).
- Channel callbacks (the worker's wake-up) are plain functions called for every payload of a
  channel, and once with None after a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass

import asyncpg
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import make_url

from ..db import connect_options
from ..errors import RateLimited
from .publish import EVENTS_CHANNEL, JOBS_CHANNEL, Event, decode

log = logging.getLogger("docgraph.broker")

MAX_RECONNECT_DELAY = 10.0
CONNECT_TIMEOUT = 10.0


class _Resync:
    def __repr__(self) -> str:
        return "RESYNC"


# Delivered to every subscriber after a reconnect: events may have been missed.
RESYNC = _Resync()


class SubscriberTooSlow(RateLimited):
    default_message = ("Events arrived faster than this subscription read them; it was ended. "
                       "Subscribe again and refetch what you display.")


def listen_dsn(database_url: str) -> str:
    """asyncpg's DSN for any SQLAlchemy PostgreSQL URL (drops the +driver suffix)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def reconnect_delay(attempt: int) -> float:
    """Exponential backoff with jitter: ~0.1 s, 0.2 s, 0.4 s ... up to 10 s."""
    return min(0.1 * 2 ** attempt, MAX_RECONNECT_DELAY) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


@dataclass
class BrokerStats:
    notifications: int = 0   # NOTIFY payloads received
    delivered: int = 0       # events appended to subscriber buffers
    cut_off: int = 0         # subscribers ended for being too slow
    reconnects: int = 0


class Subscriber:
    """One subscription's buffer. Iterate it; it yields `Event`s and `RESYNC`."""

    def __init__(self, broker: Broker, topics: tuple[str, ...], limit: int) -> None:
        self.broker, self.topics, self.limit = broker, topics, limit
        self._items: deque = deque()
        self._wake = asyncio.Event()
        self.too_slow = False
        self.closed = False

    def push(self, item) -> None:
        if self.closed or self.too_slow:
            return
        if len(self._items) >= self.limit:
            self.too_slow = True
            self.broker._cut_off(self)
        else:
            self._items.append(item)
        self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    def __aiter__(self) -> Subscriber:
        return self

    async def __anext__(self):
        while True:
            if self.too_slow:
                raise SubscriberTooSlow()
            if self._items:
                return self._items.popleft()
            if self.closed:
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()


class Broker:
    def __init__(self, database_url: str, *, channels: Iterable[str] = (EVENTS_CHANNEL, JOBS_CHANNEL),
                 queue_size: int = 1000, ping_seconds: float = 15.0) -> None:
        self.dsn, self._connect_args = connect_options(listen_dsn(database_url))
        self.channels = tuple(channels)
        self.queue_size = queue_size
        self.ping_seconds = ping_seconds
        self.stats = BrokerStats()
        self.listening = asyncio.Event()
        self._by_topic: dict[str, set[Subscriber]] = defaultdict(set)
        self._callbacks: dict[str, list[Callable[[str | None], None]]] = defaultdict(list)
        self._task: asyncio.Task | None = None
        self._connection: asyncpg.Connection | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self, *, wait: float = 5.0) -> None:
        """Start listening in the background; wait up to `wait` seconds for the first LISTEN
        (the app still starts when the database is late: the broker keeps retrying)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="docgraph-broker")
        try:
            await asyncio.wait_for(self.listening.wait(), wait)
        except TimeoutError:
            log.warning("the event listener is not connected yet; retrying in the background")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for subscribers in list(self._by_topic.values()):
            for subscriber in list(subscribers):
                subscriber.close()
        self._by_topic.clear()

    @property
    def backend_pid(self) -> int | None:
        """The listening connection's server process (for operators and tests)."""
        return self._connection.get_server_pid() if self._connection is not None else None

    @property
    def subscriber_count(self) -> int:
        return len({s for subscribers in self._by_topic.values() for s in subscribers})

    # --- subscribing -----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscriber]:
        subscriber = Subscriber(self, topics, self.queue_size)
        for topic in topics:
            self._by_topic[topic].add(subscriber)
        try:
            yield subscriber
        finally:
            subscriber.close()
            self._detach(subscriber)

    def on_channel(self, channel: str, callback: Callable[[str | None], None]) -> Callable[[], None]:
        """Call `callback(payload)` for every NOTIFY on `channel` (and `callback(None)` after a
        reconnect); returns a function that unregisters it."""
        if channel not in self.channels:
            raise ValueError(f"the broker does not listen on {channel!r}")
        self._callbacks[channel].append(callback)
        return lambda: self._callbacks[channel].remove(callback)

    def _detach(self, subscriber: Subscriber) -> None:
        for topic in subscriber.topics:
            subscribers = self._by_topic.get(topic)
            if subscribers is not None:
                subscribers.discard(subscriber)
                if not subscribers:
                    del self._by_topic[topic]

    def _cut_off(self, subscriber: Subscriber) -> None:
        self.stats.cut_off += 1
        more = f" (+{len(subscriber.topics) - 1} topics)" if len(subscriber.topics) > 1 else ""
        log.warning("subscriber of %s%s cut off: %d events unread", subscriber.topics[0], more, subscriber.limit)
        self._detach(subscriber)

    # --- receiving --------------------------------------------------------------------------------

    def _on_notification(self, _connection, _pid: int, channel: str, payload: str) -> None:
        self.stats.notifications += 1
        if channel == EVENTS_CHANNEL:
            for event in decode(payload):
                self.dispatch(event)
        for callback in list(self._callbacks.get(channel, ())):
            self._call(callback, payload)

    def dispatch(self, event: Event) -> None:
        """Hand one event to the subscribers of its topic (never blocks)."""
        for subscriber in list(self._by_topic.get(event.topic, ())):
            subscriber.push(event)
            self.stats.delivered += 1

    def _resync(self) -> None:
        for subscriber in {s for subscribers in self._by_topic.values() for s in subscribers}:
            subscriber.push(RESYNC)
        for callbacks in self._callbacks.values():
            for callback in list(callbacks):
                self._call(callback, None)

    @staticmethod
    def _call(callback, payload) -> None:
        try:
            callback(payload)
        except Exception:
            log.exception("channel callback failed")

    # --- the connection ---------------------------------------------------------------------------

    async def _run(self) -> None:
        attempt, heard_before = 0, False
        while True:
            try:
                connection = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT, **self._connect_args)
            except Exception as exc:  # noqa: BLE001 - whatever the cause, retry with backoff
                delay = reconnect_delay(attempt)
                attempt += 1
                log.warning("event listener cannot connect (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                continue
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
            try:
                for channel in self.channels:
                    await connection.add_listener(channel, self._on_notification)
                self._connection = connection
                self.listening.set()
                if heard_before:
                    self.stats.reconnects += 1
                    log.info("event listener reconnected")
                    self._resync()
                heard_before, attempt = True, 0
                await self._watch(connection, lost)
                log.warning("event listener lost its connection; reconnecting")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("event listener failed (%s); reconnecting", exc)
            finally:
                self.listening.clear()
                self._connection = None
                connection.terminate()
            await asyncio.sleep(reconnect_delay(attempt))
            attempt += 1

    async def _watch(self, connection: asyncpg.Connection, lost: asyncio.Event) -> None:
        """Return when the connection is gone: closed by the server, or a ping unanswered."""
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), self.ping_seconds)
                return
            except TimeoutError:
                pass
            try:
                await asyncio.wait_for(connection.fetchval("SELECT 1"), CONNECT_TIMEOUT)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                return


class BrokerCollector:
    """Prometheus metrics of the process's broker (registered on the app's /metrics)."""

    def __init__(self, get_broker: Callable[[], Broker | None]) -> None:
        self.get_broker = get_broker

    def collect(self) -> Iterator[Metric]:
        broker = self.get_broker()
        if broker is None:
            return
        yield GaugeMetricFamily("docgraph_live_subscribers", "Live subscriptions in this process",
                                value=broker.subscriber_count)
        yield GaugeMetricFamily("docgraph_listener_connected", "1 while the LISTEN connection is up",
                                value=1 if broker.listening.is_set() else 0)
        stats = broker.stats
        for name, value, help_text in (
            ("docgraph_listener_notifications", stats.notifications, "NOTIFY payloads received"),
            ("docgraph_live_events_delivered", stats.delivered, "Events handed to subscribers"),
            ("docgraph_live_subscribers_cut_off", stats.cut_off, "Subscribers ended for being too slow"),
            ("docgraph_listener_reconnects", stats.reconnects, "Reconnections of the LISTEN connection"),
        ):
            yield CounterMetricFamily(name, help_text, value=value)
