"""Idempotent consumption: decode the contract, apply the handler and record the event id in one
transaction, ack after commit. Failures are retried with backoff; a message that cannot succeed
(undecodable, refused by the domain, or failing `max_deliver` times) becomes a dead letter."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import msgspec
import structlog
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry.trace import SpanKind

from contracts.envelope import (
    Event,
    InvalidMetadata,
    Metadata,
    event_type,
    metadata_from_headers,
)
from contracts.registry import Channel, stream_named
from services.runtime.core import tracing
from services.runtime.core.db import Connection, Pool
from services.runtime.core.errors import Conflict, DomainError, NotFound, NotYet
from services.runtime.core.outages import TRANSIENT
from services.runtime.core.pacing import Backoff, redelivery_delay, unless_stopped, wait_any
from services.runtime.core.tracing import TraceContext
from services.runtime.http.request_context import safe_id
from services.runtime.messaging import dead_letters
from services.runtime.messaging.bus import Bus, fetch_ready

log = structlog.get_logger(__name__)

E = TypeVar("E")
Handler = Callable[[Connection, E, Metadata], Awaitable[None]]


@dataclass(frozen=True)
class Subscription(Generic[E]):
    """A durable consumer: the channels it reads, how to decode them, what applies them."""

    name: str
    channels: tuple[Channel, ...]
    decoder: msgspec.json.Decoder[E]
    handler: Handler[E]
    # Senders outside Carebridge (partners) choose their own event ids: ids are then only
    # unique per subject, so one sender cannot spend another's id and have its message taken
    # for a duplicate. The inbox and the dead letters key them by subject and id.
    ids_per_subject: bool = False

    def event_key(self, subject: str, event_id: str) -> str:
        return f"{subject}:{event_id}" if self.ids_per_subject else event_id

    @property
    def stream(self) -> str:
        streams = {c.stream for c in self.channels}
        if len(streams) != 1:
            raise ValueError(f"{self.name}: a consumer reads exactly one stream, got {streams}")
        return streams.pop()


TRANSIENT_RETRY_CAP = 30.0


async def _unsubscribe(psub: JetStreamContext.PullSubscription | None) -> None:
    if psub is None:
        return
    # If the connection that held it is gone, so is the subscription.
    with contextlib.suppress(NatsError, OSError):
        await psub.unsubscribe()


ACK_TIMEOUT_BACKOFF_CAP = 600.0


def ack_timeout_backoff(ack_wait: float) -> list[float]:
    """Delays before redelivering a message whose ack never came: ack_wait, doubling to a cap;
    JetStream repeats the last one for every later delivery."""
    delays = [ack_wait]
    while delays[-1] * 2 <= ACK_TIMEOUT_BACKOFF_CAP:
        delays.append(delays[-1] * 2)
    return delays


class Poison(Exception):
    """A message that no retry can make succeed."""


# Deliveries beyond max_deliver a premature message (NotYet) gets before it is dead-lettered:
# with delays doubling to TRANSIENT_RETRY_CAP, minutes, longer than any ack deadline after which
# the message it waits for comes back.
PREMATURE_EXTRA_ATTEMPTS = 10


# The decoding failures a Poison is raised from: the message is unreadable, not refused.
_UNDECODABLE = (InvalidMetadata, msgspec.DecodeError)


class Outcome(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"


def decode(
    sub: Subscription[E], headers: dict[str, str] | None, payload: bytes, subject: str
) -> tuple[Metadata, E]:
    try:
        meta = metadata_from_headers(headers, subject=subject)
        event = sub.decoder.decode(payload)
    except (InvalidMetadata, msgspec.DecodeError) as exc:
        raise Poison(f"undecodable message: {exc}") from exc
    if isinstance(event, Event) and meta.type != event_type(type(event)):
        raise Poison(
            f"ce-type {meta.type} does not match the body's type {event_type(type(event))}"
        )
    return meta, event


async def apply_decoded(
    conn: Connection, sub: Subscription[E], meta: Metadata, event: E
) -> Outcome:
    """Inside the caller's transaction: record the event id, then apply it if it is new."""
    first_time = await conn.fetchval(
        """INSERT INTO inbox (consumer, event_id) VALUES ($1, $2)
           ON CONFLICT DO NOTHING RETURNING true""",
        sub.name,
        sub.event_key(meta.subject or "", meta.id),
    )
    if not first_time:
        return Outcome.DUPLICATE
    with structlog.contextvars.bound_contextvars(
        event_id=meta.id,
        event_type=meta.type,
        correlation_id=safe_id(meta.correlation_id) or meta.id,
        causation_id=meta.id,
    ):
        try:
            # Continues the trace the event carries: what the handler emits carries it on.
            with tracing.continued(
                TraceContext.of_event(meta),
                f"process {meta.subject or sub.name}",
                SpanKind.CONSUMER,
                attributes=tracing.messaging_attributes(meta.subject or "", meta.id),
            ):
                await sub.handler(conn, event, meta)
        except DomainError as exc:
            raise Poison(f"{type(exc).__name__}: {exc.detail}") from exc
    return Outcome.APPLIED


async def apply_message(
    pool: Pool, sub: Subscription[E], headers: dict[str, str] | None, payload: bytes, subject: str
) -> Outcome:
    """Apply one message exactly once. Raises Poison for messages that can never succeed."""
    meta, event = decode(sub, headers, payload, subject)
    async with pool.acquire() as conn, conn.transaction():
        return await apply_decoded(conn, sub, meta, event)


async def replay_dead_letter(
    pool: Pool, subscriptions: dict[str, Subscription[object]], dead_letter_id: int
) -> Outcome:
    """Apply a dead letter through its consumer's handler and mark it replayed, atomically."""
    async with pool.acquire() as conn, conn.transaction():
        stored = await dead_letters.lock_for_replay(conn, dead_letter_id)
        if stored is None:
            raise NotFound(f"dead letter {dead_letter_id} does not exist")
        if stored.replayed:
            raise Conflict(f"dead letter {dead_letter_id} was already replayed")
        if stored.truncated:
            raise Conflict(
                f"dead letter {dead_letter_id} kept only the start of a message larger than "
                "the dead-letter cap: there is no whole message to replay"
            )
        if stored.erased:
            raise Conflict(
                f"dead letter {dead_letter_id} was emptied when the personal data it held was "
                "erased: there is nothing left to replay"
            )
        sub = subscriptions.get(stored.consumer)
        if sub is None:
            raise Conflict(f"consumer {stored.consumer!r} no longer exists in this service")
        try:
            meta, event = decode(sub, stored.headers, stored.payload, stored.subject)
            outcome = await apply_decoded(conn, sub, meta, event)
        except (Poison, NotYet) as exc:
            raise Conflict(f"replay failed again: {exc}") from exc
        await dead_letters.mark_replayed(conn, dead_letter_id)
        return outcome


_ERROR_TYPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_. ]{0,59}$")


def _error_type(error: str) -> str:
    """What comes before the first colon ("NotFound", "still premature"), when it reads as a
    type: never the text after it, which may quote the message."""
    head = error.partition(":")[0]
    return head if _ERROR_TYPE.match(head) else "error"


# Called in the transaction that stores a new dead letter: whatever it writes (the service's
# announcement, through its outbox) exists exactly when the dead letter does.
DeadLetterHook = Callable[[Connection, dead_letters.Recorded], Awaitable[None]]


class Consumer:
    """Runs one Subscription as a JetStream durable pull consumer."""

    def __init__(
        self,
        pool: Pool,
        bus: Bus,
        sub: Subscription[E],
        *,
        batch_size: int,
        max_deliver: int,
        ack_wait: float,
        on_outcome: Callable[[str, str], None] = lambda *_: None,
        dead_letter_max_payload: int = dead_letters.DEFAULT_MAX_PAYLOAD,
        on_dead_letter: DeadLetterHook | None = None,
        on_dead_lettered: Callable[[str, str], None] = lambda _consumer, _reason: None,
    ) -> None:
        self.pool = pool
        self.dead_letter_max_payload = dead_letter_max_payload
        self.on_dead_letter = on_dead_letter
        # Told (consumer, reason) of each message set aside: dead letters by reason.
        self.on_dead_lettered = on_dead_lettered
        self.bus = bus
        self.sub: Subscription[object] = sub  # type: ignore[assignment]
        self.batch_size = batch_size
        self.max_deliver = max_deliver
        self.ack_wait = ack_wait
        self.on_outcome = on_outcome

    @property
    def durable(self) -> str:
        return self.sub.name

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.ack_wait,
            # Redelivery after an ack timeout (a replica died or hung holding the message; a
            # failure it saw is nak'ed with its own delay instead): ack_wait first, then longer,
            # so a message that kills whoever takes it does not take a replica down every
            # ack_wait for ever.
            backoff=ack_timeout_backoff(self.ack_wait),
            # Unlimited at the server: this loop decides when a message becomes a dead letter,
            # so JetStream never drops one silently.
            max_deliver=-1,
            filter_subjects=[self.bus.subject(c.filter_subject) for c in self.sub.channels],
        )

    async def ensure(self) -> None:
        """Create or update the durable; if its stream is gone (NATS lost its data), declare the
        stream again first: the outbox still holds, or will re-send, what belongs in it."""
        stream = self.bus.stream(self.sub.stream)
        try:
            await self.bus.js.add_consumer(stream, self.config())
        except NotFoundError:
            await self.bus.provision([stream_named(self.sub.stream)])
            await self.bus.js.add_consumer(stream, self.config())

    async def lag(self) -> int | None:
        """Messages not yet delivered plus delivered but unacknowledged; None if unknown."""
        try:
            info = await self.bus.js.consumer_info(self.bus.stream(self.sub.stream), self.durable)
        except (NatsError, OSError):
            return None
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff()
        psub: JetStreamContext.PullSubscription | None = None
        try:
            while not stop.is_set():
                try:
                    if psub is None:
                        await self.ensure()
                        psub = await self.bus.js.pull_subscribe_bind(
                            self.durable, stream=self.bus.stream(self.sub.stream)
                        )
                    try:
                        msgs = (
                            await unless_stopped(
                                fetch_ready(psub, self.batch_size, timeout=1.0), stop
                            )
                            or []
                        )
                    except (NatsTimeoutError, TimeoutError):
                        backoff.reset()
                        continue
                    for msg in msgs:
                        await self.handle(msg)
                    backoff.reset()
                except (NatsError, OSError) as exc:
                    # The durable or its stream may be gone: bind again from scratch.
                    await _unsubscribe(psub)
                    psub = None
                    delay = backoff.next()
                    log.warning(
                        "consumer retrying", consumer=self.durable, error=type(exc).__name__
                    )
                    await wait_any(stop, timeout=delay)
        finally:
            await _unsubscribe(psub)

    async def handle(self, msg: Msg) -> None:
        attempt = msg.metadata.num_delivered
        subject = self.bus.unprefix(msg.subject)
        try:
            outcome = await apply_message(self.pool, self.sub, msg.headers, msg.data, subject)
        except Poison as exc:
            reason = "undecodable" if isinstance(exc.__cause__, _UNDECODABLE) else "rejected"
            await self._dead_letter(msg, subject, str(exc), attempt, reason)
            return
        except NotYet as exc:
            if attempt >= self.max_deliver + PREMATURE_EXTRA_ATTEMPTS:
                await self._dead_letter(
                    msg, subject, f"still premature: {exc.detail}", attempt, "premature"
                )
                return
            log.info("message is premature, will retry", consumer=self.durable, attempt=attempt)
            self.on_outcome(self.durable, "retried")
            await msg.nak(delay=redelivery_delay(attempt, cap=TRANSIENT_RETRY_CAP))
            return
        except TRANSIENT as exc:
            # The message is fine, the infrastructure is not: wait, never dead-letter for it.
            log.warning(
                "message waits for infrastructure", consumer=self.durable, error=type(exc).__name__
            )
            self.on_outcome(self.durable, "retried")
            await msg.nak(delay=redelivery_delay(attempt, cap=TRANSIENT_RETRY_CAP))
            return
        except Exception as exc:  # noqa: BLE001 - any other failure is retried, then dead-lettered
            if attempt >= self.max_deliver:
                await self._dead_letter(
                    msg, subject, f"{type(exc).__name__}: {exc}", attempt, "failed"
                )
                return
            # The type only: exception messages can quote the data that failed, and logs
            # must never hold personal data. The full text goes to the dead letter, if any.
            log.warning(
                "message failed, will retry",
                consumer=self.durable,
                attempt=attempt,
                error=type(exc).__name__,
            )
            self.on_outcome(self.durable, "retried")
            await msg.nak(delay=redelivery_delay(attempt))
            return
        self.on_outcome(self.durable, outcome.value)
        await msg.ack()

    async def _dead_letter(
        self, msg: Msg, subject: str, error: str, attempt: int, reason: str
    ) -> None:
        """Keep the message as a dead letter; `reason` (undecodable, rejected, premature,
        failed) is the bounded label it is counted under."""
        headers = dict(msg.headers or {})
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                dead_letter_id, new = await dead_letters.record_dead_letter(
                    conn,
                    consumer=self.durable,
                    subject=subject,
                    event_id=None
                    if (event_id := headers.get("ce-id")) is None
                    else self.sub.event_key(subject, event_id),
                    headers=headers,
                    payload=msg.data,
                    error=error,
                    attempts=attempt,
                    max_payload=self.dead_letter_max_payload,
                )
                if new and self.on_dead_letter is not None:
                    await self.on_dead_letter(
                        conn,
                        dead_letters.Recorded(
                            id=dead_letter_id,
                            consumer=self.durable,
                            subject=subject,
                            event_id=headers.get("ce-id"),
                            error_type=_error_type(error),
                            attempts=attempt,
                        ),
                    )
        except TRANSIENT as exc:
            # Not stored, so not terminated: the message comes back once the database does.
            log.warning(
                "dead letter not stored yet", consumer=self.durable, error=type(exc).__name__
            )
            await msg.nak(delay=redelivery_delay(attempt, cap=TRANSIENT_RETRY_CAP))
            return
        log.error("message dead-lettered", consumer=self.durable, subject=subject, reason=reason)
        self.on_outcome(self.durable, "dead_lettered")
        self.on_dead_lettered(self.durable, reason)
        await msg.term()
