"""Bookings and partners for tests, as coordinators and the inquiries service send them."""

from __future__ import annotations

from typing import Any


def transfer(**changes: Any) -> dict[str, Any]:
    details: dict[str, Any] = {
        "flight_number": "LH1491",
        "airport": "FRA",
        "scheduled_arrival": "2027-02-03T14:25:00+01:00",
        "passengers": 2,
        "luggage": 3,
        "mobility": "wheelchair",
        "pickup": "Terminal 1, arrivals hall B",
        "dropoff": "Kerckhoff-Klinik, Benekestr. 2-8, Bad Nauheim",
        "patient": {"full_name": "Olena Kovalenko", "phone": "+380501234567", "language": "uk"},
    }
    return details | changes


def interpreter(**changes: Any) -> dict[str, Any]:
    details: dict[str, Any] = {
        "language_from": "uk",
        "language_to": "de",
        "specialty": "cardiology",
        "sessions": [
            {
                "date": "2027-02-04",
                "start": "09:00:00",
                "duration_minutes": 90,
                "place": "Kerckhoff-Klinik, station 3",
                "purpose": "informed_consent",
            }
        ],
        "patient": {"full_name": "Olena Kovalenko", "phone": "+380501234567", "language": "uk"},
    }
    return details | changes


def shipment(**changes: Any) -> dict[str, Any]:
    details: dict[str, Any] = {
        "items": [
            {
                "name": "Marcumar",
                "active_ingredient": "phenprocoumon",
                "strength": "3 mg",
                "quantity": 100,
                "prescription_reference": "RX-2027-0042",
            }
        ],
        "cold_chain": False,
        "destination": {
            "recipient": "Olena Kovalenko",
            "street": "vul. Khreshchatyk 1",
            "postal_code": "01001",
            "city": "Kyiv",
            "country": "UA",
        },
        "patient": {"full_name": "Olena Kovalenko", "phone": "+380501234567", "language": "uk"},
    }
    return details | changes


def partner(partner_id: str, kind: str, **changes: Any) -> dict[str, Any]:
    """A partner serving Frankfurt airport, Ukrainian-German and shipments to Ukraine."""
    body: dict[str, Any] = {
        "id": partner_id,
        "name": f"{partner_id.replace('-', ' ').title()} GmbH",
        "kinds": [kind],
        "coverage": {"airports": ["FRA"], "cities": ["Frankfurt"], "countries": ["DE", "UA"]},
        "languages": ["uk", "de"] if kind == "interpreter" else [],
        "capabilities": ["informed_consent"] if kind == "interpreter" else [],
        "priority": 10,
        "active": True,
    }
    return body | changes
