"""Replies a partner must not be able to act with (about offers or bookings it does not hold,
stale, repeated or malformed) change nothing and are kept as dead letters; progress delivered
late changes nothing, and progress delivered before its acceptance waits for it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import msgspec

from contracts.envelope import Metadata, event_type
from contracts.logistics import BookingStatusChanged
from contracts.partners import Offer, OfferAccepted, OfferDeclined, StatusUpdate
from services.runtime.messaging.bus import Bus
from tests.integration.logistics.conftest import (
    Client,
    Register,
    Start,
    Tap,
    booking_row,
    dead_letters,
    of_type,
    publish,
    reply,
)
from tests.integration.logistics.test_dispatch import confirm, confirmed, offer_to
from tests.logistics_samples import transfer
from tests.support import eventually


async def test_foreign_stale_repeated_late_and_malformed_replies_change_nothing(
    client: Client, register: Register, bus: Bus, offers: Tap, events: Tap, db: asyncpg.Connection
) -> None:
    await register("rhein-shuttle", "transfer")
    await register("main-taxi", "transfer", coverage={"airports": ["MUC"]})
    await confirm(bus, confirmed(str(uuid.uuid4()), ("transfer", transfer())))
    offer = offer_to(await offers.until(lambda s: len(s) == 1), "rhein-shuttle")
    booking = offer.booking_id
    await reply(bus, "rhein-shuttle", OfferAccepted(offer_id=offer.offer_id))
    await reply(bus, "rhein-shuttle", StatusUpdate(booking_id=booking, status="driver_assigned"))
    picked_up = await reply(
        bus, "rhein-shuttle", StatusUpdate(booking_id=booking, status="picked_up")
    )

    async def progressed() -> bool:
        return (await booking_row(db, booking))["progress"] == "picked_up"

    await eventually(progressed)
    before = dict(await booking_row(db, booking))
    announced = len(of_type(await events.read(), BookingStatusChanged))

    await reply(bus, "rhein-shuttle", OfferAccepted(offer_id=offer.offer_id))
    await reply(bus, "main-taxi", OfferAccepted(offer_id=offer.offer_id))
    await reply(bus, "main-taxi", StatusUpdate(booking_id=booking, status="completed"))
    await reply(bus, "rhein-shuttle", StatusUpdate(booking_id=booking, status="en_route"))
    await reply(bus, "rhein-shuttle", StatusUpdate(booking_id=booking, status="delivered"))
    await reply(bus, "rhein-shuttle", OfferDeclined(offer_id=str(uuid.uuid4()), reason="other"))
    await publish_raw(bus, "rhein-shuttle", b'{"type": "offer_accepted"}')
    await reply(
        bus,
        "rhein-shuttle",
        StatusUpdate(booking_id=booking, status="picked_up"),
        event_id=picked_up,
    )

    async def all_dead_lettered() -> list[tuple[str, str]] | None:
        letters = await dead_letters(db)
        return letters if len(letters) == 6 else None

    letters = await eventually(all_dead_lettered, timeout=15)
    reasons = [error for consumer, error in letters if consumer == "logistics-partner-replies"]
    assert len(reasons) == 6
    assert any("is accepted already: the reply is stale" in r for r in reasons)
    assert any(f"partner main-taxi holds no offer {offer.offer_id}" in r for r in reasons)
    assert any(f"partner main-taxi holds no booking {booking}" in r for r in reasons)
    assert any("'delivered' is not a step of a transfer" in r for r in reasons)
    assert any("partner rhein-shuttle holds no offer" in r for r in reasons)
    assert any("undecodable message" in r for r in reasons)
    assert dict(await booking_row(db, booking)) == before
    assert len(of_type(await events.read(), BookingStatusChanged)) == announced
    timeline = await db.fetchval(
        "SELECT count(*) FROM booking_timeline WHERE booking_id = $1 AND entry = 'picked_up'",
        uuid.UUID(booking),
    )
    assert timeline == 1


async def test_progress_sent_before_the_acceptance_is_applied_after_it(
    client: Client, register: Register, bus: Bus, offers: Tap, db: asyncpg.Connection
) -> None:
    await register("rhein-shuttle", "transfer")
    await confirm(bus, confirmed(str(uuid.uuid4()), ("transfer", transfer())))
    offer = offer_to(await offers.until(lambda s: len(s) == 1), "rhein-shuttle")
    booking = offer.booking_id
    # As after a crash: the acceptance comes back only after its ack deadline, the progress
    # the partner sent next is delivered first.
    await reply(bus, "rhein-shuttle", StatusUpdate(booking_id=booking, status="driver_assigned"))
    await reply(bus, "rhein-shuttle", StatusUpdate(booking_id=booking, status="en_route"))
    await reply(bus, "rhein-shuttle", OfferAccepted(offer_id=offer.offer_id))

    async def progressed() -> bool:
        row = await booking_row(db, booking)
        return (row["status"], row["progress"]) == ("in_progress", "en_route")

    await eventually(progressed)
    assert await dead_letters(db) == []
    entries = await db.fetch(
        "SELECT entry FROM booking_timeline WHERE booking_id = $1 ORDER BY id", uuid.UUID(booking)
    )
    # Both retried after the acceptance; whichever came back first, none was refused.
    names = [e["entry"] for e in entries]
    assert names.index("offer_accepted") < names.index("en_route")


async def publish_raw(
    bus: Bus, partner_id: str, body: bytes, *, kind: type = OfferAccepted
) -> None:
    meta = Metadata(
        id=str(uuid.uuid4()),
        type=event_type(kind),
        source=f"/partners/{partner_id}",
        time=datetime.now(UTC),
    )
    await bus.js.publish(
        bus.subject(f"partners.{partner_id}.replies"), body, headers=meta.headers()
    )


async def test_a_reply_to_a_declined_offer_is_stale(
    client: Client, register: Register, bus: Bus, offers: Tap, db: asyncpg.Connection
) -> None:
    await register("rhein-shuttle", "transfer")
    await confirm(bus, confirmed(str(uuid.uuid4()), ("transfer", transfer())))
    offer = offer_to(await offers.until(lambda s: len(s) == 1), "rhein-shuttle")
    await reply(bus, "rhein-shuttle", OfferDeclined(offer_id=offer.offer_id, reason="no_capacity"))

    async def unassigned() -> bool:
        return (await booking_row(db, offer.booking_id))["status"] == "unassigned"

    await eventually(unassigned)

    await reply(bus, "rhein-shuttle", OfferAccepted(offer_id=offer.offer_id))

    async def dead_lettered() -> list[tuple[str, str]]:
        return await dead_letters(db)

    letters = await eventually(dead_lettered, timeout=10)
    assert "is declined already: the reply is stale" in letters[0][1]
    row = await booking_row(db, offer.booking_id)
    assert (row["status"], row["partner_id"]) == ("unassigned", None)
    assert msgspec.json.decode(await db.fetchval("SELECT payload FROM dead_letters")) == {
        "type": "offer_accepted",
        "offer_id": offer.offer_id,
    }


async def test_an_offer_copied_onto_the_replies_subject_is_never_taken_for_a_reply(
    client: Client, register: Register, bus: Bus, offers: Tap, db: asyncpg.Connection
) -> None:
    # What a partner could have the server do before its account had one gateway
    # (tests/integration/deploy/test_nats_reply_probes.py), or do by hand: its offer, headers
    # and all, sent back on its replies subject.
    await register("rhein-shuttle", "transfer")
    await confirm(bus, confirmed(str(uuid.uuid4()), ("transfer", transfer())))
    offer = offer_to(await offers.until(lambda s: len(s) == 1), "rhein-shuttle")
    before = dict(await booking_row(db, offer.booking_id))

    await publish_raw(bus, "rhein-shuttle", msgspec.json.encode(offer), kind=Offer)

    async def dead_lettered() -> list[tuple[str, str]] | None:
        return await dead_letters(db) or None

    [(consumer, error)] = await eventually(dead_lettered, timeout=15)
    assert consumer == "logistics-partner-replies"
    assert "undecodable message" in error
    assert dict(await booking_row(db, offer.booking_id)) == before


def stray_decline() -> OfferDeclined:
    """A reply logistics reads and refuses (no such offer): a dead letter shows it was read."""
    return OfferDeclined(offer_id=str(uuid.uuid4()), reason="other")


async def test_a_partner_flooding_its_replies_waits_while_another_is_read_at_once(
    start: Start, bus: Bus, db: asyncpg.Connection
) -> None:
    async with start(PARTNER_REPLY_RATE_LIMIT="1"):
        for _ in range(3):
            await reply(bus, "rhein-shuttle", stray_decline())
        await reply(bus, "main-taxi", stray_decline())

        async def both_read() -> list[str] | None:
            letters = await dead_letters(db)
            found = [e for _, e in letters]
            return found if len(found) == 2 else None

        read = await eventually(both_read, timeout=15)
        assert sum("partner main-taxi" in e for e in read) == 1
        assert sum("partner rhein-shuttle" in e for e in read) == 1

        async def excess_handed_back() -> bool:
            info = await bus.js.consumer_info(
                bus.stream("PARTNER_REPLIES"), "logistics-partner-replies"
            )
            return info.num_redelivered >= 1

        await eventually(excess_handed_back, timeout=15)
        assert len(await dead_letters(db)) == 2, "the excess waits; it is not applied meanwhile"


async def test_a_partner_cannot_spend_another_partners_event_id(
    client: Client, bus: Bus, db: asyncpg.Connection
) -> None:
    taken = str(uuid.uuid4())
    for partner in ("main-taxi", "rhein-shuttle"):
        # Each under its own Nats-Msg-Id: the same ce-id from two senders.
        await publish(
            bus,
            f"partners.{partner}.replies",
            stray_decline(),
            source=f"/partners/{partner}",
            event_id=taken,
            msg_id=f"{partner}:{taken}",
        )

    async def both_read() -> list[tuple[str, str]] | None:
        letters = await dead_letters(db)
        return letters if len(letters) == 2 else None

    letters = await eventually(both_read, timeout=15)
    assert {("main-taxi" in e, "rhein-shuttle" in e) for _, e in letters} == {
        (True, False),
        (False, True),
    }
