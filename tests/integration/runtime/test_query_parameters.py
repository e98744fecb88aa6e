"""Unknown query parameters are a 400 naming each of them, on every route of every service (the
runtime checks once); declared ones, a dependency's included, pass."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import pytest
from litestar import Litestar, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.testing import AsyncTestClient

from services.runtime.core.settings import ServiceSettings, as_environ, load_settings
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import create_service_app
from tests.support import own_metrics_port

PROBLEM = "application/problem+json"


def page_size(per_page: Annotated[int, QueryParameter(ge=1)] = 10) -> int:
    return per_page


@get("/v1/things/{kind:str}", dependencies={"size": Provide(page_size, sync_to_thread=False)})
async def list_things(
    kind: FromPath[str], size: NamedDependency[int], specialty: FromQuery[str | None] = None
) -> dict[str, object]:
    return {"kind": kind, "size": size, "specialty": specialty}


DEFINITION = ServiceDefinition(
    name="content",
    title="test service",
    description="query parameters under test",
    migrations=Path("/nonexistent"),
    default_port=0,
    route_handlers=(list_things,),
)


@pytest.fixture
async def client(settings: ServiceSettings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    env = as_environ(settings) | own_metrics_port()
    app = create_service_app(DEFINITION, load_settings(ServiceSettings, environ=env))
    async with AsyncTestClient(app) as c:
        yield c


async def test_a_misspelt_query_parameter_is_a_400_naming_it(
    client: AsyncTestClient[Litestar],
) -> None:
    answer = await client.get("/v1/things/a?specialy=cardiology&per_page=2&zz=1")

    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith(PROBLEM)
    problem = answer.json()
    assert [e["field"] for e in problem["errors"]] == ["query.specialy", "query.zz"]
    assert "per_page, specialty" in problem["errors"][0]["message"]
    assert "query.specialy" in problem["detail"]


async def test_declared_query_parameters_and_those_of_dependencies_pass(
    client: AsyncTestClient[Litestar],
) -> None:
    answer = await client.get("/v1/things/a?specialty=cardiology&per_page=2")

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"kind": "a", "size": 2, "specialty": "cardiology"}
    # A route that takes no query parameter names none as allowed.
    probe = await client.get("/health/live?verbose=1")
    assert probe.status_code == 400
    assert probe.json()["errors"] == [
        {"field": "query.verbose", "message": "unknown query parameter"}
    ]
