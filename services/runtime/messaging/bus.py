"""One NATS connection per process, namespaced subjects, and idempotent stream provisioning."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable, Iterable

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from contracts.registry import StreamSpec

log = structlog.get_logger(__name__)

# JetStream's answer when a stream exists with another configuration.
_STREAM_NAME_IN_USE = 10058
# Within the service's shutdown grace: a drain that takes longer is cut short by a close.
_DRAIN_TIMEOUT = 5.0
# How long fetch_ready waits for messages the server said were waiting.
_READY_WAIT = 0.02


class Bus:
    """The process's NATS connection. A non-empty namespace prefixes every subject
    (`ns.content.…`) and stream name (`ns_CONTENT`), so test runs or tenants sharing one
    server never see each other's messages."""

    def __init__(
        self,
        nc: Client,
        *,
        namespace: str = "",
        replicas: int = 1,
        max_bytes: int = 0,
        reconnect_listeners: list[Callable[[], None]] | None = None,
    ) -> None:
        self.nc = nc
        self._reconnect_listeners = reconnect_listeners if reconnect_listeners is not None else []
        self.js: JetStreamContext = nc.jetstream()
        self.namespace = namespace
        self.replicas = replicas
        self.max_bytes = max_bytes

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        name: str,
        namespace: str = "",
        replicas: int = 1,
        max_bytes: int = 0,
        first_connect_timeout: float = 15.0,
        inbox_prefix: str = "_INBOX",
        tls_ca_file: str = "",
    ) -> Bus:
        """Connect, reconnecting forever once connected; but a server that never answered
        is a configuration error, reported after `first_connect_timeout` seconds.

        `inbox_prefix` is where replies come back (JetStream's answers and acks): a client
        whose permissions allow only its own prefix (a partner's) must set it. `tls_ca_file`
        is the CA that signed the servers' certificates when it is not a public one; `tls://`
        URLs verify against the system's CAs without it."""

        async def on_disconnect() -> None:
            if not nc.is_draining and not nc.is_closed:
                log.warning("nats disconnected")

        listeners: list[Callable[[], None]] = []

        async def on_reconnect() -> None:
            log.info("nats reconnected")
            for listener in listeners:
                listener()

        async def on_error(exc: Exception) -> None:
            log.warning("nats error", error=str(exc))

        nc = Client()
        connecting = nc.connect(
            servers=url.split(","),
            name=name,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            connect_timeout=5,
            disconnected_cb=on_disconnect,
            reconnected_cb=on_reconnect,
            error_cb=on_error,
            inbox_prefix=inbox_prefix,
            tls=ssl.create_default_context(cafile=tls_ca_file) if tls_ca_file else None,
        )
        try:
            await asyncio.wait_for(connecting, first_connect_timeout)
        except TimeoutError:
            await nc.close()
            raise ConnectionError(
                f"NATS at {url} did not answer within {first_connect_timeout:.0f}s"
            ) from None
        return cls(
            nc,
            namespace=namespace,
            replicas=replicas,
            max_bytes=max_bytes,
            reconnect_listeners=listeners,
        )

    def on_reconnect(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every reconnect: plain subscriptions may have missed messages."""
        self._reconnect_listeners.append(listener)

    def subject(self, subject: str) -> str:
        return f"{self.namespace}.{subject}" if self.namespace else subject

    def unprefix(self, subject: str) -> str:
        prefix = f"{self.namespace}." if self.namespace else ""
        return subject.removeprefix(prefix)

    def stream(self, name: str) -> str:
        return f"{self.namespace}_{name}" if self.namespace else name

    @property
    def connected(self) -> bool:
        return self.nc.is_connected

    async def provision(self, streams: Iterable[StreamSpec]) -> None:
        """Create each stream, or bring an existing one to the declared configuration.

        The durability settings (docs/operations/jetstream.md) are those of the StreamSpec and:
        file storage, since memory storage loses everything with the server; `replicas` copies
        (3 on a cluster: a write is acknowledged once a majority holds it, so one node may die);
        and, when `max_bytes` bounds a stream, discard-new, so a full stream refuses what is
        published (the relay keeps it in the outbox and retries, the backlog metric shows it)
        instead of silently dropping its oldest messages, which may not have been consumed."""
        for spec in streams:
            config = StreamConfig(
                name=self.stream(spec.name),
                description=spec.description,
                subjects=[self.subject(s) for s in spec.subjects],
                storage=StorageType.FILE,
                num_replicas=self.replicas,
                max_age=spec.max_age_seconds,
                duplicate_window=spec.duplicate_window_seconds,
                max_msg_size=spec.max_message_bytes,
                # JetStream reserves max_bytes of its storage per stream, so it is a deployment
                # setting (NATS_STREAM_MAX_BYTES), not a constant: 0 leaves the bound to the
                # server's JetStream storage limit.
                max_bytes=self.max_bytes or -1,
                discard=DiscardPolicy.NEW,
                deny_delete=spec.deny_delete,
                deny_purge=spec.deny_purge,
            )
            try:
                await self.js.add_stream(config)
            except BadRequestError as exc:
                if exc.err_code != _STREAM_NAME_IN_USE:
                    raise
                # Operators may have raised the replicas (R3 on a cluster); never lower them.
                current = await self.js.stream_info(config.name or "")
                config.num_replicas = max(self.replicas, current.config.num_replicas or 1)
                await self.js.update_stream(config)

    async def close(self) -> None:
        """Drain: finish in-flight deliveries and flush pending publishes, then disconnect."""
        if self.nc.is_closed:
            return
        try:
            await asyncio.wait_for(self.nc.drain(), _DRAIN_TIMEOUT)
        except (NatsError, TimeoutError):
            # Draining needs a live connection; while reconnecting, just close.
            await self.nc.close()


async def fetch_ready(
    psub: JetStreamContext.PullSubscription, batch: int, timeout: float
) -> list[Msg]:
    """Up to `batch` messages: waits up to `timeout` for the first, then takes only what is
    already there. nats-py's fetch(batch) keeps a first message that arrives while it waits
    until the batch is full or the timeout has passed: on a quiet stream, up to `timeout` of
    latency per hop. Raises nats' TimeoutError when nothing came."""
    msgs = await psub.fetch(1, timeout=timeout)
    # The first message says how many more wait behind it. Only those are asked for: a pull
    # for more than wait lingers until its expiry (nats-py always gives one), which held every
    # lone message for the whole of _READY_WAIT. Redeliveries are not in that count, so behind
    # a redelivered message a full batch is asked for, as a recovering consumer has a backlog.
    first = msgs[0].metadata
    waiting = batch - 1 if first.num_delivered > 1 else min(batch - 1, first.num_pending)
    if waiting > 0:
        # Another replica of the consumer may take them first: then the wait is the bound.
        with contextlib.suppress(NatsTimeoutError, TimeoutError):
            msgs += await psub.fetch(waiting, timeout=_READY_WAIT)
    return msgs
