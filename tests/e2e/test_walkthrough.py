"""docs/walkthrough.md, as a newcomer runs it against `make run`: a patient submits an inquiry,
a coordinator takes it through review, offer, acceptance and confirmation, logistics books the
trip, and the reference partners confirm and complete every booking; after discharge the same
happens to the return transfer and the medicine shipment, and the patient's timeline shows every
booking completed by its partner, and the details each partner reported (driver, interpreter,
tracking number). The patient heard of each step once, in Ukrainian, by email (the stack's SMTP
catcher) and SMS (its sink), never of her health."""

from __future__ import annotations

import asyncio
import copy
import email
import email.policy
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import nats
import pytest

from tests.e2e.local_stack import QUICK_PARTNERS, Stacks
from tests.inquiry_samples import DISCHARGE, SUBMISSION
from tests.support import stored_messages

pytestmark = pytest.mark.e2e

T = TypeVar("T")
FLOW_DEADLINE = 60.0

OFFER: dict[str, Any] = {
    "programmes": [
        {
            "title": "Mitral valve repair, minimally invasive",
            "clinic": "Kerckhoff-Klinik, Bad Nauheim",
            "physician": "Prof. Dr. med. A. Weber",
            "procedures": ["transesophageal echocardiography", "mitral valve repair"],
            "length_of_stay_days": 10,
            "items": [
                {"description": "diagnostics", "amount": "1500.00"},
                {"description": "surgery and stay", "amount": "20000.00"},
            ],
            "total": "21500.00",
            "advance": "5000.00",
        }
    ],
    "valid_until": "2027-01-31T23:59:00+01:00",
}
CONFIRMATION: dict[str, Any] = {
    "payment": {
        "kind": "advance",
        "amount": "5000.00",
        "paid_on": "2026-11-20",
        "reference": "SEPA-2026-11-0042",
        "payer": {"relation": "relative", "name": "Taras Kovalenko"},
    },
    "plan": {
        "arrival": {
            "flight_number": "LH1491",
            "airport": "FRA",
            "scheduled_arrival": "2027-02-01T14:35:00+01:00",
        },
        "clinic": {
            "name": "Kerckhoff-Klinik",
            "address": "Benekestr. 2-8, 61231 Bad Nauheim",
        },
        "admission": "2027-02-02",
        "discharge": "2027-02-12",
        "services": {
            "transfer": {"passengers": 2, "luggage": 3, "mobility": "wheelchair"},
            "interpreter": {
                "specialty": "cardiology",
                "sessions": [
                    {
                        "date": "2027-02-02",
                        "start": "09:00:00",
                        "duration_minutes": 90,
                        "place": "Kerckhoff-Klinik, admission",
                        "purpose": "admission",
                    },
                    {
                        "date": "2027-02-03",
                        "start": "10:00:00",
                        "duration_minutes": 60,
                        "place": "Kerckhoff-Klinik, cardiac surgery",
                        "purpose": "informed_consent",
                    },
                ],
            },
            "support": True,
        },
    },
}
PARTNER_OF = {
    "transfer": "rhein-shuttle",
    "interpreter": "medilingua",
    "shipment": "hessen-pharma-express",
}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A running stack whose partners answer and progress quickly; `root` is its data folder."""
    stacks = Stacks(tmp_path, env=QUICK_PARTNERS)
    try:
        manifest, _ = stacks.wait_ready(stacks.start())
        yield manifest | {"root": stacks.data_dir}
    finally:
        stacks.cleanup()


class Walk:
    """The requests of the walkthrough, with the tokens from stack.json."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        services = manifest["services"]
        token = manifest["credentials"]["staff"]["coordinator"]
        self.coordinator = {"Authorization": f"Bearer {token}"}
        self.admin = {"Authorization": f"Bearer {manifest['credentials']['staff']['admin']}"}
        # A third-party site submits inquiries with its API key; the stack issues one.
        self.site = {"X-API-Key": manifest["credentials"]["api_keys"]["local-site"]}
        self.inquiries = httpx.Client(base_url=services["inquiries"], timeout=10)
        self.logistics = httpx.Client(base_url=services["logistics"], timeout=10)

    def submit(self, key: str = "walkthrough-1", **consent: bool) -> dict[str, Any] | None:
        """The inquiry, or None while the catalogue has not yet learned the seeded condition
        from the content events (a few hundred milliseconds after a first start). `consent`
        changes what the patient ticked."""
        # She agrees to hear from us by SMS too.
        body = copy.deepcopy(SUBMISSION)
        body["patient"]["channels"] = ["email", "sms"]
        body["consent"] |= consent
        response = self.inquiries.post(
            "/v1/inquiries",
            json=body,
            headers={**self.site, "Idempotency-Key": key},
        )
        if response.status_code == 422 and "condition_slug" in response.text:
            return None
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def step(self, inquiry_id: str, path: str, body: Any = None) -> dict[str, Any]:
        """One coordinator step on the case's current version (If-Match, as the API asks)."""
        case = f"/v1/coordinator/inquiries/{inquiry_id}"
        current = self.inquiries.get(case, headers=self.coordinator)
        assert current.status_code == 200, current.text
        response = self.inquiries.post(
            f"{case}/{path}",
            json=body,
            headers={**self.coordinator, "If-Match": current.headers["etag"]},
        )
        assert response.status_code in (200, 201), response.text
        answer: dict[str, Any] = response.json()
        return answer

    def claim(self, inquiry_id: str) -> dict[str, Any]:
        """The coordinator takes the case from the unassigned queue."""
        case = f"/v1/coordinator/inquiries/{inquiry_id}"
        queue = self.inquiries.get(
            "/v1/coordinator/inquiries", params={"unassigned": "true"}, headers=self.coordinator
        )
        assert inquiry_id in {c["id"] for c in queue.json()["items"]}, queue.text
        current = self.inquiries.get(case, headers=self.coordinator)
        response = self.inquiries.put(
            f"{case}/coordinator",
            json={"coordinator": "local-coordinator"},
            headers={**self.coordinator, "If-Match": current.headers["etag"]},
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def reads_audited(self, service: httpx.Client, inquiry_id: str) -> set[tuple[str, str]]:
        """Who read the case's data through which route, from the service's audit log."""
        response = service.get(
            "/admin/audit", params={"case": inquiry_id, "limit": 1000}, headers=self.admin
        )
        assert response.status_code == 200, response.text
        return {(e["person"], e["route"]) for e in response.json() if e["method"] == "GET"}

    def bookings(self, inquiry_id: str) -> list[dict[str, Any]]:
        response = self.logistics.get(
            "/v1/bookings", params={"inquiry_id": inquiry_id}, headers=self.coordinator
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def booking(self, booking_id: str) -> dict[str, Any]:
        response = self.logistics.get(f"/v1/bookings/{booking_id}", headers=self.coordinator)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def patient_view(self, submitted: dict[str, Any]) -> dict[str, Any]:
        response = self.inquiries.get(
            f"/v1/inquiries/{submitted['id']}",
            headers={"Authorization": f"Bearer {submitted['access_token']}"},
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


def until(check: Callable[[], T | None], what: str, timeout: float = FLOW_DEADLINE) -> T:
    """Poll `check` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f}s (last: {result!r})")
        time.sleep(0.2)


def test_an_inquiry_becomes_bookings_the_partners_confirm_and_complete(
    stack: dict[str, Any],
) -> None:
    walk = Walk(stack)
    submitted = until(walk.submit, "the inquiry is accepted")
    inquiry_id = submitted["id"]

    assert walk.claim(inquiry_id)["coordinator"] == "local-coordinator"
    walk.step(inquiry_id, "transitions", {"to": "in_review"})
    walk.step(inquiry_id, "offers", OFFER)
    walk.step(inquiry_id, "offers/1/accept")
    confirmed = walk.step(inquiry_id, "confirmation", CONFIRMATION)
    assert confirmed["status"] == "confirmed"

    trip = until(lambda: all_completed(walk, inquiry_id, 2), "transfer and interpreter done")
    assert_served_by_the_partners(walk, trip)

    walk.step(inquiry_id, "transitions", {"to": "in_treatment"})
    walk.step(inquiry_id, "discharge", DISCHARGE)
    home = until(lambda: all_completed(walk, inquiry_id, 4), "return and shipment done")
    assert sorted(b["kind"] for b in home) == ["interpreter", "shipment", "transfer", "transfer"]
    assert_served_by_the_partners(walk, home)

    def timeline_shows_every_booking_completed() -> list[dict[str, Any]] | None:
        entries = [e for e in walk.patient_view(submitted)["timeline"] if e["kind"] == "booking"]
        done = {
            e["detail"]["booking_id"] for e in entries if e["detail"]["to_status"] == "completed"
        }
        return entries if done == {b["id"] for b in home} else None

    entries = until(timeline_shows_every_booking_completed, "the patient's timeline")
    partners = {e["detail"]["partner_name"] for e in entries if e["detail"]["partner_name"]}
    assert partners == {stack["partners"][partner]["name"] for partner in PARTNER_OF.values()}

    # What each partner reported for her, on her view.
    bookings = walk.patient_view(submitted)["bookings"]
    arranged = {b["kind"]: b["arrangement"] for b in bookings}
    assert {"driver_name", "driver_phone", "vehicle", "meeting_point"} <= set(arranged["transfer"])
    assert {"interpreter_name", "session_at"} <= set(arranged["interpreter"])
    assert {"carrier", "tracking_number"} <= set(arranged["shipment"])

    # By email and SMS, each step once, in Ukrainian, with the status link, without her health.
    mails = until(lambda: patient_mail(stack["root"], PATIENT_MAILS), "the patient's email")
    subjects = [str(m["Subject"]) for m in mails]
    assert len({m["Message-ID"] for m in mails}) == PATIENT_MAILS
    assert "Ми отримали ваш запит" in subjects
    assert all(m["Content-Language"] == "uk" for m in mails)
    texts = [m.get_body(("plain",)).get_content() for m in mails]
    assert any(f"inquiry={inquiry_id}" in text for text in texts)
    ride = next(b for b in bookings if b["kind"] == "transfer")["arrangement"]
    assert any(ride["driver_name"] in t and ride["driver_phone"] in t for t in texts)
    tracking = arranged["shipment"]["tracking_number"]
    assert any(tracking in t for t in texts)
    texts_sms = until(lambda: patient_sms(stack["root"], PATIENT_MAILS), "the patient's SMS")
    for text in [*texts, *subjects, *texts_sms]:
        for health in HEALTH:
            assert health.lower() not in text.lower()

    # Every read of her data by the coordinator is in the audit logs, by case.
    assert walk.reads_audited(walk.inquiries, inquiry_id) == {
        ("local-coordinator", "/v1/coordinator/inquiries/{inquiry_id}")
    }
    assert walk.reads_audited(walk.logistics, inquiry_id) == {
        ("local-coordinator", "/v1/bookings"),
        ("local-coordinator", "/v1/bookings/{booking_id}"),
    }

    # Once the case is closed an admin erases it: within a minute no message in any stream of
    # the stack names her or her relative, read as the stack's NATS admin (the services erase
    # with the grants make run's accounts config gives them, nothing more).
    assert asyncio.run(messages_naming(stack["nats_url"], PERSONAL)), "nothing to erase"
    walk.step(inquiry_id, "transitions", {"to": "completed"})
    erased = walk.inquiries.post(f"/v1/inquiries/{inquiry_id}/erasure", headers=walk.admin)
    assert erased.status_code == 200, erased.text
    until(
        lambda: not asyncio.run(messages_naming(stack["nats_url"], PERSONAL)),
        "no stream message names her",
        timeout=60,
    )


def test_without_partner_sharing_nothing_reaches_a_partner_until_the_patient_grants_it(
    stack: dict[str, Any],
) -> None:
    walk = Walk(stack)
    withheld = until(lambda: walk.submit("no-sharing", partner_sharing=False), "accepted")
    shared = until(lambda: walk.submit("sharing"), "the second inquiry is accepted")
    for submitted in (withheld, shared):
        walk.step(submitted["id"], "transitions", {"to": "in_review"})
        walk.step(submitted["id"], "offers", OFFER)
        walk.step(submitted["id"], "offers/1/accept")
        assert walk.step(submitted["id"], "confirmation", CONFIRMATION)["status"] == "confirmed"

    # Logistics reads the confirmations in order: once the later case's bookings exist, the
    # earlier confirmation was applied, and it booked nothing.
    until(lambda: len(walk.bookings(shared["id"])) == 2, "the consenting case is booked")
    assert walk.bookings(withheld["id"]) == []
    case = walk.inquiries.get(
        f"/v1/coordinator/inquiries/{withheld['id']}", headers=walk.coordinator
    ).json()
    assert [(b["purpose"], b["since"] is not None) for b in case["blocked"]] == [
        ("partner_sharing", True)
    ]
    assert "has not given consent to partner_sharing" in case["blocked"][0]["reason"]

    granted = walk.inquiries.post(
        f"/v1/inquiries/{withheld['id']}/consents",
        json={"purpose": "partner_sharing", "granted": True, "version": "2026-12"},
        headers={"Authorization": f"Bearer {withheld['access_token']}"},
    )
    assert granted.status_code == 201, granted.text

    trip = until(lambda: all_completed(walk, withheld["id"], 2), "the released bookings done")
    assert_served_by_the_partners(walk, trip)
    after = walk.inquiries.get(
        f"/v1/coordinator/inquiries/{withheld['id']}", headers=walk.coordinator
    ).json()
    assert after["blocked"] == []


# What names her and the relative who paid, as it would appear in a message.
PERSONAL = (
    SUBMISSION["patient"]["full_name"],
    SUBMISSION["patient"]["email"],
    SUBMISSION["patient"]["phone"],
    CONFIRMATION["payment"]["payer"]["name"],
)


async def messages_naming(nats_url: str, needles: tuple[str, ...]) -> list[str]:
    """Where any of `needles` is in a stored message (subject or body), in every stream."""
    nc = await nats.connect(nats_url)
    try:
        stored = await stored_messages(nc.jetstream())
    finally:
        await nc.close()
    return [
        f"{stream}#{seq} {m.subject}"
        for stream, seq, m in stored
        if any(n.encode() in m.subject.encode() + b" " + m.body for n in needles)
    ]


# Received, offer, confirmed, discharged; each of the four bookings confirmed and its details.
PATIENT_MAILS = 12
HEALTH = ("mitral", "regurgitation", SUBMISSION["description"], SUBMISSION["condition_slug"])


def patient_mail(root: Path, count: int) -> list[email.message.EmailMessage] | None:
    mails = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted((root / "mail").glob("*.eml"))
    ]
    mine = [m for m in mails if m["To"] == SUBMISSION["patient"]["email"]]
    assert len(mine) <= count, [str(m["Subject"]) for m in mine]
    return mine if len(mine) == count else None  # type: ignore[return-value]


def patient_sms(root: Path, count: int) -> list[str] | None:
    texts = [json.loads(path.read_text("utf-8")) for path in sorted((root / "sms").glob("*.json"))]
    mine = [t["body"] for t in texts if t["to"] == SUBMISSION["patient"]["phone"]]
    assert len(mine) <= count, mine
    return mine if len(mine) == count else None


def all_completed(walk: Walk, inquiry_id: str, count: int) -> list[dict[str, Any]] | None:
    bookings = walk.bookings(inquiry_id)
    if len(bookings) == count and all(b["status"] == "completed" for b in bookings):
        return bookings
    return None


def assert_served_by_the_partners(walk: Walk, bookings: list[dict[str, Any]]) -> None:
    for summary in bookings:
        view = walk.booking(summary["id"])
        booking = view["booking"]
        assert booking["partner_id"] == PARTNER_OF[booking["kind"]]
        assert [o["state"] for o in view["offers"]] == ["accepted"]
        statuses = [entry["status"] for entry in view["timeline"]]
        # Each state once, in order; progress updates repeat in_progress.
        reached = list(dict.fromkeys(statuses))
        assert reached == ["requested", "offered", "confirmed", "in_progress", "completed"], (
            statuses
        )
