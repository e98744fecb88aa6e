"""Each test's own database, cloned from the run's template and, when it is safe, used again
by a later test of the same worker once its rows are put back as the template has them.

Why: a database's life (CREATE DATABASE from the template, the test's first connection, DROP
DATABASE) cost 86 ms and 66 ms of PostgreSQL's CPU on these machines, for each of some 1,700
tests, while putting the rows back takes one round trip of about 10 ms
(docs/testing.md, "Databases").

A database goes back to the worker's pool only when nothing can tell it from a fresh clone:
- nobody else is connected to it any more (a service a test left running could otherwise
  write into the next test's rows), and
- its catalogue is the template's (a test that created a table, a function or a trigger, or
  changed a table's columns or privileges, leaves a database that is dropped instead), and
- putting its rows back worked (it needs a role that may set `session_replication_role`, so
  that the tables' triggers and foreign keys do not get in the way; without one, every
  database is dropped after its test, as before).
Putting back: every table emptied, the rows the template holds (the migration ledgers, the
support policies) inserted again, every sequence restarted where the template has it."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

import asyncpg

# The catalogue as far as a test could change it, in one value: relations with their columns,
# kinds, trigger flags and privileges; functions; triggers and whether they fire; schemas;
# constraints; column defaults; policies. Compared after each test with the template's.
FINGERPRINT = """
SELECT md5(concat_ws('|',
    (SELECT string_agg(concat_ws(':', c.oid, c.relname, c.relkind, c.relnatts,
                                 c.relhastriggers, c.relrowsecurity, c.relacl), ',' ORDER BY c.oid)
       FROM pg_class c),
    (SELECT string_agg(concat_ws(':', a.attrelid, a.attnum, a.attname, a.atttypid, a.attnotnull,
                                 a.attisdropped), ',' ORDER BY a.attrelid, a.attnum)
       FROM pg_attribute a WHERE a.attrelid >= 16384),
    (SELECT concat_ws(':', count(*), max(oid)) FROM pg_proc),
    (SELECT string_agg(concat_ws(':', t.oid, t.tgenabled), ',' ORDER BY t.oid) FROM pg_trigger t),
    (SELECT string_agg(concat_ws(':', n.oid, n.nspname), ',' ORDER BY n.oid) FROM pg_namespace n),
    (SELECT concat_ws(':', count(*), max(oid)) FROM pg_constraint),
    (SELECT concat_ws(':', count(*), max(oid)) FROM pg_attrdef),
    (SELECT count(*) FROM pg_policy),
    (SELECT count(*) FROM pg_prepared_xacts)
))
"""

# Anyone but us still connected to the database we are in.
OTHERS = """
SELECT count(*) FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()
"""

# Connections a test closed may take a moment to end on the server side.
OTHERS_GONE_WITHIN = 0.2


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def put_back_statement(conn: asyncpg.Connection) -> str:
    """The statements that make a database used by a test hold what `conn`'s (a fresh clone of
    the template) holds now: one script, sent in one round trip."""
    tables = await conn.fetch(
        """
        SELECT format('%I.%I', n.nspname, c.relname) AS name, c.oid,
               (SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum)
                  FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                   AND a.attgenerated = '') AS columns
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg\\_%'
         ORDER BY 1
        """
    )
    script = ["SET LOCAL session_replication_role = replica"]
    script += [f"DELETE FROM {table['name']}" for table in tables]
    for table in tables:
        rows = await conn.fetchval(f"SELECT json_agg(t)::text FROM {table['name']} t")
        if rows is not None:
            script.append(
                f"INSERT INTO {table['name']} ({table['columns']}) OVERRIDING SYSTEM VALUE "
                f"SELECT {table['columns']} FROM json_populate_recordset(NULL::{table['name']}, "
                f"{_literal(rows)})"
            )
    sequences = await conn.fetch(
        """
        SELECT format('%I.%I', schemaname, sequencename) AS name, start_value, last_value
          FROM pg_sequences
        """
    )
    for sequence in sequences:
        if sequence["last_value"] is None:
            value, called = sequence["start_value"], "false"
        else:
            value, called = sequence["last_value"], "true"
        script.append(f"SELECT setval({_literal(sequence['name'])}, {value}, {called})")
    return "BEGIN;\n" + ";\n".join(script) + ";\nCOMMIT;"


@dataclass
class DatabasePool:
    """A worker's databases: `take` one for a test, `give_back` after it."""

    admin_url: str
    template: str
    free: list[str] = field(default_factory=list)
    # Learnt from the first clone: what a fresh one looks like and how to get back to it.
    fingerprint: str | None = None
    put_back: str | None = None
    reuse: bool = True
    created: int = 0
    reused: int = 0

    def url(self, name: str) -> str:
        return database_url(self.admin_url, name)

    async def take(self) -> str:
        if self.free:
            self.reused += 1
            return self.free.pop()
        name = f"cb_test_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(self.admin_url)
        try:
            # FILE_COPY copies the template's files instead of writing every page through the
            # WAL (the default since PostgreSQL 15, which knows both): 33 ms instead of 55 ms
            # here, its checkpoint cheap on a test server without fsync.
            version = int(await admin.fetchval("SHOW server_version_num"))
            strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""
            await admin.execute(f"CREATE DATABASE {name} TEMPLATE {self.template}{strategy}")
        finally:
            await admin.close()
        self.created += 1
        if self.fingerprint is None:
            conn = await asyncpg.connect(self.url(name))
            try:
                self.fingerprint = await conn.fetchval(FINGERPRINT)
                self.put_back = await put_back_statement(conn)
            finally:
                await conn.close()
        return name

    async def give_back(self, name: str) -> None:
        """Put `name` back in the pool if nothing tells it from a fresh clone; else drop it."""
        if self.reuse and await self._put_back(name):
            self.free.append(name)
        else:
            await drop_database(self.admin_url, name)

    async def _put_back(self, name: str) -> bool:
        conn = await asyncpg.connect(self.url(name))
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + OTHERS_GONE_WITHIN
            while await conn.fetchval(OTHERS):
                if loop.time() > deadline:
                    return False
                await asyncio.sleep(0.01)
            if await conn.fetchval(FINGERPRINT) != self.fingerprint:
                return False
            assert self.put_back is not None
            try:
                await conn.execute(self.put_back)
            except asyncpg.InsufficientPrivilegeError:
                self.reuse = False  # the role may not skip triggers: fresh clones only
                return False
            return True
        finally:
            await conn.close()

    async def close(self) -> None:
        while self.free:
            await drop_database(self.admin_url, self.free.pop())


def database_url(admin_url: str, database: str) -> str:
    """The URL of `database` on the server of `admin_url`."""
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{database}"


async def on_server(admin_url: str, statement: str) -> None:
    """One statement on a connection of its own (CREATE and DROP DATABASE take no
    transaction)."""
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


async def drop_database(admin_url: str, name: str) -> None:
    await on_server(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
