"""The pool on a real PostgreSQL: a connection goes back to the pool without a reset round trip
(the code keeps no session state on pooled connections, which the scan below holds), and a
transaction left open is still rolled back on release."""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg

from services.runtime.core.db import Pool

SCHEMA = "public"
SERVICES = Path(__file__).parents[3] / "services"


async def last_statement(database_url: str, pid: int) -> str:
    observer = await asyncpg.connect(database_url)
    try:
        return str(
            await observer.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
        )
    finally:
        await observer.close()


async def test_a_released_connection_is_sent_nothing_more(pool: Pool, database_url: str) -> None:
    async with pool.acquire() as conn:
        pid = await conn.fetchval("SELECT pg_backend_pid() /* the last statement */")

    # asyncpg's default reset would be the backend's last statement now.
    assert await last_statement(database_url, pid) == (
        "SELECT pg_backend_pid() /* the last statement */"
    )


async def test_a_transaction_left_open_is_rolled_back_on_release(pool: Pool) -> None:
    await pool.execute("CREATE TABLE left_open (n int)")
    async with pool.acquire() as conn:
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO left_open VALUES (1)")

    assert await pool.fetchval("SELECT count(*) FROM left_open") == 0


# Session state a pooled connection would carry to its next borrower: session-level advisory
# locks, plain SET (SET LOCAL ends with its transaction), LISTEN.
# (SQL is written in capitals here; a docstring saying "LISTEN for commits" is not SQL.)
SESSION_STATE = re.compile(
    r"pg_(try_)?advisory_lock(_shared)?\(|[\"']\s*SET\s+(?!LOCAL\b)(SESSION\s+)?\w+\s*(=|TO\b)"
    r"|[\"']\s*LISTEN\s+\w+\s*[\"';]"
)


def test_no_service_code_leaves_session_state_on_a_pooled_connection() -> None:
    found = [
        f"{path.relative_to(SERVICES)}:{n}"
        for path in SERVICES.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if SESSION_STATE.search(line)
    ]
    # The relay LISTENs with add_listener on a connection of its own (outbox.Relay), not here.
    assert found == []
