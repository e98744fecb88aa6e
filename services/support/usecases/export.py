"""Support's part of a case's access and portability export, asked for by inquiries over
`rpc.support.case_export.v1`: the inquiry's support cases with their timelines and their
threads opened, and who of support's staff read them (the audit log, where each read of a case
names its inquiry)."""

from __future__ import annotations

from contracts.exports import (
    CaseExportRequest,
    ExportedSupportCase,
    ExportedSupportMessage,
    ExportedSupportTimelineEntry,
    SupportCaseExport,
)
from services.runtime.access import audit
from services.runtime.core.db import Connection, Pool
from services.runtime.privacy.crypto import KeyRing, from_column
from services.support.domain.model import Case
from services.support.store import cases


async def export_case(pool: Pool, keys: KeyRing, request: CaseExportRequest) -> SupportCaseExport:
    # One snapshot: a message written while the export is read is in it whole or not at all.
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        return SupportCaseExport(
            inquiry_id=request.inquiry_id,
            cases=tuple(
                [
                    await _exported(conn, keys, case)
                    for case in await cases.every_case_of_inquiry(conn, request.inquiry_id)
                ]
            ),
            staff_reads=tuple(await audit.reads_of_case(conn, request.inquiry_id)),
        )


async def _exported(conn: Connection, keys: KeyRing, case: Case) -> ExportedSupportCase:
    # An erased case has no messages left: its thread went with the patient's data.
    thread = [
        ExportedSupportMessage(
            at=m.at,
            author=m.author,  # type: ignore[arg-type]  # the table's CHECK allows only these
            author_name=m.author_name,
            body=keys.decrypt(
                from_column(m.sealed_body), aad=cases.message_aad(case.id, m.id)
            ).decode(),
        )
        for m in await cases.messages(conn, case.id)
    ]
    return ExportedSupportCase(
        case_id=str(case.id),
        origin=case.origin,
        category=case.category,
        priority=case.priority,
        language=case.language,
        status=case.status,
        booking_id=None if case.booking_id is None else str(case.booking_id),
        partner_id=case.partner_id,
        assignee=case.assignee,
        opened_at=case.opened_at,
        acknowledged_at=case.acknowledged_at,
        resolved_at=case.resolved_at,
        erased_at=case.erased_at,
        timeline=tuple(
            ExportedSupportTimelineEntry(at=e.at, kind=e.kind, person=e.person, detail=e.detail)
            for e in await cases.timeline(conn, case.id)
        ),
        thread=tuple(thread),
    )
