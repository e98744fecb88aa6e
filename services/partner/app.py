"""The reference partner: a standalone NATS client that receives its offers, answers them and
reports progress, as any transport company, interpreter agency or courier would. It shares only
the contracts (and the runtime's plumbing) with Carebridge; read it as an example of the
partner protocol (contracts/asyncapi.yaml).

This module is its composition: the settings it reads from the environment, the connection
they describe, and `serve`, which runs the offer loop until SIGINT or SIGTERM. The offer loop
is in `consumers`, the decisions in `domain`, the process in `__main__`, the incident report
command in `incident`."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated, Literal, cast

import msgspec
import structlog

from contracts.logistics import BookingKind, PartnerId
from services.partner.consumers import ReferencePartner
from services.runtime.core.settings import (
    InboxPrefix,
    Namespace,
    NatsUrl,
    PositiveFloat,
    PositiveInt,
    check_ca_file,
)
from services.runtime.messaging.bus import Bus

# The name the process's log lines have always carried.
log = structlog.get_logger("services.partner")

_KIND = "(transfer|interpreter|shipment)"
Kinds = Annotated[str, msgspec.Meta(pattern=rf"^{_KIND}(,{_KIND})*$")]
Seconds = Annotated[float, msgspec.Meta(ge=0, le=86_400)]


class PartnerSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """Field `partner_id` is read from `PARTNER_ID`, and so on."""

    partner_id: PartnerId
    # Comma-separated; an offer of another kind is declined as `not_qualified`.
    partner_kinds: Kinds = "transfer,interpreter,shipment"
    nats_url: NatsUrl = "nats://127.0.0.1:4222"
    nats_namespace: Namespace = ""
    # With credentials that allow only its own inbox prefix (`_INBOX_<partner id>`), set it here.
    nats_inbox_prefix: InboxPrefix = "_INBOX"
    # The CA that signed Carebridge's NATS certificates, when not a public one.
    nats_tls_ca_file: str = ""
    # `create`: the partner makes (or updates) its durable consumer, on an open server.
    # `bind`: Carebridge made it and the partner's credentials allow only reading from it.
    partner_consumer: Literal["create", "bind"] = "create"
    # Share of offers accepted; the rest are declined for `no_capacity`.
    accept_rate: Annotated[float, msgspec.Meta(ge=0, le=1)] = 1.0
    reply_delay: Seconds = 1.0
    step_delay: Seconds = 3.0
    # Fixes every accept/decline draw (per offer), so a run can be replayed exactly; without
    # it, each process draws its own.
    random_seed: int | None = None
    batch_size: PositiveInt = 64
    ack_wait: PositiveFloat = 30.0
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"

    def __post_init__(self) -> None:
        check_ca_file(self.nats_tls_ca_file)
        if self.reply_delay >= self.ack_wait:
            # Otherwise JetStream redelivers every offer while its answer is still pending.
            raise ValueError("REPLY_DELAY is invalid: it must be shorter than ACK_WAIT")

    @property
    def kinds(self) -> tuple[BookingKind, ...]:
        return tuple(cast(BookingKind, k) for k in self.partner_kinds.split(","))

    async def connect(self, name: str) -> Bus:
        """The partner's connection to Carebridge's NATS, as these settings describe it."""
        return await Bus.connect(
            self.nats_url,
            name=name,
            namespace=self.nats_namespace,
            inbox_prefix=self.nats_inbox_prefix,
            tls_ca_file=self.nats_tls_ca_file,
        )


async def serve(settings: PartnerSettings) -> int:
    """Run one reference partner until SIGINT or SIGTERM; 1 when NATS cannot be reached."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        bus = await settings.connect(f"partner-{settings.partner_id}")
    except ConnectionError as exc:
        # The message names the URL; a traceback would add nothing to a configuration error.
        log.error("cannot reach NATS", error=str(exc))  # noqa: TRY400
        return 1
    log.info(
        "partner started",
        partner_id=settings.partner_id,
        kinds=settings.partner_kinds,
        accept_rate=settings.accept_rate,
    )
    try:
        await ReferencePartner(settings, bus).run(stop)
    finally:
        await bus.close()
        log.info("partner stopped", partner_id=settings.partner_id)
    return 0
