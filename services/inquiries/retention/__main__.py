"""python -m services.inquiries.retention [--dry-run]: purge now, with the service's settings."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg

from services.inquiries.app import DEFINITION, InquiriesSettings
from services.inquiries.domain.retention import Report, cutoff
from services.inquiries.store.privacy import ClosedInquiry
from services.inquiries.usecases.privacy.erasure import Erasing
from services.inquiries.usecases.privacy.retention import due, run
from services.runtime.core.db import create_pool
from services.runtime.core.log import configure_logging
from services.runtime.messaging.outbox import Outbox

DESCRIPTION = """\
Apply the retention periods now, per data class: erase the personal data of inquiries closed
longer than INQUIRIES_RETENTION_DAYS (leaving their anonymous records and, where there was
business, billing stubs; the running service publishes the erasure events), wipe the free text
of cases closed longer than INQUIRIES_FREE_TEXT_RETENTION_DAYS, and delete billing stubs older
than INQUIRIES_BILLING_RETENTION_YEARS. Prints what it purged per class; the run's report is
kept beside the scheduled ones (GET /v1/retention). Reads the service's settings
(DATABASE_URL, INQUIRIES_*) from the environment."""


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
        return asyncio.run(run_now(settings, dry_run=args.dry_run))
    except (OSError, asyncpg.PostgresError) as exc:
        sys.stderr.write(f"retention failed: {type(exc).__name__}: cannot use the database\n")
        return 1


async def run_now(settings: InquiriesSettings, *, dry_run: bool) -> int:
    now = datetime.now(UTC)
    periods = settings.retention_periods()
    days = periods.personal_data_days
    _say(f"retention: {days} days; cases closed before {cutoff(now, days).isoformat()} are due")
    _say(
        f"free text: {periods.free_text_days} days; billing stubs: {periods.billing_years} "
        "years after the year of erasure"
    )
    pool = await create_pool(
        settings.database_url, schema=DEFINITION.schema, min_size=1, max_size=2
    )
    try:
        if dry_run:
            would, counts = await due(pool, now=now, periods=periods)
            for inquiry in would:
                _say(f"would purge {_describe(inquiry)}")
            _say(f"dry run: {len(would)} inquiries would be purged, nothing changed")
            _say(f"dry run per class: {_per_class(counts)}")
            return 0
        outbox = Outbox(source=f"/carebridge/{DEFINITION.name}", schema=DEFINITION.schema)
        erasing = Erasing(
            outbox=outbox, keys=settings.key_ring(), billing_retention_years=periods.billing_years
        )
        report = await run(
            pool,
            erasing,
            periods,
            trigger="command",
            now=now,
            on_purged=lambda inquiry: _say(f"purged {_describe(inquiry)}"),
        )
        _say(f"purged the personal data of {report.case_personal_data} inquiries")
        _say(f"purged per class: {_per_class(report)}")
        return 0
    finally:
        await pool.close()


def _per_class(report: Report) -> str:
    return ", ".join(f"{name} {count}" for name, count in report.counts().items())


def _describe(inquiry: ClosedInquiry) -> str:
    return f"{inquiry.id} ({inquiry.status}, closed {inquiry.closed_at.date().isoformat()})"


def _say(line: str) -> None:
    """Progress for the operator who runs the command: stdout, one line at a time."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
