"""The Python receiver the partners guide shows is run as written: a request signed the way
logistics signs is taken (204), the same request with its body altered is refused (401). The
reference partner's HTTP mode checks signatures the same way."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import HTTPServer
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from contracts.partners import DataErasureRequested
from services.partner.http_channel import HttpPartner, HttpPartnerSettings
from services.runtime.messaging.webhooks import new_secret, signed_headers

GUIDE = Path(__file__).parents[3] / "docs" / "partners.md"


def receiver_example() -> str:
    found = re.search(r"<!-- receiver:python -->\n```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert found, "the guide's Python receiver is marked <!-- receiver:python -->"
    return found.group(1)


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.fixture
def receiver_url(secret: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CAREBRIDGE_WEBHOOK_SECRET", secret)
    example: dict[str, Any] = {"__name__": "receiver_example"}
    exec(compile(receiver_example(), str(GUIDE), "exec"), example)  # noqa: S102 - the guide's code
    server = HTTPServer(("127.0.0.1", 0), example["Receiver"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


OFFER, OTHER, BOOKING = (str(uuid.UUID(int=n)) for n in (1, 2, 3))


def a_notice() -> bytes:
    return msgspec.json.encode(
        DataErasureRequested(offer_id=OFFER, booking_id=BOOKING, erased_at=datetime.now(UTC))
    )


def test_the_guides_python_receiver_takes_a_signed_webhook_and_refuses_a_tampered_one(
    secret: str, receiver_url: str
) -> None:
    body = a_notice()
    headers = signed_headers((secret,), "msg-1", datetime.now(UTC), body)
    assert httpx.post(receiver_url, content=body, headers=headers).status_code == 204
    tampered = body.replace(OFFER.encode(), OTHER.encode())
    assert httpx.post(receiver_url, content=tampered, headers=headers).status_code == 401
    other = signed_headers((new_secret(),), "msg-1", datetime.now(UTC), body)
    assert httpx.post(receiver_url, content=body, headers=other).status_code == 401


def test_the_reference_http_partner_acts_only_on_webhooks_that_verify(secret: str) -> None:
    partner = HttpPartner(
        HttpPartnerSettings(
            partner_id="shuttle-web", partner_webhook_secret=secret, partner_token="cbw_test-token"
        )
    )
    body = a_notice()
    headers = signed_headers((secret,), "msg-1", datetime.now(UTC), body)
    assert partner.received(body.replace(OFFER.encode(), OTHER.encode()), headers) == 401
    assert partner.stopped == set()
    assert partner.received(body, headers) == 204
    assert partner.stopped == {OFFER}
    # During a rotation either secret verifies: the old one is signed with too.
    both = signed_headers((new_secret(), secret), "msg-2", datetime.now(UTC), body)
    assert partner.received(body, both) == 204
