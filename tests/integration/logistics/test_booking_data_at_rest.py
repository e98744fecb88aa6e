"""No table of the logistics schema holds a traveller's name, phone, addresses or medicines in
plain text, though the partner offered a booking receives them; sealed details open only in
their own booking's row, and after erasure nothing of the traveller opens with any key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from contracts.inquiries import PersonalDataErased
from contracts.registry import INQUIRY_ERASED
from services.logistics.app import LogisticsSettings
from services.logistics.store import bookings as store
from services.runtime.core.settings import SettingsError, load_settings
from services.runtime.messaging.bus import Bus
from services.runtime.privacy.crypto import DecryptionError, KeyRing
from tests.integration.logistics.conftest import Client, Register, Start, Tap, publish
from tests.integration.logistics.test_booking_erasure import opened_details
from tests.integration.logistics.test_dispatch import confirm, confirmed, offer_to
from tests.logistics_samples import interpreter, shipment, transfer
from tests.support import eventually, every_value

# Who the traveller is and where they are: erasure removes all of it.
TRAVELLER = (
    "Olena",
    "Kovalenko",
    "380501234567",
    "Terminal 1",
    "Benekestr",
    "Kerckhoff",
    "Khreshchatyk",
    "RX-2027-0042",
)
# What they take: health data while it belongs to someone, kept anonymous after erasure.
MEDICINES = ("Marcumar", "phenprocoumon")


async def relayed(db: asyncpg.Connection) -> bool:
    """The outbox holds an offer, details and all, only until the relay has published it."""
    return bool(await db.fetchval("SELECT count(*) = 0 FROM outbox"))


def leaks(dump: dict[str, str]) -> set[tuple[str, str]]:
    return {
        (table, secret) for table, text in dump.items() for secret in TRAVELLER if secret in text
    }


async def book_all_three(bus: Bus, register: Register, offers: Tap) -> tuple[str, list[str]]:
    """An inquiry's transfer, interpreter and shipment, offered to a partner each."""
    await register("rhein-shuttle", "transfer")
    await register("dolmetsch-uk", "interpreter")
    await register("kyiv-courier", "shipment")
    inquiry = str(uuid.uuid4())
    await confirm(
        bus,
        confirmed(
            inquiry,
            ("transfer", transfer()),
            ("interpreter", interpreter()),
            ("shipment", shipment()),
        ),
    )
    seen = await offers.until(lambda s: len(s) == 3)
    partners = ("rhein-shuttle", "dolmetsch-uk", "kyiv-courier")
    return inquiry, [offer_to(seen, p).booking_id for p in partners]


async def test_no_table_holds_the_travellers_data_in_plain_text_yet_the_partner_gets_it(
    client: Client,
    coordinator: dict[str, str],
    register: Register,
    bus: Bus,
    offers: Tap,
    db: asyncpg.Connection,
) -> None:
    _, booking_ids = await book_all_three(bus, register, offers)
    by_coordinator = await client.post(
        "/v1/bookings",
        json={"inquiry_id": None, "kind": "transfer", "details": transfer()},
        headers=coordinator,
    )
    assert by_coordinator.status_code == 201, by_coordinator.text
    await eventually(lambda: relayed(db))

    dump = await every_value(db, "logistics")

    assert {"bookings", "booking_timeline", "offers", "partners", "outbox"} <= set(dump)
    assert leaks(dump) == set()
    assert await db.fetchval("SELECT count(*) FROM bookings WHERE key_id = 't1'") == 4
    shipment_offer = offer_to(await offers.read(), "kyiv-courier")
    assert shipment_offer.details.patient.full_name == "Olena Kovalenko"
    view = await client.get(f"/v1/bookings/{booking_ids[2]}", headers=coordinator)
    assert view.json()["booking"]["details"]["destination"]["street"] == "vul. Khreshchatyk 1"


async def test_details_moved_to_another_booking_do_not_open_there(
    client: Client,
    coordinator: dict[str, str],
    register: Register,
    db: asyncpg.Connection,
    keys: KeyRing,
) -> None:
    await register("rhein-shuttle", "transfer")
    ids = []
    for name in ("Olena Kovalenko", "Taras Shevchuk"):
        patient = {"full_name": name, "phone": "+380501234567", "language": "uk"}
        response = await client.post(
            "/v1/bookings",
            json={"inquiry_id": None, "kind": "transfer", "details": transfer(patient=patient)},
            headers=coordinator,
        )
        assert response.status_code == 201, response.text
        ids.append(uuid.UUID(response.json()["booking"]["id"]))
    olenas, taras = ids

    await db.execute(
        """UPDATE bookings SET sealed_details = (SELECT sealed_details FROM bookings WHERE id = $1)
           WHERE id = $2""",
        olenas,
        taras,
    )

    with pytest.raises(DecryptionError, match="failed authentication"):
        await store.get_booking(db, keys, taras)
    assert (await store.get_booking(db, keys, olenas)) is not None
    shown = await client.get(f"/v1/bookings/{taras}", headers=coordinator)
    assert shown.status_code == 500
    assert "Olena" not in shown.text
    listed = await client.get("/v1/bookings", headers=coordinator)
    assert listed.status_code == 500
    assert "Olena" not in listed.text


async def test_after_erasure_nothing_of_the_traveller_opens_with_any_key(
    register: Register,
    bus: Bus,
    offers: Tap,
    db: asyncpg.Connection,
    keys: KeyRing,
) -> None:
    inquiry, _ = await book_all_three(bus, register, offers)
    before = await db.fetch("SELECT sealed_details FROM bookings WHERE inquiry_id = $1", inquiry)

    await publish(
        bus,
        INQUIRY_ERASED.subject(),
        PersonalDataErased(inquiry_id=inquiry, erased_at=datetime.now(UTC)),
        source="/carebridge/inquiries",
    )

    async def erased() -> bool:
        count = await db.fetchval(
            "SELECT count(*) FROM bookings WHERE inquiry_id = $1 AND erased_at IS NOT NULL",
            inquiry,
        )
        return bool(count == 3)

    await eventually(erased)
    await eventually(lambda: relayed(db))
    opened = await opened_details(db, keys, inquiry)
    assert len(opened) == 3
    assert {secret for text in opened for secret in TRAVELLER if secret in text} == set()
    dump = " ".join((await every_value(db, "logistics")).values())
    for row in before:
        # The sealed value was replaced, not kept beside a flag: no key can open it again.
        assert bytes(row["sealed_details"]).decode("latin-1") not in dump


async def test_bookings_sealed_under_an_old_key_open_after_a_new_key_is_made_active(
    start: Start,
    keys_setting: str,
    coordinator: dict[str, str],
    register: Register,
    db: asyncpg.Connection,
) -> None:
    await register("rhein-shuttle", "transfer")
    async with start() as old:
        first = await old.post(
            "/v1/bookings",
            json={"inquiry_id": None, "kind": "transfer", "details": transfer()},
            headers=coordinator,
        )
    rotated = f"{keys_setting},{KeyRing.generate_setting('t2')}"

    async with start(LOGISTICS_ENCRYPTION_KEYS=rotated) as new:
        second = await new.post(
            "/v1/bookings",
            json={"inquiry_id": None, "kind": "transfer", "details": transfer()},
            headers=coordinator,
        )
        listed = await new.get("/v1/bookings", headers=coordinator)

    assert (first.status_code, second.status_code, listed.status_code) == (201, 201, 200)
    names = [b["details"]["patient"]["full_name"] for b in listed.json()["items"]]
    assert names == ["Olena Kovalenko", "Olena Kovalenko"]
    key_ids = await db.fetch("SELECT key_id FROM bookings ORDER BY created_at")
    assert [r["key_id"] for r in key_ids] == ["t1", "t2"]


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({}, "LOGISTICS_ENCRYPTION_KEYS is required"),
        ({"LOGISTICS_ENCRYPTION_KEYS": "t1:short"}, "LOGISTICS_ENCRYPTION_KEYS is invalid"),
        (
            {"LOGISTICS_ENCRYPTION_KEYS": KeyRing.generate_setting(), "LOGISTICS_ACTIVE_KEY": "k9"},
            "LOGISTICS_ENCRYPTION_KEYS is invalid: active key 'k9' is not among",
        ),
    ],
)
def test_a_missing_or_bad_key_setting_stops_the_service_and_names_its_variable(
    environ: dict[str, str], problem: str
) -> None:
    with pytest.raises(SettingsError, match=problem) as raised:
        load_settings(
            LogisticsSettings,
            environ={"DATABASE_URL": "postgresql://localhost/x"} | environ,
            port=8003,
        )

    assert "short" not in str(raised.value)
