"""A partner reports a data breach from the command line, onto its own replies subject, where
logistics reads it; a report naming nothing affected is refused before anything is sent."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import pytest
from nats.js.errors import NotFoundError

from contracts.envelope import event_type, metadata_from_headers
from contracts.partners import IncidentReported, partner_reply_decoder
from contracts.registry import PARTNER_REPLIES, STREAMS
from services.runtime.messaging.bus import Bus
from tests.support import eventually

REPO = Path(__file__).resolve().parents[3]
PARTNER = "kyiv-courier"


async def run(nats_url: str, namespace: str, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "PARTNER_ID": PARTNER, "NATS_URL": nats_url, "NATS_NAMESPACE": namespace}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.partner.incident",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def streams(bus: Bus) -> Bus:
    await bus.provision(STREAMS)
    return bus


async def last_reply(bus: Bus) -> tuple[str, IncidentReported] | None:
    subject = bus.subject(PARTNER_REPLIES.subject(partner_id=PARTNER))
    try:
        msg = await bus.js.get_last_msg(bus.stream(PARTNER_REPLIES.stream), subject)
    except NotFoundError:
        return None
    meta = metadata_from_headers(dict(msg.headers or {}))
    body = partner_reply_decoder.decode(msg.data or b"")
    assert isinstance(body, IncidentReported)
    assert meta.type == event_type(IncidentReported)
    assert meta.source == f"/partners/{PARTNER}"
    return meta.id, body


async def test_the_command_sends_the_report_on_the_partners_replies_subject(
    nats_url: str, namespace: str, streams: Bus
) -> None:
    booking, offer = str(uuid.uuid4()), str(uuid.uuid4())

    code, out, err = await run(
        nats_url,
        namespace,
        "--category",
        "misdirected_message",
        "--description",
        "A delivery list was e-mailed to the wrong depot.",
        "--detected-at",
        "2026-11-30T09:00:00+01:00",
        "--booking",
        booking,
        "--offer",
        offer,
    )

    assert code == 0, err
    report_id, report = await eventually(lambda: last_reply(streams))
    assert out.strip() == f"incident reported: {report_id}"
    assert report.category == "misdirected_message"
    assert report.booking_ids == (booking,)
    assert report.offer_ids == (offer,)
    assert report.detected_at.isoformat() == "2026-11-30T09:00:00+01:00"
    assert report.all_data is False


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--category", "malware", "--description", "x"], "name the affected"),
        (["--category", "gossip", "--description", "x", "--all-data"], "invalid choice"),
        (
            ["--category", "malware", "--description", "x", "--booking", "not-an-id"],
            "booking_ids",
        ),
        (
            ["--category", "malware", "--description", "x", "--all-data", "--detected-at", "9:00"],
            "--detected-at",
        ),
    ],
)
async def test_a_report_that_names_nothing_or_is_malformed_is_refused_and_not_sent(
    nats_url: str, namespace: str, streams: Bus, args: list[str], complaint: str
) -> None:
    code, _, err = await run(nats_url, namespace, *args)

    assert code == 2
    assert complaint in err
    assert await last_reply(streams) is None
