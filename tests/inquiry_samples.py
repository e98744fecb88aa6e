"""What a third-party site submits and what a coordinator records at discharge, shared by the
inquiries tests and the end-to-end walkthrough."""

from __future__ import annotations

import re
from typing import Any

SUBMISSION: dict[str, Any] = {
    "patient": {
        "full_name": "Olena Kovalenko",
        "date_of_birth": "1961-04-02",
        "sex": "female",
        "country": "UA",
        "language": "uk",
        "email": "olena@example.org",
        "phone": "+380501234567",
    },
    "condition_slug": "mitral-valve-insufficiency",
    "description": "Shortness of breath on stairs for a year, echo shows severe regurgitation.",
    "diagnoses": ["mitral regurgitation, grade III"],
    "preferred_country": "DE",
    "preferred_dates": {"from": "2027-02-01", "to": "2027-03-15"},
    "services": ["transfer", "interpreter", "medicine_shipment", "support"],
    # What the patient ticked against the current consent notice: every purpose, so the whole
    # case flows (tests of a missing consent take purposes out).
    "consent": {
        "version": "2026-12",
        "health_data_processing": True,
        "review_by_staff": True,
        "forwarding_to_clinics": True,
        "partner_sharing": True,
    },
    "source": "heart-clinic-finder.example",
}

# What in SUBMISSION names or describes the patient: none of it may show in the clear.
SUBMISSION_PERSONAL = (
    "Olena",
    "Kovalenko",
    "olena@example.org",
    "380501234567",
    "1961-04-02",
    "regurgitation",
    "Shortness of breath",
)

DISCHARGE: dict[str, Any] = {
    "fit_to_fly": "2027-02-13",
    "medication": {
        "items": [
            {
                "name": "Marcumar",
                "active_ingredient": "phenprocoumon",
                "strength": "3 mg",
                "quantity": 100,
                "prescription_reference": "RX-7781",
            }
        ],
        "cold_chain": False,
    },
    "return_flight": {
        "flight_number": "LH1490",
        "airport": "FRA",
        "departs_at": "2027-02-14T12:00:00+01:00",
        "at_airport_by": "2027-02-14T09:30:00+01:00",
        "pickup_at": "2027-02-14T08:00:00+01:00",
        "mobility": "wheelchair",
    },
    "home_address": {
        "recipient": "Olena Kovalenko",
        "street": "vul. Khreshchatyk 1",
        "postal_code": "01001",
        "city": "Kyiv",
        "country": "UA",
    },
}


# What of SUBMISSION an erasure must leave nowhere: the birth year too, not only the date.
ERASED = ("Olena", "Kovalenko", "olena@example.org", "380501234567", "regurgitation", "1961")


def erased_left_in(text: str) -> list[str]:
    """Which of ERASED `text` still holds, each as a word of its own: as a bare substring,
    "1961" turns up by chance in ids and timestamps (seen: an export failed on one)."""
    return [
        secret
        for secret in ERASED
        if re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", text)
    ]
