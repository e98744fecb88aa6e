"""The console's forms turned into the inquiries API's requests: an offer, a confirmation with
its travel plan, a discharge. Pure. Times entered in a form are the clinic's local time
(Europe/Berlin, where every partner works), sent with their offset. The offer's totals are
checked as the API checks them (the items add up to the total; the advance does not exceed it),
so the person sees the mistake before anything is sent; the API checks again."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

CLINIC_TIME = ZoneInfo("Europe/Berlin")


class FormProblem(ValueError):
    """A field the person must correct; the message names it."""

    @property
    def field(self) -> str:
        """The field the message names (its first word), to show the message beside it."""
        return str(self).split(maxsplit=1)[0].rstrip(":") if str(self) else ""


def _text(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise FormProblem(f"{name} is required")
    return value


def _amount(fields: Mapping[str, str], name: str) -> Decimal:
    return _money(_text(fields, name), name)


def _money(text: str, name: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise FormProblem(f"{name} must be an amount such as 1500.00") from None
    if value < 0:
        raise FormProblem(f"{name} must not be negative")
    return value.quantize(Decimal("0.01"))


def _whole(fields: Mapping[str, str], name: str) -> int:
    try:
        return int(_text(fields, name))
    except ValueError:
        raise FormProblem(f"{name} must be a whole number") from None


def _local(fields: Mapping[str, str], name: str) -> str:
    """A datetime-local field ("2027-02-01T14:35") as an ISO time with the clinic's offset."""
    try:
        moment = datetime.fromisoformat(_text(fields, name))
    except ValueError:
        raise FormProblem(f"{name} must be a date and time") from None
    return moment.replace(tzinfo=CLINIC_TIME).isoformat()


def clinic_time(fields: Mapping[str, str], name: str) -> str:
    """A datetime-local field read as the clinic's time, for other forms than the case page's."""
    return _local(fields, name)


def _lines(fields: Mapping[str, str], name: str) -> list[str]:
    found = [line.strip() for line in fields.get(name, "").splitlines() if line.strip()]
    if not found:
        raise FormProblem(f"{name} needs at least one line")
    return found


def offer_request(fields: Mapping[str, str]) -> dict[str, Any]:
    """One programme; its cost items one a line, "description: amount"."""
    items: list[tuple[str, Decimal]] = []
    for line in _lines(fields, "items"):
        description, _, amount = line.rpartition(":")
        if not description.strip():
            raise FormProblem(f"items: {line!r} is not 'description: amount'")
        items.append((description.strip(), _money(amount.strip(), "items")))
    total = _amount(fields, "total")
    advance = _amount(fields, "advance")
    added = sum((amount for _, amount in items), Decimal("0.00"))
    if added != total:
        raise FormProblem(f"total is {total} but the items add up to {added}")
    if advance > total:
        raise FormProblem("advance exceeds the total")
    return {
        "programmes": [
            {
                "title": _text(fields, "title"),
                "clinic": _text(fields, "clinic"),
                "physician": _text(fields, "physician"),
                "procedures": _lines(fields, "procedures"),
                "length_of_stay_days": _whole(fields, "length_of_stay_days"),
                "items": [{"description": d, "amount": str(a)} for d, a in items],
                "total": str(total),
                "advance": str(advance),
            }
        ],
        "valid_until": _local(fields, "valid_until"),
    }


def confirmation_request(fields: Mapping[str, str]) -> dict[str, Any]:
    """The advance paid (or a guarantee), the arrival, the clinic, the stay, and the services
    to book: a transfer and an interpreter's first session when ticked."""
    kind = fields.get("payment_kind", "advance")
    if kind not in ("advance", "guarantee"):
        raise FormProblem("payment_kind must be advance or guarantee")
    payment = {
        "kind": kind,
        "amount": str(_amount(fields, "payment_amount")),
        "paid_on" if kind == "advance" else "issued_on": _text(fields, "payment_date"),
        "reference": _text(fields, "payment_reference"),
        "payer": {"relation": _text(fields, "payer_relation"), "name": _text(fields, "payer_name")},
    }
    services: dict[str, Any] = {"support": fields.get("support") == "on"}
    if fields.get("transfer") == "on":
        services["transfer"] = {
            "passengers": _whole(fields, "passengers"),
            "luggage": _whole(fields, "luggage"),
            "mobility": fields.get("mobility", "none"),
        }
    if fields.get("interpreter") == "on":
        services["interpreter"] = {
            "specialty": _text(fields, "specialty"),
            "sessions": [
                {
                    "date": _text(fields, "session_date"),
                    "start": _text(fields, "session_start") + ":00",
                    "duration_minutes": _whole(fields, "session_minutes"),
                    "place": _text(fields, "session_place"),
                    "purpose": _text(fields, "session_purpose"),
                }
            ],
        }
    return {
        "payment": payment,
        "plan": {
            "arrival": {
                "flight_number": _text(fields, "flight_number"),
                "airport": _text(fields, "airport"),
                "scheduled_arrival": _local(fields, "scheduled_arrival"),
            },
            "clinic": {
                "name": _text(fields, "clinic_name"),
                "address": _text(fields, "clinic_address"),
            },
            "admission": _text(fields, "admission"),
            "discharge": _text(fields, "discharge"),
            "services": services,
        },
    }


def discharge_request(fields: Mapping[str, str]) -> dict[str, Any]:
    """Fit to fly, one medicine to ship home (when named), the return flight and the home
    address (when given)."""
    items = []
    if fields.get("medicine_name", "").strip():
        items.append(
            {
                "name": _text(fields, "medicine_name"),
                "active_ingredient": _text(fields, "active_ingredient"),
                "strength": _text(fields, "strength"),
                "quantity": _whole(fields, "quantity"),
            }
        )
    body: dict[str, Any] = {
        "fit_to_fly": _text(fields, "fit_to_fly"),
        "medication": {"items": items, "cold_chain": fields.get("cold_chain") == "on"},
    }
    if fields.get("return_flight_number", "").strip():
        body["return_flight"] = {
            "flight_number": _text(fields, "return_flight_number"),
            "airport": _text(fields, "return_airport"),
            "departs_at": _local(fields, "departs_at"),
            "at_airport_by": _local(fields, "at_airport_by"),
            "pickup_at": _local(fields, "pickup_at"),
            "mobility": fields.get("return_mobility", "none"),
        }
    if fields.get("recipient", "").strip():
        body["home_address"] = {
            "recipient": _text(fields, "recipient"),
            "street": _text(fields, "street"),
            "postal_code": _text(fields, "postal_code"),
            "city": _text(fields, "city"),
            "country": _text(fields, "country"),
        }
    return body
