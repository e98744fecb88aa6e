"""The NATS configuration is checked by nats-server before it is written (issue 15, finding 4):
a config it refuses is never written, so a reload keeps the one the server runs on and the
next start does not fail; a reserved partner id never reaches it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import nats
import pytest

from contracts.registry import RESERVED_PARTNER_IDS
from deploy.nats_auth import (
    ADMIN,
    SECRETS_KEY,
    SERVICE_SUBJECTS,
    InvalidConfig,
    ReservedPartnerId,
    main,
    render_config,
    write_config,
)
from tests.support.nats_auth import authorized_nats

ALPHA = "alpha-shuttle"


def test_every_nats_user_of_carebridge_is_a_reserved_partner_id() -> None:
    assert {ADMIN, *SERVICE_SUBJECTS} <= RESERVED_PARTNER_IDS


@pytest.mark.parametrize("reserved", ["logistics", ADMIN])
def test_a_reserved_partner_id_is_refused_when_rendering(reserved: str) -> None:
    with pytest.raises(ReservedPartnerId, match=reserved):
        render_config(
            passwords=dict.fromkeys((ADMIN, *SERVICE_SUBJECTS, reserved), "pw"),
            services=tuple(SERVICE_SUBJECTS),
            partners=(reserved,),
        )


async def test_a_config_nats_server_refuses_is_not_written_and_the_server_keeps_its_own(
    tmp_path: Path,
) -> None:
    with authorized_nats(tmp_path, (ALPHA,), "") as server:
        config = tmp_path / "auth.conf"
        running = config.read_text()
        accounts = json.loads(running)["accounts"]
        # Two users of one name: what a partner registered as "logistics" used to render.
        accounts[f"PARTNER_{ALPHA}"]["users"][0]["user"] = "logistics"

        with pytest.raises(InvalidConfig, match=r"(?i)duplicate user"):
            write_config(config, json.dumps({"accounts": accounts}))

        assert config.read_text() == running
        nc = await nats.connect(server.url("logistics"), allow_reconnect=False)
        await nc.close()


async def _register(database_url: str, *partners: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        for partner in partners:
            await conn.execute(
                "INSERT INTO logistics.partners (id, name, kinds, priority, active, created_at,"
                " updated_at) VALUES ($1, $1, '{transfer}', 10, true, now(), now())",
                partner,
            )
    finally:
        await conn.close()


def test_a_reserved_id_registered_before_the_rule_gets_no_user_and_a_warning(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_register(database_url, ALPHA, "logistics"))
    output = tmp_path / "auth.conf"

    main(
        [
            "--database-url",
            database_url,
            "--secrets",
            str(tmp_path / "s.json"),
            "--output",
            str(output),
        ]
    )

    accounts = json.loads(output.read_text())["accounts"]
    users = [u["user"] for account in accounts.values() for u in account["users"]]
    assert sorted(users) == sorted((ADMIN, *SERVICE_SUBJECTS, ALPHA))
    assert "'logistics' has a reserved id" in capsys.readouterr().err
    stored = json.loads((tmp_path / "s.json").read_text())[SECRETS_KEY]
    assert set(stored) == {ADMIN, *SERVICE_SUBJECTS, ALPHA}
