"""One real PostgreSQL and one real NATS (JetStream) per test run, shared by every pytest-xdist
worker; each test gets its own database (cloned from a template migrated once per run) and its
own subject/stream namespace, so tests never see each other's data whichever worker runs them.

Who starts the servers: the process in charge of the run. Run serially, that is pytest itself,
and it starts each server the first time a test needs it. Under xdist it is the controller: it
starts both servers and migrates the template before the workers start, hands their addresses
to each worker (`workerinput`), and stops them once every worker is done. Servers given from
outside (TEST_DATABASE_URL, TEST_NATS_URL) are used instead and never stopped."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path

import pytest

from deploy.embedded import free_port, start_nats, start_postgres
from deploy.stack.runner import DEFINITIONS as STACK_SERVICES
from services.runtime.core.db import create_pool
from services.runtime.messaging.bus import Bus
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import prepare_database
from tests.support.databases import DatabasePool, database_url, drop_database, on_server

# Every service the stack runs: the template holds each one's schema, migrated once.
DEFINITIONS: tuple[ServiceDefinition, ...] = STACK_SERVICES

# The environment names external servers are given by, and the keys workers get them under.
POSTGRES = "TEST_DATABASE_URL"
NATS = "TEST_NATS_URL"
TEMPLATE = "TEST_TEMPLATE_DATABASE"


class RunServers:
    """The run's servers and template database: given, or started on first use here."""

    def __init__(self, given: Mapping[str, str], scratch: Callable[[str], Path]) -> None:
        self.given = {key: value for key, value in given.items() if value}
        self.scratch = scratch
        self.stops: list[Callable[[], None]] = []

    def postgres_url(self) -> str:
        """A URL to a database on a server where tests may create databases."""
        if POSTGRES not in self.given:
            server = start_postgres(self.scratch("pg") / "data", free_port(), durable=False)
            self.stops.append(server.stop)
            self.given[POSTGRES] = server.url()
        return self.given[POSTGRES]

    def nats_url(self) -> str:
        if NATS not in self.given:
            server = start_nats(self.scratch("nats") / "data", free_port())
            self.stops.append(server.stop)
            self.given[NATS] = server.url
        return self.given[NATS]

    def template_database(self) -> str:
        """A database migrated for every service; tests clone it instead of migrating."""
        if TEMPLATE not in self.given:
            admin_url, name = self.postgres_url(), f"cb_template_{uuid.uuid4().hex[:8]}"
            asyncio.run(_create_template(admin_url, name))
            self.stops.append(lambda: asyncio.run(drop_database(admin_url, name)))
            self.given[TEMPLATE] = name
        return self.given[TEMPLATE]

    def everything(self) -> dict[str, str]:
        """What a worker needs, started now if not yet."""
        self.nats_url()
        self.template_database()
        return dict(self.given)

    def stop(self) -> None:
        """In reverse order of starting: the template goes before its server."""
        while self.stops:
            self.stops.pop()()


SERVERS = pytest.StashKey[RunServers]()
# How many databases the run cloned from the template and how many tests got a used one back,
# summed over the workers (each sends its own when it ends: `workeroutput`).
DATABASES = pytest.StashKey[list[int]]()


def pytest_configure(config: pytest.Config) -> None:
    # A worker is handed the controller's servers; anyone else starts its own when needed.
    worker: dict[str, str] | None = getattr(config, "workerinput", None)
    if worker is not None:
        given = {key: worker.get(key, "") for key in (POSTGRES, NATS, TEMPLATE)}
    else:
        given = {key: os.environ.get(key, "") for key in (POSTGRES, NATS)}
    servers = RunServers(given, lambda name: _run_temp(config).mktemp(name))
    config.stash[SERVERS] = servers
    config.add_cleanup(servers.stop)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # Before xdist starts its workers (its own sessionstart runs last), so each gets them.
    if session.config.pluginmanager.has_plugin("dsession"):
        session.config.stash[SERVERS].everything()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: object) -> None:
    """xdist: give a worker the run's servers."""
    config: pytest.Config = node.config  # type: ignore[attr-defined]
    node.workerinput.update(config.stash[SERVERS].everything())  # type: ignore[attr-defined]


def _run_temp(config: pytest.Config) -> pytest.TempPathFactory:
    """The run's temp-path factory, as xdist reaches it: folders made with it live under the
    run's basetemp (.pytest-tmp with `make test`), which pytest empties at the start of the run,
    not while it lasts."""
    factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
    return factory


async def _create_template(admin_url: str, name: str) -> None:
    await on_server(admin_url, f"CREATE DATABASE {name}")
    for definition in DEFINITIONS:
        pool = await create_pool(
            database_url(admin_url, name), schema=definition.schema, min_size=1, max_size=1
        )
        try:
            await prepare_database(pool, definition)
        finally:
            await pool.close()


@pytest.fixture(scope="session")
def postgres_admin_url(pytestconfig: pytest.Config) -> str:
    """A URL to a database on a server where tests may create databases."""
    return pytestconfig.stash[SERVERS].postgres_url()


@pytest.fixture(scope="session")
def nats_url(pytestconfig: pytest.Config) -> str:
    return pytestconfig.stash[SERVERS].nats_url()


@pytest.fixture(scope="session")
def template_database(pytestconfig: pytest.Config) -> str:
    return pytestconfig.stash[SERVERS].template_database()


@pytest.fixture(scope="session")
def database_pool(
    pytestconfig: pytest.Config, postgres_admin_url: str, template_database: str
) -> Iterator[DatabasePool]:
    """The worker's databases, each a test's own while it runs (tests/support/databases.py)."""
    pool = DatabasePool(postgres_admin_url, template_database)
    yield pool
    asyncio.run(pool.close())
    counts = pytestconfig.stash.setdefault(DATABASES, [0, 0])
    counts[0] += pool.created
    counts[1] += pool.reused
    worker: dict[str, object] | None = getattr(pytestconfig, "workeroutput", None)
    if worker is not None:
        worker["databases"] = counts


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """xdist: add up what an ending worker reports of its databases."""
    del error
    config: pytest.Config = node.config  # type: ignore[attr-defined]
    created, reused = getattr(node, "workeroutput", {}).get("databases", (0, 0))
    counts = config.stash.setdefault(DATABASES, [0, 0])
    counts[0] += created
    counts[1] += reused


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    created, reused = terminalreporter.config.stash.get(DATABASES, [0, 0])
    if created or reused:
        terminalreporter.write_line(
            f"test databases: {created} cloned from the template, "
            f"{reused} used again once put back as the template has them"
        )


@pytest.fixture(name="database_url")
async def own_database_url(database_pool: DatabasePool) -> AsyncIterator[str]:
    """A database of the test's own, as the template has it: a clone, or one an earlier test
    of this worker used and that was put back as the template has it."""
    name = await database_pool.take()
    yield database_pool.url(name)
    await database_pool.give_back(name)


@pytest.fixture
async def namespace(nats_url: str) -> AsyncIterator[str]:
    """A subject/stream prefix of this test's own; its streams are deleted afterwards."""
    ns = f"t{uuid.uuid4().hex[:10]}"
    yield ns
    await delete_streams(nats_url, ns)


async def delete_streams(nats_url: str, namespace: str) -> None:
    """Delete every stream of `namespace`, as a test's namespace fixture does afterwards."""
    bus = await Bus.connect(nats_url, name="test-cleanup", namespace=namespace)
    try:
        for info in await bus.js.streams_info():
            if (info.config.name or "").startswith(f"{namespace}_"):
                await bus.js.delete_stream(info.config.name or "")
    finally:
        await bus.close()
