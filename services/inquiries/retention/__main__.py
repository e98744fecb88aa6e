"""python -m services.inquiries.retention [--dry-run]: purge now, with the service's settings."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg

from services.inquiries.app import DEFINITION, InquiriesSettings
from services.inquiries.privacy_store import ClosedInquiry
from services.inquiries.retention import cutoff, due, purge_due
from services.runtime.db import create_pool
from services.runtime.log import configure_logging
from services.runtime.outbox import Outbox

DESCRIPTION = """\
Purge the personal data of inquiries closed longer than INQUIRIES_RETENTION_DAYS, leaving their
anonymous records, and announce each erasure (the running service publishes the events).
Reads the service's settings (DATABASE_URL, INQUIRIES_*) from the environment."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.inquiries.retention",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be purged")
    args = parser.parse_args(argv)
    settings = DEFINITION.load_settings()
    if not isinstance(settings, InquiriesSettings):  # settings_type makes this impossible
        raise TypeError(type(settings))
    # Progress is printed; the log shows only what goes wrong.
    configure_logging(service="inquiries-retention", level="warning", fmt=settings.log_format)
    try:
        return asyncio.run(run(settings, dry_run=args.dry_run))
    except (OSError, asyncpg.PostgresError) as exc:
        sys.stderr.write(f"retention failed: {type(exc).__name__}: cannot use the database\n")
        return 1


async def run(settings: InquiriesSettings, *, dry_run: bool) -> int:
    now = datetime.now(UTC)
    days = settings.inquiries_retention_days
    _say(f"retention: {days} days; cases closed before {cutoff(now, days).isoformat()} are due")
    pool = await create_pool(
        settings.database_url, schema=DEFINITION.schema, min_size=1, max_size=2
    )
    try:
        if dry_run:
            would = await due(pool, now=now, retention_days=days)
            for inquiry in would:
                _say(f"would purge {_describe(inquiry)}")
            _say(f"dry run: {len(would)} inquiries would be purged, nothing changed")
            return 0
        outbox = Outbox(source=f"/carebridge/{DEFINITION.name}", schema=DEFINITION.schema)
        purged = await purge_due(
            pool,
            outbox,
            now=now,
            retention_days=days,
            on_purged=lambda inquiry: _say(f"purged {_describe(inquiry)}"),
        )
        _say(f"purged the personal data of {purged} inquiries")
        return 0
    finally:
        await pool.close()


def _describe(inquiry: ClosedInquiry) -> str:
    return f"{inquiry.id} ({inquiry.status}, closed {inquiry.closed_at.date().isoformat()})"


def _say(line: str) -> None:
    """Progress for the operator who runs the command: stdout, one line at a time."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
