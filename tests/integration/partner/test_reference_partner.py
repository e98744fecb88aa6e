"""The reference partner on a real JetStream: offers published into the PARTNERS stream as
logistics publishes them, replies read back from the stream as logistics reads them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from nats.aio.msg import Msg

from contracts.envelope import Metadata, event_type, metadata_from_headers
from contracts.partners import (
    TRANSFER_PROGRESS,
    DataErasureRequested,
    Offer,
    OfferAccepted,
    OfferDeclined,
    OfferWithdrawn,
    PartnerOffer,
    PartnerReply,
    StatusUpdate,
    partner_reply_decoder,
)
from contracts.registry import PARTNER_OFFERS, PARTNER_REPLIES, STREAMS
from services.partner.app import PartnerSettings
from services.partner.consumers import ReferencePartner
from services.runtime.messaging.bus import Bus
from tests.partner_samples import offer
from tests.support import eventually

REPO = Path(__file__).resolve().parents[3]
PARTNER = "rhein-shuttle"


class Reply(msgspec.Struct, frozen=True):
    meta: Metadata
    body: PartnerReply
    headers: dict[str, str]


class Replies:
    """Every reply the partner has put in the stream, decoded as logistics decodes them, and
    counted once per subject and ce-id as logistics' inbox counts them: the replies stream keeps
    a repeat sent later than its 100 ms duplicate window."""

    def __init__(self) -> None:
        self.received: list[Reply] = []
        self.keys: set[tuple[str, str]] = set()

    async def on_message(self, msg: Msg) -> None:
        headers = dict(msg.headers or {})
        meta = metadata_from_headers(headers)
        if (msg.subject, meta.id) in self.keys:
            return
        self.keys.add((msg.subject, meta.id))
        self.received.append(
            Reply(meta=meta, body=partner_reply_decoder.decode(msg.data), headers=headers)
        )

    def bodies(self) -> list[PartnerReply]:
        return [r.body for r in self.received]

    def statuses(self, booking_id: str) -> list[str]:
        return [
            b.status
            for b in self.bodies()
            if isinstance(b, StatusUpdate) and b.booking_id == booking_id
        ]

    def answers(self, offer_id: str) -> list[OfferAccepted | OfferDeclined]:
        return [
            b
            for b in self.bodies()
            if isinstance(b, OfferAccepted | OfferDeclined) and b.offer_id == offer_id
        ]


@pytest.fixture
async def streams(bus: Bus) -> Bus:
    await bus.provision(STREAMS)
    return bus


@pytest.fixture
async def replies(streams: Bus) -> AsyncIterator[Replies]:
    collected = Replies()
    subject = streams.subject(PARTNER_REPLIES.subject(partner_id=PARTNER))
    sub = await streams.js.subscribe(subject, cb=collected.on_message, ordered_consumer=True)
    yield collected
    await sub.unsubscribe()


class Running:
    """One reference partner on its own connection, as its own process would have."""

    def __init__(self, nats_url: str, settings: PartnerSettings) -> None:
        self.nats_url = nats_url
        self.settings = settings
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.bus: Bus | None = None
        self.partner: ReferencePartner | None = None

    async def start(self) -> None:
        self.stop = asyncio.Event()
        self.bus = await Bus.connect(
            self.nats_url, name="partner", namespace=self.settings.nats_namespace
        )
        self.partner = ReferencePartner(self.settings, self.bus)
        self.task = asyncio.create_task(self.partner.run(self.stop))

    async def halt(self) -> None:
        self.stop.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 10)
        if self.bus is not None:
            await self.bus.close()
        self.task = self.bus = None


@pytest.fixture
async def partner(nats_url: str, namespace: str, streams: Bus) -> AsyncIterator[Running]:
    """Not started: each test sets the behaviour it needs first."""
    running = Running(
        nats_url,
        PartnerSettings(
            partner_id=PARTNER,
            partner_kinds="transfer",
            nats_url=nats_url,
            nats_namespace=namespace,
            reply_delay=0.05,
            step_delay=0.05,
            random_seed=1,
        ),
    )
    yield running
    await running.halt()


def configure(running: Running, **changes: object) -> None:
    running.settings = msgspec.structs.replace(running.settings, **changes)


async def send(bus: Bus, message: PartnerOffer, kind: str = "transfer") -> Metadata:
    meta = Metadata(
        id=str(uuid.uuid4()),
        type=event_type(type(message)),
        source="/carebridge/logistics",
        time=datetime.now(UTC),
        correlation_id="inquiry-42",
    )
    subject = bus.subject(PARTNER_OFFERS.subject(partner_id=PARTNER, kind=kind))
    await bus.js.publish(subject, msgspec.json.encode(message), headers=meta.headers())
    return meta


async def all_offers_acked(bus: Bus) -> bool:
    return await offers_in_hand(bus) == 0


async def offers_in_hand(bus: Bus) -> int | None:
    """Offers delivered and not settled (accepted ones are settled when served), or None while
    some are not even delivered."""
    info = await bus.js.consumer_info(bus.stream("PARTNERS"), f"partner-{PARTNER}")
    return None if info.num_pending else int(info.num_ack_pending)


def withdrawal(o: Offer) -> OfferWithdrawn:
    return OfferWithdrawn(offer_id=o.offer_id, booking_id=o.booking_id, reason="cancelled")


async def test_an_accepted_offer_is_answered_then_walked_through_its_progression(
    partner: Running, replies: Replies, streams: Bus
) -> None:
    await partner.start()
    o = offer("transfer")

    cause = await send(streams, o)

    async def completed() -> bool:
        return replies.statuses(o.booking_id) == list(TRANSFER_PROGRESS)

    await eventually(completed)
    assert replies.bodies()[0] == OfferAccepted(offer_id=o.offer_id)
    for reply in replies.received:
        assert reply.meta.type == event_type(type(reply.body))
        assert reply.meta.source == f"/partners/{PARTNER}"
        # Its own id first, as partners are asked to (docs/partners.md).
        assert reply.headers["Nats-Msg-Id"] == f"{PARTNER}:{reply.meta.id}"
        assert (reply.meta.causation_id, reply.meta.correlation_id) == (cause.id, "inquiry-42")
    assigned = replies.bodies()[1]
    assert isinstance(assigned, StatusUpdate)
    assert assigned.driver_name
    assert assigned.vehicle
    assert len({r.meta.id for r in replies.received}) == len(replies.received)
    assert await eventually(lambda: all_offers_acked(streams))


async def test_offers_are_declined_for_capacity_or_a_kind_not_served(
    partner: Running, replies: Replies, streams: Bus
) -> None:
    configure(partner, accept_rate=0.0)
    await partner.start()
    transfer, shipment = offer("transfer"), offer("shipment")

    await send(streams, transfer)
    await send(streams, shipment, kind="shipment")

    async def both_answered() -> bool:
        return len(replies.received) == 2

    await eventually(both_answered)
    assert [a.reason for a in replies.answers(transfer.offer_id)] == ["no_capacity"]
    assert [a.reason for a in replies.answers(shipment.offer_id)] == ["not_qualified"]
    assert all(isinstance(r.body, OfferDeclined) for r in replies.received)
    assert await eventually(lambda: all_offers_acked(streams))


async def test_a_withdrawn_booking_stops_progressing(
    partner: Running, replies: Replies, streams: Bus
) -> None:
    configure(partner, step_delay=0.4)
    await partner.start()
    withdrawn, kept = offer("transfer"), offer("transfer")
    await send(streams, withdrawn)

    async def assigned() -> bool:
        return replies.statuses(withdrawn.booking_id) == ["driver_assigned"]

    await eventually(assigned)
    await send(streams, withdrawal(withdrawn))
    await send(streams, kept)

    async def kept_completed() -> bool:
        return replies.statuses(kept.booking_id) == list(TRANSFER_PROGRESS)

    # The kept booking's four steps take longer than the withdrawn one's remaining three would.
    await eventually(kept_completed)
    assert replies.statuses(withdrawn.booking_id) == ["driver_assigned"]


async def test_an_offer_withdrawn_before_the_answer_is_acked_and_never_answered(
    partner: Running, replies: Replies, streams: Bus
) -> None:
    configure(partner, reply_delay=5.0)
    await partner.start()
    o = offer("transfer")

    await send(streams, o)
    await send(streams, withdrawal(o))

    assert await eventually(lambda: all_offers_acked(streams))
    assert replies.received == []


async def test_an_erasure_request_makes_the_partner_forget_the_traveller_and_stop(
    partner: Running, replies: Replies, streams: Bus
) -> None:
    configure(partner, step_delay=0.4)
    await partner.start()
    erased, kept = offer("transfer"), offer("transfer")
    await send(streams, erased)
    await send(streams, kept)

    async def both_assigned() -> bool:
        return all(replies.statuses(o.booking_id) == ["driver_assigned"] for o in (erased, kept))

    await eventually(both_assigned)
    assert partner.partner is not None
    assert partner.partner.holds(erased.booking_id)

    await send(
        streams,
        DataErasureRequested(
            offer_id=erased.offer_id, booking_id=erased.booking_id, erased_at=datetime.now(UTC)
        ),
    )

    async def forgotten() -> bool:
        assert partner.partner is not None
        return not partner.partner.holds(erased.booking_id) and partner.partner.holds(
            kept.booking_id
        )

    await eventually(forgotten)
    assert await eventually(lambda: all_offers_acked(streams))

    async def kept_completed() -> bool:
        return replies.statuses(kept.booking_id) == list(TRANSFER_PROGRESS)

    await eventually(kept_completed)
    assert replies.statuses(erased.booking_id) == ["driver_assigned"]


async def test_an_offer_sent_again_while_in_hand_is_answered_once(
    partner: Running, replies: Replies, streams: Bus
) -> None:
    configure(partner, step_delay=3600.0)
    await partner.start()
    o = offer("transfer")
    await send(streams, o)

    async def answered() -> bool:
        return len(replies.answers(o.offer_id)) == 1

    await eventually(answered)
    assert partner.partner is not None
    in_hand = partner.partner.jobs[o.offer_id]
    await send(streams, o)

    async def copy_delivered_and_settled() -> bool:
        info = await streams.js.consumer_info(streams.stream("PARTNERS"), f"partner-{PARTNER}")
        delivered = info.delivered.consumer_seq if info.delivered else 0
        return (delivered or 0) >= 2 and await offers_in_hand(streams) == 1

    # The copy is acked; the first delivery stays in hand while its booking is served. (Logs are
    # no reliable witness here: the partner configures logging as it starts.)
    assert await eventually(copy_delivered_and_settled)
    # The stream would drop a second answer (same id) anyway; the partner does not even decide
    # again, so its bookings never run twice: an answer comes only from a job's task, and the
    # first delivery's is the only one running.
    assert partner.partner.jobs[o.offer_id] is in_hand
    assert len(partner.partner.tasks) == 1
    assert replies.answers(o.offer_id) == [OfferAccepted(offer_id=o.offer_id)]


async def test_an_offer_sent_while_the_partner_was_down_is_answered_when_it_returns(
    partner: Running, replies: Replies, streams: Bus
) -> None:
    configure(partner, step_delay=3600.0)
    await partner.start()
    before = offer("transfer")
    await send(streams, before)

    async def answered_before() -> bool:
        return len(replies.answers(before.offer_id)) == 1

    await eventually(answered_before)
    await partner.halt()
    while_down = offer("transfer")
    await send(streams, while_down)

    await partner.start()

    async def answered_while_down() -> bool:
        return len(replies.answers(while_down.offer_id)) == 1

    await eventually(answered_while_down)
    # `before` was being served at the halt, so it came back too: answered again under the same
    # reply id, which logistics counts once.
    assert len(replies.answers(before.offer_id)) == 1
    assert await eventually(lambda: is_(offers_in_hand(streams), 2))


async def test_a_booking_served_when_the_partner_stops_is_served_again_on_its_next_start(
    partner: Running, replies: Replies, streams: Bus
) -> None:
    configure(partner, step_delay=0.3)
    await partner.start()
    o = offer("transfer")
    await send(streams, o)

    async def assigned() -> bool:
        return replies.statuses(o.booking_id)[:1] == ["driver_assigned"]

    await eventually(assigned)
    await partner.halt()
    assert replies.statuses(o.booking_id) != list(TRANSFER_PROGRESS)
    await partner.start()

    async def completed() -> bool:
        return replies.statuses(o.booking_id) == list(TRANSFER_PROGRESS)

    await eventually(completed)
    assert len(replies.answers(o.offer_id)) == 1
    assert await eventually(lambda: all_offers_acked(streams))


async def is_(value: Awaitable[int | None], expected: int) -> bool:
    return await value == expected


async def test_an_unreadable_offer_is_discarded_and_the_next_one_answered(
    partner: Running, replies: Replies, streams: Bus
) -> None:
    await partner.start()
    subject = streams.subject(PARTNER_OFFERS.subject(partner_id=PARTNER, kind="transfer"))
    await streams.js.publish(subject, b'{"type": "offer", "offer_id": 1}')
    good = offer("transfer")

    await send(streams, good)

    async def answered() -> bool:
        return len(replies.answers(good.offer_id)) == 1

    await eventually(answered)
    assert await eventually(lambda: all_offers_acked(streams))


async def test_the_process_runs_from_its_environment_and_stops_cleanly_on_sigterm(
    nats_url: str, namespace: str, replies: Replies, streams: Bus, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PARTNER_ID": PARTNER,
        "PARTNER_KINDS": "transfer,interpreter",
        "NATS_URL": nats_url,
        "NATS_NAMESPACE": namespace,
        "REPLY_DELAY": "0",
        "STEP_DELAY": "0",
        "LOG_FORMAT": "json",
    }
    log = tmp_path / "partner.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.partner",
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        o = offer("interpreter")
        await send(streams, o, kind="interpreter")

        async def completed() -> bool:
            return replies.statuses(o.booking_id)[-1:] == ["completed"]

        await eventually(completed, timeout=20)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = log.read_text()
    assert code == 0, output
    assert "partner stopped" in output
    assert "Traceback" not in output
    # The offer named and reached the traveller; the partner's log must not.
    assert "Petrenko" not in output
    assert "+380" not in output
