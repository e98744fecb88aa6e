"""What actually happened, counted from the rows in PostgreSQL and the messages in the streams
(never from what the services say about themselves): per inquiry its bookings, per booking its
offer rows and the Offer messages partners were sent, the outboxes and dead letters."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import asyncpg
import msgspec
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from contracts.partners import Offer, partner_offer_decoder
from contracts.registry import PARTNER_OFFERS
from services.runtime.messaging.bus import Bus
from tests.faults.stack import SCHEMAS, Fault, FaultyStack
from tests.faults.traffic import BOOKED_KINDS, Inquiry

FINAL = "completed"


@dataclass
class Booking:
    id: str
    inquiry_id: str
    kind: str
    status: str
    created_at: float
    updated_at: float
    offer_rows: int = 0
    # Stream time of each Offer message for it (a duplicate would show as two).
    offers_sent: list[float] = field(default_factory=list)


@dataclass
class Ledger:
    bookings: list[Booking]
    outbox_rows: dict[str, int]
    dead_letters: dict[str, list[str]]
    confirmed_inquiries: int

    def by_inquiry(self) -> dict[str, list[Booking]]:
        grouped: dict[str, list[Booking]] = defaultdict(list)
        for booking in self.bookings:
            grouped[booking.inquiry_id].append(booking)
        return grouped

    def lost(self, inquiry: Inquiry) -> int:
        """Bookings of `inquiry` missing or not in their final state."""
        bookings = self.by_inquiry().get(inquiry.id, [])
        kinds = Counter(b.kind for b in bookings)
        missing = sum(1 for kind in BOOKED_KINDS if kinds[kind] == 0)
        unfinished = sum(1 for b in bookings if b.status != FINAL)
        return missing + unfinished

    def duplicated(self, inquiry: Inquiry) -> int:
        """Bookings booked more than once, and offers sent or recorded more than once. The local
        partners accept every offer and the offer deadline is far off, so there is no legitimate
        second offer (to the next partner) here: any is a duplicate."""
        bookings = self.by_inquiry().get(inquiry.id, [])
        kinds = Counter(b.kind for b in bookings)
        extra_bookings = sum(n - 1 for n in kinds.values() if n > 1)
        extra_offers = sum(max(0, len(b.offers_sent) - 1) for b in bookings)
        extra_rows = sum(max(0, b.offer_rows - 1) for b in bookings)
        return extra_bookings + extra_offers + extra_rows

    def finished_at(self, inquiry: Inquiry) -> float:
        bookings = self.by_inquiry().get(inquiry.id, [])
        return max((b.updated_at for b in bookings), default=float("inf"))

    def offer_latencies(self, inquiries: list[Inquiry]) -> dict[str, float]:
        """Seconds from the confirmation request to each booking's first Offer message."""
        grouped = self.by_inquiry()
        latencies: dict[str, float] = {}
        for inquiry in inquiries:
            for booking in grouped.get(inquiry.id, []):
                if booking.offers_sent and inquiry.confirming_at:
                    latencies[booking.id] = min(booking.offers_sent) - inquiry.confirming_at
        return latencies


async def read_ledger(database_url: str, admin: Bus) -> Ledger:
    conn = await asyncpg.connect(database_url, timeout=10)
    try:
        rows = await conn.fetch(
            """SELECT b.id::text, b.inquiry_id, b.kind, b.status,
                      extract(epoch FROM b.created_at) AS created,
                      extract(epoch FROM b.updated_at) AS updated,
                      (SELECT count(*) FROM logistics.offers o WHERE o.booking_id = b.id) AS offers
               FROM logistics.bookings b"""
        )
        outbox = {s: int(await conn.fetchval(f"SELECT count(*) FROM {s}.outbox")) for s in SCHEMAS}
        letters = {
            s: [
                f"{r['consumer']}: {r['error']}"
                for r in await conn.fetch(
                    f"SELECT consumer, error FROM {s}.dead_letters WHERE replayed_at IS NULL"
                )
            ]
            for s in SCHEMAS
        }
        confirmed = int(
            await conn.fetchval(
                "SELECT count(*) FROM inquiries.inquiries WHERE status = 'confirmed'"
            )
        )
    finally:
        await conn.close()
    bookings = {
        r["id"]: Booking(
            id=r["id"],
            inquiry_id=r["inquiry_id"] or "",
            kind=r["kind"],
            status=r["status"],
            created_at=float(r["created"]),
            updated_at=float(r["updated"]),
            offer_rows=int(r["offers"]),
        )
        for r in rows
    }
    for booking_id, sent_at in await offer_messages(admin):
        if booking_id in bookings:
            bookings[booking_id].offers_sent.append(sent_at)
    return Ledger(list(bookings.values()), outbox, letters, confirmed)


async def offer_messages(admin: Bus) -> list[tuple[str, float]]:
    """(booking id, stream time) of every Offer message in the PARTNERS stream, read through an
    ephemeral consumer that acknowledges nothing and leaves no trace."""
    subject = admin.subject(PARTNER_OFFERS.filter_subject)
    psub = await admin.js.pull_subscribe(
        subject,
        stream=admin.stream(PARTNER_OFFERS.stream),
        config=ConsumerConfig(
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.ALL,
            inactive_threshold=30.0,
        ),
    )
    found: list[tuple[str, float]] = []
    try:
        while True:
            try:
                msgs = await psub.fetch(500, timeout=1.0)
            except (NatsTimeoutError, TimeoutError):
                return found
            for msg in msgs:
                try:
                    message = partner_offer_decoder.decode(msg.data)
                except msgspec.DecodeError:
                    continue
                if isinstance(message, Offer):
                    found.append((message.booking_id, msg.metadata.timestamp.timestamp()))
    finally:
        await psub.unsubscribe()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def fault_table(faults: list[Fault], inquiries: list[Inquiry], ledger: Ledger) -> str:
    """One line per fault: what was in flight, and of the inquiries under way at the time
    (submitted before it ended, bookings finished after it began) how many bookings were lost
    and how many things were doubled; then the totals."""
    header = ("fault injected", "in flight", "inquiries under way", "lost", "duplicated")
    lines = [header]
    for fault in faults:
        under_way = [
            i
            for i in inquiries
            if i.submitted_at <= fault.recovered and ledger.finished_at(i) >= fault.began
        ]
        lines.append(
            (
                fault.label,
                str(fault.in_flight),
                str(len(under_way)),
                str(sum(ledger.lost(i) for i in under_way)),
                str(sum(ledger.duplicated(i) for i in under_way)),
            )
        )
    lines.append(
        (
            f"total ({len(faults)} faults)",
            "",
            str(len(inquiries)),
            str(sum(ledger.lost(i) for i in inquiries)),
            str(sum(ledger.duplicated(i) for i in inquiries)),
        )
    )
    widths = [max(len(row[c]) for row in lines) for c in range(len(header))]
    rendered = [
        " | ".join(
            cell.ljust(w) if c == 0 else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in lines
    ]
    rendered.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(rendered)


async def settled(stack: FaultyStack, expected: int) -> Ledger | None:
    """The ledger once every booking is final and nothing waits in an outbox or a consumer."""
    ledger = await read_ledger(stack.database_url, stack.admin)
    done = len(ledger.bookings) >= expected and all(b.status == FINAL for b in ledger.bookings)
    if done and await stack.in_flight() == 0:
        return ledger
    return None


async def settle(stack: FaultyStack, expected: int, deadline: float) -> Ledger:
    """The settled ledger, or after `deadline` seconds the ledger as it stands: what is missing
    then is what the counts report as lost."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        ledger = await settled(stack, expected)
        if ledger is not None:
            return ledger
        await asyncio.sleep(1.0)
    return await read_ledger(stack.database_url, stack.admin)
