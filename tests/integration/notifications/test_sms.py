"""SMS: the provider adapter against a real HTTP server on a free port that answers as Twilio's
Messages API does and records what it is sent; the local sink's files; and a patient who agreed
to SMS reached on both channels, each once, through the running services."""

from __future__ import annotations

import base64
import copy
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from deploy.embedded import free_port
from services.notifications.delivery.failure import DeliveryFailed
from services.notifications.delivery.sms import ProviderSms, SmsApiConfig, SmsSink
from services.notifications.domain.model import Composed
from services.notifications.rendering import Rendered
from tests.inquiry_samples import SUBMISSION
from tests.integration.inquiries.casefile import submit
from tests.integration.notifications.conftest import Client, Mailbox, Start
from tests.support import eventually

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
KEY = "test-key"
PHONE = "+380501234567"


class Provider:
    """What the SMS provider was sent, and the answers it gives (201 unless scripted)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[int] = []
        self._lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                with provider._lock:
                    status = provider.answers.pop(0) if provider.answers else 201
                    provider.requests.append(
                        {
                            "path": self.path,
                            "authorization": self.headers.get("Authorization"),
                            "content_type": self.headers.get("Content-Type"),
                            "form": {k: v[0] for k, v in form.items()},
                            "status": status,
                        }
                    )
                body = json.dumps(
                    {"sid": "SM1", "status": "queued"}
                    if status == 201
                    else {
                        "code": 21211,
                        "message": f"The 'To' number {form.get('To')} is not valid",
                    }
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                return None

        return Handler

    def sent(self) -> list[dict[str, str]]:
        with self._lock:
            return [r["form"] for r in self.requests if r["status"] == 201]


@pytest.fixture
def provider() -> Iterator[tuple[Provider, str]]:
    recorder = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), recorder.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def composed(to: str = PHONE) -> Composed:
    return Composed(
        notification_id="9c8b7a6f-5e4d-4c3b-8a29-1f0e9d8c7b6a",
        kind="inquiry_received",
        channel="sms",
        to=to,
        language="uk",
        inquiry_id=None,
        params={},
    )


RENDERED = Rendered(
    subject="s", text="t", html="h", language="uk", direction="ltr", short="Ми отримали ваш запит."
)


def adapter(url: str) -> ProviderSms:
    return ProviderSms(SmsApiConfig(url=url, account=ACCOUNT, key=KEY, sender="+4969000000"))


async def test_the_provider_gets_twilios_form_with_basic_authentication(
    provider: tuple[Provider, str],
) -> None:
    recorder, url = provider
    sms = adapter(url)
    try:
        await sms.send(composed(), RENDERED)
    finally:
        await sms.close()

    [request] = recorder.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert request["content_type"] == "application/x-www-form-urlencoded"
    expected = base64.b64encode(f"{ACCOUNT}:{KEY}".encode()).decode()
    assert request["authorization"] == f"Basic {expected}"
    assert request["form"] == {"To": PHONE, "From": "+4969000000", "Body": RENDERED.short}


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (429, False), (503, False)])
async def test_a_refused_number_fails_for_good_and_a_busy_provider_is_retried(
    provider: tuple[Provider, str], status: int, permanent: bool
) -> None:
    recorder, url = provider
    recorder.answers = [status]
    sms = adapter(url)
    try:
        with pytest.raises(DeliveryFailed) as failed:
            await sms.send(composed(), RENDERED)
    finally:
        await sms.close()
    assert failed.value.permanent is permanent
    assert failed.value.summary == f"sms {status}"
    # The answer may quote the number: only the sealed reply holds it, never the summary.
    assert PHONE not in failed.value.summary


async def test_a_provider_that_is_away_is_retried() -> None:
    sms = adapter(f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(DeliveryFailed) as failed:
            await sms.send(composed(), RENDERED)
    finally:
        await sms.close()
    assert failed.value.permanent is False


async def test_the_local_sink_keeps_each_sms_as_a_json_file(tmp_path: Path) -> None:
    folder = tmp_path / "sms"
    await SmsSink(folder).send(composed(), RENDERED)

    [written] = folder.iterdir()
    record = json.loads(written.read_text("utf-8"))
    assert written.name == "9c8b7a6f-5e4d-4c3b-8a29-1f0e9d8c7b6a.json"
    assert (record["to"], record["body"], record["language"]) == (PHONE, RENDERED.short, "uk")


async def test_a_patient_who_agreed_to_sms_is_reached_by_email_and_sms_once_each(
    inquiries: Client,
    start: Start,
    mailbox: Mailbox,
    provider: tuple[Provider, str],
    ndb: asyncpg.Connection,
) -> None:
    recorder, url = provider
    # The SMS provider is busy once: the retry sends the SMS, not the email again.
    recorder.answers = [503]
    body = copy.deepcopy(SUBMISSION)
    body["patient"]["channels"] = ["email", "sms"]
    submitted = await submit(inquiries, patient=body["patient"])

    async with start(
        NOTIFICATIONS_SMS="api",
        NOTIFICATIONS_SMS_URL=url,
        NOTIFICATIONS_SMS_ACCOUNT=ACCOUNT,
        NOTIFICATIONS_SMS_KEY=KEY,
        NOTIFICATIONS_SMS_SENDER="+4969000000",
    ):

        async def sent() -> bool:
            row = await ndb.fetchrow("SELECT status, channel, attempts FROM notifications")
            return row is not None and tuple(row) == ("sent", "email,sms", 2)

        await eventually(sent, timeout=15)

    assert len(mailbox.to("olena@example.org")) == 1
    [sms] = recorder.sent()
    assert sms["To"] == PHONE
    assert sms["Body"].startswith("Ми отримали ваш запит.")
    assert f"inquiry={submitted['id']}" in sms["Body"]
    for health in ("mitral", "regurgitation", SUBMISSION["description"]):
        assert health.lower() not in sms["Body"].lower()


async def test_sms_without_a_phone_is_refused_at_submission(inquiries: Client) -> None:
    body = copy.deepcopy(SUBMISSION)
    body["patient"]["channels"] = ["sms"]
    del body["patient"]["phone"]

    refused = await inquiries.post("/v1/inquiries", json=body)

    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "patient.channels", "message": "sms needs the patient's phone"}
    ]
