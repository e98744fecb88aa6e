"""The disclosure log: every time personal data of a case leaves a service, to whom, which
fields, when and on what legal basis. Written in the same transaction as what sends the data
(the outbox row of an offer or event, the export's answer), so the log holds a disclosure if
and only if it happened.

The fields are derived from the message actually sent, never listed by hand: a field added to
an offer is logged from the first offer that carries it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import msgspec

from contracts.exports import Disclosure, DisclosureKind, RecipientType
from contracts.inquiries import ConsentBasis
from services.runtime.core.db import Connection

# The legal basis of each kind of disclosure, in one place: the records name it as written here,
# and a change of basis is one reviewed change of this table.
LEGAL_BASES: dict[DisclosureKind, str] = {
    # Logistics offers a booking to a transport company, interpreter or courier. Inquiries
    # sends a booking request only once the patient gave partner_sharing, and the request
    # carries the consent record: the record names it.
    "partner_offer": (
        "GDPR Art. 6(1)(b) and 9(2)(a): performance of the travel-care contract, with the "
        "patient's explicit consent"
    ),
    # Inquiries asks logistics to book the services of a confirmed or discharged case; the
    # record names the consent it relied on.
    "booking_request": (
        "GDPR Art. 6(1)(b) and 9(2)(a): performance of the travel-care contract, with the "
        "patient's explicit consent"
    ),
    # The patient's own export, or an admin's export made on the patient's request.
    "access_export": (
        "GDPR Art. 15 and 20 with Art. 6(1)(c): the data subject's rights of access and to "
        "data portability"
    ),
}


def carried_fields(message: msgspec.Struct) -> tuple[str, ...]:
    """The dotted paths of every field `message` carries a value in, as it goes on the wire;
    the items of a list share one path (`sessions[].place`). A null field carries nothing."""
    return tuple(sorted(set(_paths(msgspec.to_builtins(message), ""))))


def _paths(value: Any, prefix: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list | tuple):  # to_builtins keeps a tuple a tuple
        for item in value:
            yield from _paths(item, f"{prefix}[]")
    elif value is not None:
        yield prefix


async def record(
    conn: Connection,
    *,
    inquiry_id: str | None,
    kind: DisclosureKind,
    recipient_type: RecipientType,
    recipient: str,
    fields: tuple[str, ...],
    reference: str | None,
    at: datetime,
    consent: ConsentBasis | None = None,
) -> Disclosure:
    """Inside the transaction that sends the data. `consent`: the record the disclosure relies
    on, when its basis is consent; the basis then names it."""
    disclosure = Disclosure(
        kind=kind,
        recipient_type=recipient_type,
        recipient=recipient,
        fields=fields,
        legal_basis=legal_basis(kind, consent),
        reference=reference,
        disclosed_at=at,
        consent=consent,
    )
    await conn.execute(
        """INSERT INTO disclosure_log (inquiry_id, kind, recipient_type, recipient, fields,
                                       legal_basis, reference, disclosed_at, consent_purpose,
                                       consent_version, consent_given_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        inquiry_id,
        disclosure.kind,
        disclosure.recipient_type,
        disclosure.recipient,
        list(disclosure.fields),
        disclosure.legal_basis,
        disclosure.reference,
        disclosure.disclosed_at,
        None if consent is None else consent.purpose,
        None if consent is None else consent.notice_version,
        None if consent is None else consent.given_at,
    )
    return disclosure


def legal_basis(kind: DisclosureKind, consent: ConsentBasis | None) -> str:
    """The basis of `kind`, naming the consent record it relied on, if any."""
    if consent is None:
        return LEGAL_BASES[kind]
    return (
        f"{LEGAL_BASES[kind]} to {consent.purpose}, given {consent.given_at.isoformat()} "
        f"against consent notice {consent.notice_version}"
    )


async def of_case(conn: Connection, inquiry_id: str) -> list[Disclosure]:
    """The case's disclosures, oldest first."""
    rows = await conn.fetch(
        """SELECT kind, recipient_type, recipient, fields, legal_basis, reference, disclosed_at,
                  consent_purpose, consent_version, consent_given_at
           FROM disclosure_log WHERE inquiry_id = $1 ORDER BY id""",
        inquiry_id,
    )
    return [_disclosure(dict(r.items())) for r in rows]


def _disclosure(row: dict[str, Any]) -> Disclosure:
    purpose, version, given_at = (
        row.pop("consent_purpose"),
        row.pop("consent_version"),
        row.pop("consent_given_at"),
    )
    if purpose is not None:
        row["consent"] = {"purpose": purpose, "notice_version": version, "given_at": given_at}
    return msgspec.convert(row, Disclosure)
