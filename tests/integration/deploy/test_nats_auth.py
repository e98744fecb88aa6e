"""NATS with the rendered authorization config: a partner reads its own offers through its own
durable consumer and publishes its own replies, and nothing else; the server refuses the rest
(a 'Permissions Violation' on the connection) and delivers nothing."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import nats
import pytest
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import ConsumerConfig
from nats.js.errors import ServerError

from contracts.envelope import Event
from contracts.exports import (
    CaseExport,
    CaseExportFailed,
    CaseExportRequest,
    NotificationsCaseExport,
    SupportCaseExport,
    case_export_reply_decoder,
    case_export_request_decoder,
    notifications_case_export_reply_decoder,
    support_case_export_reply_decoder,
)
from contracts.registry import (
    CASE_EXPORT,
    NOTIFICATIONS_CASE_EXPORT,
    STREAMS,
    SUPPORT_CASE_EXPORT,
    RequestChannel,
)
from deploy.embedded import free_port, start_nats
from deploy.nats_auth import (
    ADMIN,
    SECRETS_KEY,
    SERVICE_SUBJECTS,
    ensure_partner_consumers,
    main,
    partner_account,
    partner_durable,
    partner_inbox_prefix,
    render_config,
    user_url,
)
from deploy.stack.access import prepare_authorization
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.request_reply import NoAnswer, answer, ask
from tests.support import eventually
from tests.support.nats_auth import Server, authorized_nats

NAMESPACE = "authz"
ALPHA = "alpha-shuttle"
BETA = "beta-courier"
STREAM = f"{NAMESPACE}_PARTNERS"
REPLIES_STREAM = f"{NAMESPACE}_PARTNER_REPLIES"
# JetStream's "error creating store for stream".
STORE_NOT_YET_REMOVED = 10049


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with authorized_nats(tmp_path_factory.mktemp("nats-auth"), (ALPHA, BETA), NAMESPACE) as started:
        yield started


@pytest.fixture
async def admin(server: Server) -> AsyncIterator[Bus]:
    bus = await Bus.connect(server.url(ADMIN), name="admin", namespace=NAMESPACE)
    # Each test starts from empty streams and consumers that hold nothing. Streams refuse
    # purges (they are the delivery log), so they are made anew.
    for info in await bus.js.streams_info():
        await bus.js.delete_stream(info.config.name or "")

    async def provisioned() -> bool:
        try:
            await bus.provision(STREAMS)
        except ServerError as exc:
            # The server removes a deleted stream's files after it has answered; until they
            # are gone, a stream of the same name cannot be made again.
            if exc.err_code != STORE_NOT_YET_REMOVED:
                raise
            return False
        return True

    await eventually(provisioned)
    await ensure_partner_consumers(bus, (ALPHA, BETA))
    try:
        yield bus
    finally:
        await bus.close()


@pytest.fixture
async def logistics(server: Server, admin: Bus) -> AsyncIterator[Bus]:
    bus = await Bus.connect(server.url("logistics"), name="logistics", namespace=NAMESPACE)
    try:
        yield bus
    finally:
        await bus.close()


@dataclass
class PartnerClient:
    nc: Client
    errors: list[str] = field(default_factory=list)

    async def refused(self, what: str) -> None:
        # nats-py reports the server's -ERR in lower case.
        expected = f"nats: permissions violation for {what}".lower()

        async def seen() -> bool:
            return any(e.startswith(expected) for e in self.errors)

        await eventually(seen)


@pytest.fixture
async def alpha(server: Server, admin: Bus) -> AsyncIterator[PartnerClient]:
    client = PartnerClient(Client())

    async def on_error(exc: Exception) -> None:
        client.errors.append(str(exc))

    await client.nc.connect(
        server.url(ALPHA),
        inbox_prefix=partner_inbox_prefix(ALPHA),
        error_cb=on_error,
        max_reconnect_attempts=0,
    )
    try:
        yield client
    finally:
        await client.nc.close()


async def offer(logistics: Bus, partner: str, body: bytes = b'{"offer": 1}') -> None:
    await logistics.js.publish(logistics.subject(f"partners.{partner}.offers.transfer"), body)


async def pending(admin: Bus, partner: str) -> int:
    info = await admin.js.consumer_info(STREAM, partner_durable(partner))
    return int(info.num_pending or 0) + int(info.num_ack_pending or 0)


async def test_a_partner_fetches_its_own_offers_and_publishes_its_replies(
    admin: Bus, logistics: Bus, alpha: PartnerClient
) -> None:
    await offer(logistics, ALPHA, b'{"offer": "for alpha"}')
    js = alpha.nc.jetstream()

    psub = await js.pull_subscribe_bind(partner_durable(ALPHA), stream=STREAM)
    [msg] = await psub.fetch(1, timeout=5.0)
    assert msg.data == b'{"offer": "for alpha"}'
    await msg.ack_sync()
    ack = await js.publish(f"{NAMESPACE}.partners.{ALPHA}.replies", b'{"reply": 1}', timeout=5.0)

    assert ack.stream == REPLIES_STREAM
    stored = await admin.js.get_last_msg(REPLIES_STREAM, f"{NAMESPACE}.partners.{ALPHA}.replies")
    assert stored.data == b'{"reply": 1}'
    assert await pending(admin, ALPHA) == 0
    assert alpha.errors == []


@pytest.mark.parametrize(
    "subject",
    [f"{NAMESPACE}.partners.{BETA}.offers.>", f"{NAMESPACE}.partners.>", "_INBOX.>", ">"],
)
async def test_a_partner_cannot_subscribe_to_other_offers_or_inboxes(
    admin: Bus, logistics: Bus, alpha: PartnerClient, subject: str
) -> None:
    sub = await alpha.nc.subscribe(subject)
    await alpha.refused(f'subscription to "{subject}"')

    await offer(logistics, BETA)

    async def held_for_beta() -> bool:
        return await pending(admin, BETA) == 1

    await eventually(held_for_beta)
    await alpha.nc.flush()
    assert sub.pending_msgs == 0


@pytest.mark.parametrize(
    "subject",
    [
        f"{NAMESPACE}.partners.{BETA}.replies",
        f"{NAMESPACE}.partners.{ALPHA}.offers.transfer",
        f"{NAMESPACE}.inquiries.inquiry.confirmed.v1",
        f"{NAMESPACE}.logistics.booking.created.v1",
        f"{NAMESPACE}.content.page.published.v1",
    ],
)
async def test_a_partner_cannot_publish_as_another_nor_on_internal_subjects(
    admin: Bus, alpha: PartnerClient, subject: str
) -> None:
    with pytest.raises(NatsError):
        await alpha.nc.jetstream().publish(subject, b"{}", timeout=1.0)

    await alpha.refused(f'publish to "{subject}"')
    for spec in STREAMS:
        info = await admin.js.stream_info(admin.stream(spec.name))
        assert info.state.messages == 0, spec.name


async def test_a_partner_cannot_reach_the_jetstream_api_beyond_its_consumer(
    admin: Bus, logistics: Bus, alpha: PartnerClient
) -> None:
    await offer(logistics, BETA)
    js = alpha.nc.jetstream(timeout=1.0)

    with pytest.raises(NatsError):
        await js.stream_info(STREAM)
    await alpha.refused(f'publish to "$JS.API.STREAM.INFO.{STREAM}"')
    with pytest.raises(NatsError):
        await js.add_consumer(
            STREAM, ConsumerConfig(durable_name="spy", filter_subject=f"{NAMESPACE}.partners.>")
        )
    await alpha.refused('publish to "$JS.API.CONSUMER.')
    with pytest.raises(NatsError):
        await js.delete_consumer(STREAM, partner_durable(BETA))
    await alpha.refused(f'publish to "$JS.API.CONSUMER.DELETE.{STREAM}.{partner_durable(BETA)}"')
    psub = await js.pull_subscribe_bind(partner_durable(BETA), stream=STREAM)
    with pytest.raises(NatsError):
        await psub.fetch(1, timeout=1.0)
    await alpha.refused(f'publish to "$JS.API.CONSUMER.MSG.NEXT.{STREAM}.{partner_durable(BETA)}"')

    # Beta's offer is still waiting for beta, and nobody made a consumer.
    assert await pending(admin, BETA) == 1
    names = sorted(info.name for info in await admin.js.consumers_info(STREAM))
    assert names == [partner_durable(ALPHA), partner_durable(BETA)]


async def test_a_wrong_password_is_refused(server: Server) -> None:
    url = user_url(server.nats.url, ALPHA, secrets.token_urlsafe(8))
    with pytest.raises(NatsError):
        await nats.connect(url, max_reconnect_attempts=0, allow_reconnect=False)


async def test_a_service_publishes_only_its_own_domain(admin: Bus, server: Server) -> None:
    content = await Bus.connect(server.url("content"), name="content", namespace=NAMESPACE)
    try:
        await content.js.publish(content.subject("content.page.published.v1"), b"{}")
        with pytest.raises(NatsError):
            await content.js.publish(
                content.subject("partners.x.offers.transfer"), b"{}", timeout=1
            )
    finally:
        await content.close()
    assert (await admin.js.stream_info(admin.stream("PARTNERS"))).state.messages == 0


def test_the_rendered_config_grants_a_partner_no_wildcard_on_jetstream_or_inboxes() -> None:
    rendered = render_config(
        passwords={ADMIN: "a", "logistics": "l", ALPHA: "p"},
        services=("logistics",),
        partners=(ALPHA,),
    )
    accounts = msgspec.json.decode(rendered)["accounts"]
    # The partner is the only user of an account of its own, which imports only its subjects.
    [partner] = accounts[partner_account(ALPHA)]["users"]
    assert partner["user"] == ALPHA
    grants = (
        partner["permissions"]["publish"]["allow"] + partner["permissions"]["subscribe"]["allow"]
    )
    assert not [
        g for g in grants if g in ("$JS.>", "_INBOX.>", ">") or g.startswith("$JS.API.STREAM")
    ]


async def test_a_service_reads_another_domain_through_its_own_durable_consumer(
    server: Server, logistics: Bus
) -> None:
    inquiries = await Bus.connect(server.url("inquiries"), name="inquiries", namespace=NAMESPACE)
    try:
        await inquiries.js.publish(inquiries.subject("inquiries.inquiry.confirmed.v1"), b"{}")
    finally:
        await inquiries.close()
    stream = logistics.stream("INQUIRIES")
    await logistics.js.add_consumer(stream, ConsumerConfig(durable_name="lifecycle"))
    psub = await logistics.js.pull_subscribe_bind("lifecycle", stream=stream)

    [msg] = await psub.fetch(1, timeout=5.0)
    await msg.ack_sync()

    assert msg.subject == logistics.subject("inquiries.inquiry.confirmed.v1")
    await logistics.js.delete_consumer(stream, "lifecycle")


async def _register(database_url: str, partner: str, *, active: bool = True) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO logistics.partners (id, name, kinds, priority, active, created_at,"
            " updated_at) VALUES ($1, $1, '{transfer}', 10, $2, now(), now())",
            partner,
            active,
        )
    finally:
        await conn.close()


def test_the_command_renders_every_registered_partner_and_keeps_known_passwords(
    database_url: str, tmp_path: Path
) -> None:
    asyncio.run(_register(database_url, ALPHA))
    asyncio.run(_register(database_url, BETA, active=False))
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(json.dumps({"staff": {"x": "y"}, SECRETS_KEY: {ALPHA: "kept"}}))
    output = tmp_path / "auth.conf"

    main(["--database-url", database_url, "--secrets", str(secrets_file), "--output", str(output)])

    stored = json.loads(secrets_file.read_text())
    assert stored["staff"] == {"x": "y"}
    assert stored[SECRETS_KEY][ALPHA] == "kept"
    assert set(stored[SECRETS_KEY]) == {ADMIN, *SERVICE_SUBJECTS, ALPHA, BETA}
    accounts = json.loads(output.read_text())["accounts"]
    users = [u for account in accounts.values() for u in account["users"]]
    assert {u["user"]: u["password"] for u in users} == stored[SECRETS_KEY]
    assert output.stat().st_mode & 0o777 == 0o600


async def test_a_partner_registered_later_connects_after_a_rendering_and_a_reload(
    database_url: str, tmp_path: Path
) -> None:
    secrets_file = tmp_path / "secrets.json"
    config = tmp_path / "nats.conf"
    pid_file = tmp_path / "nats.pid"
    stored: dict[str, Any] = {}
    prepare_authorization(stored, (ALPHA,), NAMESPACE, config, pid_file)
    secrets_file.write_text(json.dumps(stored))
    nats_server = start_nats(tmp_path / "data", free_port(), config=config)
    try:
        admin = await Bus.connect(
            user_url(nats_server.url, ADMIN, stored[SECRETS_KEY][ADMIN]),
            name="admin",
            namespace=NAMESPACE,
        )
        try:
            await admin.provision(STREAMS)
            await _register(database_url, BETA)

            await asyncio.to_thread(
                main,
                [
                    *("--database-url", database_url, "--secrets", str(secrets_file)),
                    *("--namespace", NAMESPACE, "--output", str(config)),
                    *("--pid-file", str(pid_file), "--reload", "--nats-url", nats_server.url),
                ],
            )

            password = json.loads(secrets_file.read_text())[SECRETS_KEY][BETA]

            async def beta_reads_its_consumer() -> bool:
                try:
                    nc = await nats.connect(
                        user_url(nats_server.url, BETA, password),
                        inbox_prefix=partner_inbox_prefix(BETA),
                        allow_reconnect=False,
                    )
                except (NatsError, OSError):
                    # Until the reload is read, the server refuses beta: as an error, or by
                    # closing the connection.
                    return False
                try:
                    js = nc.jetstream()
                    psub = await js.pull_subscribe_bind(partner_durable(BETA), stream=STREAM)
                    with pytest.raises(NatsTimeoutError):
                        await psub.fetch(1, timeout=0.5)
                finally:
                    await nc.close()
                return True

            await eventually(beta_reads_its_consumer)
        finally:
            await admin.close()
    finally:
        nats_server.stop()


async def test_inquiries_asks_logistics_for_a_case_export_and_others_may_not(
    server: Server, logistics: Bus
) -> None:
    async def handle(request: CaseExportRequest) -> CaseExport:
        return CaseExport(inquiry_id=request.inquiry_id, bookings=(), disclosures=())

    stop = asyncio.Event()
    responder = asyncio.create_task(
        answer(
            logistics,
            CASE_EXPORT,
            case_export_request_decoder,
            handle,
            lambda reason: CaseExportFailed(reason=reason),
            stop,
        )
    )
    inquiries = await Bus.connect(server.url("inquiries"), name="inquiries", namespace=NAMESPACE)
    content = await Bus.connect(server.url("content"), name="content", namespace=NAMESPACE)
    request = CaseExportRequest(inquiry_id=str(uuid.uuid4()))
    try:

        async def answered() -> object:
            try:
                return await ask(
                    inquiries, CASE_EXPORT, request, case_export_reply_decoder, timeout=1
                )
            except NoAnswer as exc:  # until the responder's subscription is in place
                raise AssertionError(str(exc)) from None

        reply = await eventually(answered)
        # The server drops a request from a service not allowed to ask: it times out.
        with pytest.raises(NoAnswer, match="did not answer"):
            await ask(content, CASE_EXPORT, request, case_export_reply_decoder, timeout=1)
    finally:
        stop.set()
        await responder
        await inquiries.close()
        await content.close()

    assert reply == CaseExport(inquiry_id=request.inquiry_id, bookings=(), disclosures=())


@pytest.mark.parametrize(
    ("channel", "part", "decoder"),
    [
        (
            SUPPORT_CASE_EXPORT,
            SupportCaseExport(inquiry_id="", cases=()),
            support_case_export_reply_decoder,
        ),
        (
            NOTIFICATIONS_CASE_EXPORT,
            NotificationsCaseExport(inquiry_id="", notifications=()),
            notifications_case_export_reply_decoder,
        ),
    ],
    ids=lambda v: v.responder if isinstance(v, RequestChannel) else "",
)
async def test_inquiries_asks_support_and_notifications_for_their_parts_and_others_may_not(
    server: Server,
    admin: Bus,  # provisions the streams
    channel: RequestChannel,
    part: Event,
    decoder: msgspec.json.Decoder[Any],
) -> None:
    responder_bus = await Bus.connect(
        server.url(channel.responder), name=channel.responder, namespace=NAMESPACE
    )

    async def handle(request: CaseExportRequest) -> Event:
        return msgspec.structs.replace(part, inquiry_id=request.inquiry_id)

    stop = asyncio.Event()
    responder = asyncio.create_task(
        answer(
            responder_bus,
            channel,
            case_export_request_decoder,
            handle,
            lambda reason: CaseExportFailed(reason=reason),
            stop,
        )
    )
    inquiries = await Bus.connect(server.url("inquiries"), name="inquiries", namespace=NAMESPACE)
    content = await Bus.connect(server.url("content"), name="content", namespace=NAMESPACE)
    request = CaseExportRequest(inquiry_id=str(uuid.uuid4()))
    try:

        async def answered() -> object:
            try:
                return await ask(inquiries, channel, request, decoder, timeout=1)
            except NoAnswer as exc:  # until the responder's subscription is in place
                raise AssertionError(str(exc)) from None

        reply = await eventually(answered)
        # The server drops a request from a service not allowed to ask: it times out.
        with pytest.raises(NoAnswer, match="did not answer"):
            await ask(content, channel, request, decoder, timeout=1)
    finally:
        stop.set()
        await responder
        await inquiries.close()
        await content.close()
        await responder_bus.close()

    assert reply == msgspec.structs.replace(part, inquiry_id=request.inquiry_id)
