"""The reference partner's door: the offer subscription loop. It receives offers through the
partner's own durable consumer, answers them (as `domain` decides) and reports progress, as any
transport company, interpreter agency or courier would.

What it serves lives in memory, so an accepted offer stays unacknowledged until its booking is
done: a restart (or a crash) gets it again and serves it again from the start, under the same
reply ids, which Carebridge drops as duplicates. A production partner keeps its jobs in its own
database."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, assert_never

import msgspec
import structlog
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from contracts.envelope import (
    NATS_MSG_ID,
    InvalidMetadata,
    Metadata,
    event_type,
    metadata_from_headers,
    sender_msg_id,
)
from contracts.partners import (
    DataErasureRequested,
    Offer,
    OfferAccepted,
    OfferDeclined,
    OfferWithdrawn,
    StatusUpdate,
    partner_offer_decoder,
)
from contracts.registry import PARTNER_OFFERS, PARTNER_REPLIES
from services.partner import domain
from services.runtime.core.log import event_loop_name
from services.runtime.core.pacing import Backoff, wait_any
from services.runtime.messaging.bus import Bus, fetch_ready
from services.runtime.messaging.inbox import ack_timeout_backoff

# The name its log lines have always carried (the e2e stack and operators' filters read them).
if TYPE_CHECKING:  # composed in app.py, which sits above this door
    from services.partner.app import PartnerSettings

log = structlog.get_logger("services.partner.app")

# Offers answered at once at most; a backlog beyond it waits in the stream, not in memory.
_MAX_ANSWERING = 256
_PUBLISH_TIMEOUT = 5.0


Reply = OfferAccepted | OfferDeclined | StatusUpdate


@dataclass
class _Job:
    """An offer being answered or a booking being served, until done or withdrawn."""

    offer: Offer
    # Of the stream message that brought it: a redelivery of it is not a second copy.
    sequence: int
    withdrawn: asyncio.Event = field(default_factory=asyncio.Event)
    answered: bool = False


class ReferencePartner:
    def __init__(
        self,
        settings: PartnerSettings,
        bus: Bus,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.clock = clock
        self.source = f"/partners/{settings.partner_id}"
        # A simulation's draw, not cryptography.
        drawn = random.randrange(2**32)  # noqa: S311
        self.seed = settings.random_seed if settings.random_seed is not None else drawn
        self.replies = bus.subject(PARTNER_REPLIES.subject(partner_id=settings.partner_id))
        self.jobs: dict[str, _Job] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.answering = 0
        self.slot_freed = asyncio.Event()
        self.stop = asyncio.Event()

    @property
    def durable(self) -> str:
        return f"partner-{self.settings.partner_id}"

    @property
    def stream(self) -> str:
        return self.bus.stream(PARTNER_OFFERS.stream)

    def consumer_config(self) -> ConsumerConfig:
        offers = PARTNER_OFFERS.address.format(partner_id=self.settings.partner_id, kind=">")
        return ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.settings.ack_wait,
            # As every Carebridge durable: an offer whose answer never came is offered to this
            # partner again at growing intervals, never dropped.
            backoff=ack_timeout_backoff(self.settings.ack_wait),
            max_deliver=-1,
            filter_subject=self.bus.subject(offers),
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Receive offers until `stop`; then let in-flight work end: unanswered offers are
        handed back to the stream (nak) for the next start."""
        watcher = asyncio.create_task(self._follow(stop))
        backoff = Backoff(cap=10.0)
        psub: JetStreamContext.PullSubscription | None = None
        try:
            while not stop.is_set():
                try:
                    if psub is None:
                        psub = await self._bind()
                        log.info(
                            "waiting for offers",
                            partner_id=self.settings.partner_id,
                            event_loop=event_loop_name(),
                        )
                    await self._receive_batch(psub)
                    backoff.reset()
                except NotFoundError:
                    # Logistics declares the PARTNERS stream; until it has, there is nothing to
                    # read. A partner never creates Carebridge's streams.
                    log.info("offers stream not there yet, waiting", stream=self.stream)
                    await _unsubscribe(psub)
                    psub = None
                    await wait_any(stop, timeout=backoff.next())
                except (NatsError, OSError) as exc:
                    log.warning("receiving offers failed, retrying", error=type(exc).__name__)
                    await _unsubscribe(psub)
                    psub = None
                    await wait_any(stop, timeout=backoff.next())
        finally:
            self.stop.set()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            await _unsubscribe(psub)
            watcher.cancel()

    async def _follow(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self.stop.set()

    async def _bind(self) -> JetStreamContext.PullSubscription:
        if self.settings.partner_consumer == "create":
            # Create-or-update: idempotent, and a changed ACK_WAIT takes effect on the next start.
            await self.bus.js.add_consumer(self.stream, self.consumer_config())
        return await self.bus.js.pull_subscribe_bind(self.durable, stream=self.stream)

    async def _receive_batch(self, psub: JetStreamContext.PullSubscription) -> None:
        free = _MAX_ANSWERING - self.answering
        if free <= 0:
            self.slot_freed.clear()
            await wait_any(self.slot_freed, self.stop, timeout=1.0)
            return
        try:
            msgs = await fetch_ready(psub, min(free, self.settings.batch_size), timeout=1.0)
        except (NatsTimeoutError, TimeoutError):
            return
        for msg in msgs:
            await self._receive(msg)

    async def _receive(self, msg: Msg) -> None:
        subject = self.bus.unprefix(msg.subject)
        try:
            meta = metadata_from_headers(msg.headers, subject=subject)
            message = partner_offer_decoder.decode(msg.data)
        except (InvalidMetadata, msgspec.DecodeError) as exc:
            # Retrying cannot make it readable; the type only, as the text may quote the data.
            log.warning("unreadable offer discarded", subject=subject, error=type(exc).__name__)
            await msg.term()
            return
        match message:
            case Offer() if message.offer_id in self.jobs:
                # Sent again while still in hand. The same stream message is settled by its
                # first delivery once the job ends; a second copy of it (re-published after
                # the stream's duplicate window) needs only its own ack once answered.
                log.info("offer received again, already in hand", offer_id=message.offer_id)
                held = self.jobs[message.offer_id]
                if held.answered and held.sequence != msg.metadata.sequence.stream:
                    await msg.ack()
            case Offer():
                # Registered before the task runs, so a withdrawal in this batch finds it.
                job = _Job(message, sequence=msg.metadata.sequence.stream)
                self.jobs[message.offer_id] = job
                self.answering += 1
                self._spawn(self._serve(msg, meta, job))
            case OfferWithdrawn():
                self._withdraw(message)
                await msg.ack()
            case DataErasureRequested():
                self._erase(message)
                await msg.ack()
            case _:
                assert_never(message)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _withdraw(self, withdrawal: OfferWithdrawn) -> None:
        """Stops an answer not yet sent, or the progress of a booking already accepted."""
        for job in self.jobs.values():
            if withdrawal.offer_id == job.offer.offer_id or (
                withdrawal.booking_id == job.offer.booking_id
            ):
                job.withdrawn.set()
        log.info(
            "offer withdrawn",
            offer_id=withdrawal.offer_id,
            booking_id=withdrawal.booking_id,
            reason=withdrawal.reason,
        )

    def _erase(self, request: DataErasureRequested) -> None:
        """Forget the traveller: the job that holds the offer's details stops and is dropped.
        This partner keeps nothing else; one with a database deletes the rows here."""
        for offer_id, job in list(self.jobs.items()):
            if request.offer_id == offer_id or request.booking_id == job.offer.booking_id:
                job.withdrawn.set()
                del self.jobs[offer_id]
        log.info(
            "personal data erased on request",
            offer_id=request.offer_id,
            booking_id=request.booking_id,
        )

    def holds(self, booking_id: str) -> bool:
        """Whether any offer or booking in hand names this booking (and so its traveller)."""
        return any(job.offer.booking_id == booking_id for job in self.jobs.values())

    async def _serve(self, msg: Msg, meta: Metadata, job: _Job) -> None:
        offer = job.offer
        try:
            with structlog.contextvars.bound_contextvars(
                offer_id=offer.offer_id, booking_id=offer.booking_id, kind=offer.kind
            ):
                try:
                    if await self._answer(msg, meta, job):
                        await self._settle(msg, await self._progress(msg, job, meta))
                except (NatsError, OSError) as exc:
                    # The ack or nak was lost with the connection: the offer is delivered
                    # again, and an answer already sent goes out with the same id, dropped.
                    log.warning("offer left unsettled", error=type(exc).__name__)
        finally:
            self.jobs.pop(offer.offer_id, None)

    async def _answer(self, msg: Msg, meta: Metadata, job: _Job) -> bool:
        """Reply after the delay; True when the offer was accepted, and then the offer is
        settled only once its booking is done (`_settle`). Any other answer is acked here."""
        try:
            answer = domain.decide(
                job.offer,
                kinds=self.settings.kinds,
                accept_rate=self.settings.accept_rate,
                roll=domain.offer_roll(self.seed, job.offer.offer_id),
                now=self.clock(),
            )
            if answer is None:
                log.info("offer expired before it arrived, not answered")
                await msg.ack()
                return False
            await wait_any(job.withdrawn, self.stop, timeout=self.settings.reply_delay)
            if job.withdrawn.is_set():
                log.info("offer withdrawn before it was answered")
                await msg.ack()
                return False
            if self.stop.is_set():
                await msg.nak()
                return False
            try:
                await self._publish(job.offer.offer_id, answer, meta)
            except (NatsError, OSError, TimeoutError) as exc:
                # Not answered, so not acked: the offer comes back and gets the same reply id.
                log.warning("answer not sent, will retry", error=type(exc).__name__)
                await msg.nak(delay=1.0)
                return False
            job.answered = True
            if isinstance(answer, OfferDeclined):
                await msg.ack()
        finally:
            self.answering -= 1
            self.slot_freed.set()
        match answer:
            case OfferAccepted():
                log.info("offer accepted")
                return True
            case OfferDeclined():
                log.info("offer declined", reason=answer.reason)
                return False
            case _:
                assert_never(answer)

    async def _progress(self, msg: Msg, job: _Job, cause: Metadata) -> bool:
        """Report each step of the booking, STEP_DELAY apart; True when done or withdrawn,
        False when stopped midway (the next start serves the booking again)."""
        offer = job.offer
        for number, status in enumerate(domain.steps(offer)):
            await wait_any(job.withdrawn, self.stop, timeout=self.settings.step_delay)
            if job.withdrawn.is_set():
                log.info("booking withdrawn, progress stopped")
                return True
            if self.stop.is_set():
                return False
            # Still serving: JetStream must not hand the offer out again meanwhile.
            await msg.in_progress()
            update = domain.status_update(offer.booking_id, offer.details, status, at=self.clock())
            if not await self._publish_until_sent(offer.offer_id, update, cause, step=number):
                return False
            log.info("status reported", status=status)
        return True

    @staticmethod
    async def _settle(msg: Msg, done: bool) -> None:
        if done:
            await msg.ack()
        else:
            await msg.nak()

    async def _publish_until_sent(
        self, offer_id: str, reply: Reply, cause: Metadata, *, step: int
    ) -> bool:
        """A status update is never skipped: retried while NATS is away, until stopped."""
        backoff = Backoff(cap=10.0)
        while not self.stop.is_set():
            try:
                await self._publish(offer_id, reply, cause, step=step)
            except (NatsError, OSError, TimeoutError) as exc:
                log.warning("status update not sent, retrying", error=type(exc).__name__)
                await wait_any(self.stop, timeout=backoff.next())
            else:
                return True
        return False

    async def _publish(
        self, offer_id: str, reply: Reply, cause: Metadata, *, step: int | None = None
    ) -> None:
        meta = Metadata(
            id=domain.reply_id(offer_id, step),
            type=event_type(type(reply)),
            source=self.source,
            time=self.clock(),
            correlation_id=cause.correlation_id or cause.id,
            causation_id=cause.id,
            # The offer's trace goes on with the answer (the partner protocol asks it of every
            # partner: docs/partners.md).
            traceparent=cause.traceparent,
            tracestate=cause.tracestate,
        )
        # Through JetStream, acknowledged: the reply is in the stream even if logistics is down.
        await self.bus.js.publish(
            self.replies,
            msgspec.json.encode(reply),
            headers=meta.headers()
            | {NATS_MSG_ID: sender_msg_id(self.settings.partner_id, meta.id)},
            timeout=_PUBLISH_TIMEOUT,
        )


async def _unsubscribe(psub: JetStreamContext.PullSubscription | None) -> None:
    if psub is not None:
        with contextlib.suppress(NatsError, OSError):
            await psub.unsubscribe()
