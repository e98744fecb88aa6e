"""`python -m services.partner.incident`: report a personal-data breach to Carebridge, as the
partner configured by the environment (PARTNER_ID, NATS_URL, ...), on its own replies subject.

A partner must tell the controller without undue delay (GDPR Art. 33(2)); Carebridge's operators
see the incident at once and then have 72 hours to notify the supervisory authority."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import get_args

import msgspec

from contracts.envelope import NATS_MSG_ID, Metadata, event_type, sender_msg_id
from contracts.partners import IncidentCategory, IncidentReported
from contracts.registry import PARTNER_REPLIES
from services.partner.app import PartnerSettings
from services.runtime.core.settings import load_settings_or_exit
from services.runtime.messaging.bus import Bus

_PUBLISH_TIMEOUT = 5.0


async def report_incident(bus: Bus, partner_id: str, incident: IncidentReported) -> str:
    """Publish the report through JetStream (it waits in the stream while logistics is down);
    returns its id, which Carebridge's operators see beside it."""
    meta = Metadata(
        id=str(uuid.uuid4()),
        type=event_type(IncidentReported),
        source=f"/partners/{partner_id}",
        time=datetime.now(UTC),
    )
    await bus.js.publish(
        bus.subject(PARTNER_REPLIES.subject(partner_id=partner_id)),
        msgspec.json.encode(incident),
        headers=meta.headers() | {NATS_MSG_ID: sender_msg_id(partner_id, meta.id)},
        timeout=_PUBLISH_TIMEOUT,
    )
    return meta.id


def _when(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} has no time zone (add Z or +01:00)")
    return moment


def parse(argv: Sequence[str]) -> IncidentReported:
    parser = argparse.ArgumentParser(
        prog="python -m services.partner.incident",
        description=(
            "Report a personal-data breach touching what Carebridge sent this partner. Name "
            "the affected bookings or offers by id, or --all-data. Never put the traveller's "
            "name or other personal data in the description."
        ),
    )
    parser.add_argument("--category", required=True, choices=get_args(IncidentCategory))
    parser.add_argument("--description", required=True, help="what happened, ids only")
    parser.add_argument("--detected-at", type=_when, help="ISO 8601 with a time zone; default: now")
    parser.add_argument("--occurred-at", type=_when, help="when it happened, if known")
    parser.add_argument("--booking", action="append", default=[], help="an affected booking id")
    parser.add_argument("--offer", action="append", default=[], help="an affected offer id")
    parser.add_argument(
        "--all-data", action="store_true", help="everything held from Carebridge is affected"
    )
    args = parser.parse_args(argv)
    if not (args.booking or args.offer or args.all_data):
        parser.error("name the affected --booking or --offer ids, or give --all-data")
    raw = {
        "category": args.category,
        "description": args.description,
        "detected_at": args.detected_at or datetime.now(UTC),
        "occurred_at": args.occurred_at,
        "booking_ids": args.booking,
        "offer_ids": args.offer,
        "all_data": args.all_data,
    }
    try:
        return msgspec.convert(raw, IncidentReported)
    except msgspec.ValidationError as exc:
        parser.error(str(exc))


async def _send(settings: PartnerSettings, incident: IncidentReported) -> str:
    bus = await settings.connect(f"partner-{settings.partner_id}-incident")
    try:
        return await report_incident(bus, settings.partner_id, incident)
    finally:
        await bus.close()


def main(argv: Sequence[str] | None = None) -> int:
    incident = parse(sys.argv[1:] if argv is None else argv)
    settings = load_settings_or_exit(PartnerSettings)
    try:
        sent = asyncio.run(_send(settings, incident))
    except (ConnectionError, OSError, TimeoutError) as exc:
        sys.stderr.write(f"incident not sent: {type(exc).__name__}: {exc}\n")
        return 1
    sys.stdout.write(f"incident reported: {sent}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
