"""The receivers the partners guide shows, in Python and in JavaScript (run by node), are run as
written: a request signed the way logistics signs is taken (204), the same request with its body
altered or signed with another secret is refused (401). The reference partner's HTTP mode checks
signatures the same way."""

from __future__ import annotations

import os
import re
import select
import shutil
import socket
import subprocess
import threading
import time
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

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "docs" / "partners.md"
JS_RECEIVER = ROOT / "examples" / "webhook-receiver"


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


def test_the_guides_javascript_receiver_is_the_example_file() -> None:
    found = re.search(r"<!-- receiver:javascript -->\n```js\n(.*?)```", GUIDE.read_text(), re.S)
    assert found, "the guide's JavaScript receiver is marked <!-- receiver:javascript -->"
    assert found.group(1) == (JS_RECEIVER / "receiver.mjs").read_text()


@pytest.fixture
def js_receiver_url(secret: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the guide's JavaScript receiver needs it")
    if not (JS_RECEIVER / "node_modules" / "standardwebhooks").is_dir():
        pytest.fail("standardwebhooks is missing: run `npm ci` in examples/webhook-receiver")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    receiver = subprocess.Popen(
        [node, "receiver.mjs"],
        cwd=JS_RECEIVER,
        env={**os.environ, "CAREBRIDGE_WEBHOOK_SECRET": secret, "PORT": str(port)},
        stdout=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert receiver.poll() is None, "the receiver exited"
                assert time.monotonic() < deadline, "the receiver did not listen within 10 s"
                time.sleep(0.05)
        yield url, receiver
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)


def test_the_guides_javascript_receiver_takes_a_signed_webhook_and_refuses_a_tampered_one(
    secret: str, js_receiver_url: tuple[str, subprocess.Popen[str]]
) -> None:
    url, receiver = js_receiver_url
    body = a_notice()
    headers = signed_headers((secret,), "msg-1", datetime.now(UTC), body)
    tampered = body.replace(OFFER.encode(), OTHER.encode())
    assert httpx.post(url, content=tampered, headers=headers).status_code == 401
    other = signed_headers((new_secret(),), "msg-2", datetime.now(UTC), body)
    assert httpx.post(url, content=body, headers=other).status_code == 401
    assert httpx.post(url, content=body, headers=headers).status_code == 204
    # The receiver answers before it hands the message on: wait for its line, then stop it.
    assert receiver.stdout is not None
    ready, _, _ = select.select([receiver.stdout], [], [], 10)
    assert ready, "the receiver handed nothing on within 10 s"
    first = receiver.stdout.readline()
    receiver.terminate()
    rest, _ = receiver.communicate(timeout=10)
    # Only the verified message was handed on: the refused ones came first and printed nothing.
    assert [first.rstrip("\n"), *rest.splitlines()] == ["msg-1 data_erasure_requested"]


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
