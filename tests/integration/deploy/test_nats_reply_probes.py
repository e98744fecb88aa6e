"""The attacker's NATS probes of issue 15 (finding 1), repeated against a server running the
rendered accounts config. NATS does not check a message's reply subject against the sender's
publish permissions, so in one account a partner had the server answer onto the services'
subjects: a consumer's info into INQUIRIES, a PubAck into LOGISTICS, a message on another
partner's replies, undecodable traffic on `content.>`, and its own offers fetched into any
stream. In an account of its own, every answer goes back to the partner's account only; and
there, an answer addressed to the partner's own replies subject (or to its acks) would go back
into PARTNER_REPLIES through its import, unless the server drops it: it does, since every route
between the two accounts is one export (deploy/nats_auth.py, `partner_gateway`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import StreamInfo

from contracts.registry import STREAMS
from deploy.nats_auth import ADMIN, ensure_partner_consumers, partner_durable, partner_inbox_prefix
from services.runtime.messaging.bus import Bus
from tests.support import eventually
from tests.support.nats_auth import Server, authorized_nats

NAMESPACE = "probe"
ALPHA = "medilingua"
BETA = "beta-courier"
# How long an answer the server sent is given to land somewhere before looking.
SETTLE = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with authorized_nats(tmp_path_factory.mktemp("probes"), (ALPHA, BETA), NAMESPACE) as started:
        yield started


class Watch:
    """The admin's view of CAREBRIDGE: stream counts, and every message on the services' and
    the other partner's subjects, streamed or not (content follows `content.>` plainly)."""

    def __init__(self, admin: Bus) -> None:
        self.admin = admin
        self.seen: list[Msg] = []

    async def start(self) -> None:
        for subject in ("content.>", "inquiries.>", "logistics.>", f"partners.{BETA}.>"):
            await self.admin.nc.subscribe(self.admin.subject(subject), cb=self._seen)
        await self.admin.nc.flush()

    async def _seen(self, msg: Msg) -> None:
        self.seen.append(msg)

    async def stream(self, name: str) -> StreamInfo:
        return await self.admin.js.stream_info(self.admin.stream(name))

    async def assert_nothing_landed(self) -> None:
        await asyncio.sleep(SETTLE)
        for name in ("CONTENT", "INQUIRIES", "LOGISTICS"):
            assert (await self.stream(name)).state.messages == 0, name
        beta = self.admin.subject(f"partners.{BETA}.>")
        for name in ("PARTNERS", "PARTNER_REPLIES"):
            partners = await self.admin.js.stream_info(
                self.admin.stream(name), subjects_filter=beta
            )
            assert not partners.state.subjects, (name, partners.state.subjects)
        assert [m.subject for m in self.seen] == []


@pytest.fixture
async def watch(server: Server) -> AsyncIterator[Watch]:
    admin = await Bus.connect(server.url(ADMIN), name="admin", namespace=NAMESPACE)
    for info in await admin.js.streams_info():
        await admin.js.delete_stream(info.config.name or "")

    async def provisioned() -> bool:
        try:
            await admin.provision(STREAMS)
        except nats.js.errors.ServerError:
            return False  # the deleted stream's files are not gone yet
        return True

    await eventually(provisioned)
    await ensure_partner_consumers(admin, (ALPHA, BETA))
    watching = Watch(admin)
    await watching.start()
    try:
        yield watching
    finally:
        await admin.close()


@pytest.fixture
async def partner(server: Server, watch: Watch) -> AsyncIterator[Client]:
    nc = await nats.connect(
        server.url(ALPHA), inbox_prefix=partner_inbox_prefix(ALPHA), max_reconnect_attempts=0
    )
    try:
        yield nc
    finally:
        await nc.close()


def ns(subject: str) -> str:
    return f"{NAMESPACE}.{subject}"


async def offer_for_alpha(watch: Watch) -> None:
    logistics = watch.admin
    await logistics.js.publish(ns(f"partners.{ALPHA}.offers.transfer"), b'{"name": "A. Patient"}')


@pytest.mark.parametrize(
    "reply",
    [
        "inquiries.rt-probe.v1",
        "logistics.rt-probe.v1",
        "content.page.published.v1",
        f"partners.{BETA}.replies",
    ],
)
async def test_a_consumer_info_answer_lands_nowhere_the_reply_names(
    watch: Watch, partner: Client, reply: str
) -> None:
    stream = f"{NAMESPACE}_PARTNERS"
    await partner.publish(
        f"$JS.API.CONSUMER.INFO.{stream}.{partner_durable(ALPHA)}", b"", reply=ns(reply)
    )
    await partner.flush()

    await watch.assert_nothing_landed()


@pytest.mark.parametrize(
    "reply",
    [
        "logistics.rt-probe.v1",
        "inquiries.rt-probe.v1",
        "content.page.published.v1",
        f"partners.{BETA}.replies",
    ],
)
async def test_a_pub_ack_for_a_reply_lands_nowhere_the_reply_names(
    watch: Watch, partner: Client, reply: str
) -> None:
    await partner.publish(ns(f"partners.{ALPHA}.replies"), b"{}", reply=ns(reply))
    await partner.flush()

    await watch.assert_nothing_landed()
    # The reply itself is the partner's to send, on its own subject.
    mine = await watch.admin.js.get_last_msg(
        watch.admin.stream("PARTNER_REPLIES"), ns(f"partners.{ALPHA}.replies")
    )
    assert mine.data == b"{}"


@pytest.mark.parametrize(
    "reply",
    [
        "inquiries.copy.v1",
        "logistics.copy.v1",
        "content.page.published.v1",
        f"partners.{BETA}.replies",
    ],
)
async def test_a_fetched_offer_is_copied_nowhere_the_reply_names(
    watch: Watch, partner: Client, reply: str
) -> None:
    await offer_for_alpha(watch)
    stream = f"{NAMESPACE}_PARTNERS"

    await partner.publish(
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{partner_durable(ALPHA)}",
        b'{"batch": 1, "expires": 1000000000}',
        reply=ns(reply),
    )
    await partner.flush()

    await watch.assert_nothing_landed()
    partners = await watch.stream("PARTNERS")
    assert partners.state.messages == 1  # the offer, and no copy of it
    assert (await watch.stream("PARTNER_REPLIES")).state.messages == 0


class PartnersWatch:
    """Every message stored in PARTNERS (offers), then in PARTNER_REPLIES, as (subject, body)."""

    def __init__(self, admin: Bus) -> None:
        self.admin = admin

    async def stored(self) -> list[tuple[str, bytes]]:
        await asyncio.sleep(SETTLE)
        found = []
        for name in ("PARTNERS", "PARTNER_REPLIES"):
            stream = self.admin.stream(name)
            last = (await self.admin.js.stream_info(stream)).state.last_seq
            for seq in range(1, last + 1):
                try:
                    msg = await self.admin.js.get_msg(stream, seq)
                except nats.js.errors.NotFoundError:
                    continue
                found.append((msg.subject or "", msg.data or b""))
        return found


OWN_REPLIES = ns(f"partners.{ALPHA}.replies")
OFFER = (ns(f"partners.{ALPHA}.offers.transfer"), b'{"name": "A. Patient"}')


@pytest.mark.parametrize(
    "reply",
    [OWN_REPLIES, f"$JS.API.CONSUMER.MSG.NEXT.{NAMESPACE}_PARTNERS.{partner_durable(ALPHA)}"],
)
async def test_a_fetched_offer_is_not_copied_back_through_the_partners_own_imports(
    watch: Watch, partner: Client, reply: str
) -> None:
    await offer_for_alpha(watch)

    await partner.publish(
        f"$JS.API.CONSUMER.MSG.NEXT.{NAMESPACE}_PARTNERS.{partner_durable(ALPHA)}",
        b'{"batch": 1, "expires": 1000000000}',
        reply=reply,
    )
    await partner.flush()

    assert await PartnersWatch(watch.admin).stored() == [OFFER]


async def test_a_consumer_info_answer_is_not_stored_as_the_partners_reply(
    watch: Watch, partner: Client
) -> None:
    # Refused: the partner's account would have the server's own JetStream API answer it
    # ("not enabled"), from outside the gateway (deploy/nats_auth.py, `partner_routes`).
    await partner.publish(
        f"$JS.API.CONSUMER.INFO.{NAMESPACE}_PARTNERS.{partner_durable(ALPHA)}",
        b"",
        reply=OWN_REPLIES,
    )
    await partner.flush()

    assert await PartnersWatch(watch.admin).stored() == []


async def test_a_pub_ack_is_not_stored_as_the_partners_next_reply(
    watch: Watch, partner: Client
) -> None:
    await partner.publish(OWN_REPLIES, b'{"kind": "mine"}', reply=OWN_REPLIES)
    await partner.flush()

    assert await PartnersWatch(watch.admin).stored() == [(OWN_REPLIES, b'{"kind": "mine"}')]


async def test_an_acks_answer_and_the_next_offer_are_not_stored_as_replies(
    watch: Watch, partner: Client
) -> None:
    await offer_for_alpha(watch)
    await offer_for_alpha(watch)
    js = partner.jetstream()
    sub = await js.pull_subscribe_bind(partner_durable(ALPHA), f"{NAMESPACE}_PARTNERS")
    (first,) = await sub.fetch(1, timeout=5)

    # `+NXT` acks this offer and has the next one sent to the reply subject.
    await partner.publish(first.reply, b"+NXT", reply=OWN_REPLIES)
    await partner.flush()

    assert await PartnersWatch(watch.admin).stored() == [OFFER, OFFER]
