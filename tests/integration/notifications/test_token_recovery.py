"""Token recovery through the real services: inquiries hears `POST …/token-recovery`, replaces
the token on a match and announces it (without the token); notifications asks inquiries for
the new token at the moment of sending and emails it to the address on file, over real SMTP."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.runtime.messaging.bus import Bus
from tests.integration.inquiries.casefile import patient, submit
from tests.integration.logistics.conftest import Tap
from tests.integration.notifications.conftest import Client, Mailbox
from tests.support import eventually

PATIENT = "olena@example.org"
SAME_ANSWER = 202


class _Raw:
    """The stream's bytes as they are, to look for a token in them."""

    @staticmethod
    def decode(data: bytes) -> bytes:
        return data


def recovery(inquiry_id: str) -> str:
    return f"/v1/inquiries/{inquiry_id}/token-recovery"


async def opens(inquiries: Client, inquiry_id: str, token: str) -> int:
    response = await inquiries.get(
        f"/v1/inquiries/{inquiry_id}", headers=patient({"access_token": token})
    )
    return response.status_code


async def test_the_email_on_file_brings_a_working_token_by_email_and_the_old_one_stops(
    inquiries: Client,
    notifications: Client,
    mailbox: Mailbox,
    ndb: asyncpg.Connection,
    casedb: asyncpg.Connection,
    bus: Bus,
) -> None:
    tap = Tap(bus, "INQUIRIES", "inquiries.>", _Raw)
    await tap.open()
    submitted = await submit(inquiries)
    inquiry_id, old = submitted["id"], submitted["access_token"]

    # As people type it: other case, spaces around.
    answer = await inquiries.post(recovery(inquiry_id), json={"email": "  Olena@Example.org "})

    assert answer.status_code == SAME_ANSWER
    [mail] = await eventually(lambda: _token_mails(mailbox), timeout=15)
    text = mail.get_body(("plain",)).get_content()
    [new] = [word for word in text.split() if word.startswith("cbp_")]
    assert new != old
    assert mail["Subject"] == "Ваш новий ключ доступу"
    assert await opens(inquiries, inquiry_id, new) == 200
    assert await opens(inquiries, inquiry_id, old) == 404
    # The token is in the email only: not in a stream, not in notifications' rows.
    streamed = b"".join(body for _, body in await tap.read())
    assert b"access_token_reissued" in streamed
    assert new.encode() not in streamed
    rows = await ndb.fetch("SELECT params::text AS params, last_error FROM notifications")
    assert all(new not in r["params"] and new not in (r["last_error"] or "") for r in rows)
    # Inquiries keeps it sealed only, for the sender to ask for.
    sealed = await casedb.fetchval(
        "SELECT reissued_token FROM inquiries WHERE id = $1", uuid.UUID(inquiry_id)
    )
    assert new.encode() not in sealed
    await tap.close()


async def test_another_email_gets_the_same_answer_and_changes_nothing(
    inquiries: Client,
    notifications: Client,
    mailbox: Mailbox,
    ndb: asyncpg.Connection,
    casedb: asyncpg.Connection,
) -> None:
    submitted = await submit(inquiries)
    inquiry_id, old = submitted["id"], submitted["access_token"]
    matching = await submit(inquiries)

    miss = await inquiries.post(recovery(inquiry_id), json={"email": "someone@example.org"})
    not_an_email = await inquiries.post(recovery(inquiry_id), json={"email": "no address"})
    unknown = await inquiries.post(recovery(str(uuid.uuid4())), json={"email": PATIENT})
    hit = await inquiries.post(recovery(matching["id"]), json={"email": PATIENT})

    answers = {
        (r.status_code, r.text, r.headers.get("cache-control"))
        for r in (miss, not_an_email, unknown, hit)
    }
    assert len(answers) == 1, answers
    # The match's email arrives; by then the misses (answered and done before it) sent nothing.
    await eventually(lambda: _token_mails(mailbox), timeout=15)
    assert len(await _token_mails(mailbox)) == 1
    assert await opens(inquiries, inquiry_id, old) == 200
    assert (
        await ndb.fetchval(
            "SELECT count(*) FROM notifications WHERE kind = 'access_token_reissued' "
            "AND inquiry_id = $1",
            uuid.UUID(inquiry_id),
        )
        == 0
    )
    assert (
        await casedb.fetchval(
            "SELECT count(*) FROM timeline"
            " WHERE inquiry_id = $1 AND kind = 'access_token_reissued'",
            uuid.UUID(inquiry_id),
        )
        == 0
    )


async def test_a_malformed_request_is_refused_and_changes_nothing(
    inquiries: Client, casedb: asyncpg.Connection
) -> None:
    submitted = await submit(inquiries)
    inquiry_id = submitted["id"]

    missing = await inquiries.post(recovery(inquiry_id), json={})
    unknown_field = await inquiries.post(recovery(inquiry_id), json={"email": PATIENT, "why": 1})
    too_long = await inquiries.post(recovery(inquiry_id), json={"email": "a" * 300})
    # A form body, not JSON: refused for its type before it is read (415), as on every route.
    not_json = await inquiries.post(
        recovery(inquiry_id),
        content=b"email=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    bad_id = await inquiries.post(recovery("not-a-uuid"), json={"email": PATIENT})

    for response, status in (
        (missing, 400),
        (unknown_field, 400),
        (too_long, 400),
        (not_json, 415),
    ):
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert bad_id.status_code == 404
    assert await casedb.fetchval("SELECT count(*) FROM token_recovery_requests") == 0
    assert await opens(inquiries, inquiry_id, submitted["access_token"]) == 200


async def test_three_requests_an_hour_per_inquiry_then_429_and_no_reissue(
    inquiries: Client, casedb: asyncpg.Connection
) -> None:
    submitted = await submit(inquiries)
    inquiry_id = submitted["id"]
    for _ in range(3):
        heard = await inquiries.post(recovery(inquiry_id), json={"email": "guess@example.org"})
        assert heard.status_code == SAME_ANSWER

    refused = await inquiries.post(recovery(inquiry_id), json={"email": PATIENT})

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert await opens(inquiries, inquiry_id, submitted["access_token"]) == 200
    # Any id is counted alike, so the limit does not tell which inquiries exist.
    absent = str(uuid.uuid4())
    statuses = [
        (await inquiries.post(recovery(absent), json={"email": PATIENT})).status_code
        for _ in range(4)
    ]
    assert statuses == [202, 202, 202, 429]


async def _token_mails(mailbox: Mailbox) -> list[Any]:
    return [
        m
        for m in mailbox.to(PATIENT)
        if "cbp_" in m.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    ]
