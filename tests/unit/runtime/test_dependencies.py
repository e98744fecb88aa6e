"""Dependencies that never wait are resolved in the request's own task, not in a task group per
request (services/runtime/http/dependencies.py); any that can wait keep Litestar's way."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from litestar import get
from litestar.di import NamedDependency, Provide
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from deploy.api_documents import offline_app
from deploy.stack.runner import DEFINITIONS
from services.runtime.http.asgi import ServiceApp
from services.runtime.http.dependencies import InRequestTask, never_waits
from services.runtime.service.definition import ServiceDefinition

# Every dependency here hands over a task name.
Named = NamedDependency[str]


def _task_name() -> str:
    return asyncio.current_task().get_name()  # type: ignore[union-attr]


def _also_task_name() -> str:  # Litestar refuses one provider under two names
    return _task_name()


async def _async_task_name() -> str:
    return _task_name()


def _generator() -> Iterator[str]:
    yield _task_name()


def _refuse() -> str:
    raise ValueError("no clock today")


@get("/plain", sync_to_thread=False)
def plain(first: Named, second: Named, third: Named) -> dict[str, str]:
    return {"handler": _task_name(), "first": first, "second": second, "third": third}


@get("/waiting", sync_to_thread=False)
def waiting(first: Named, waits: Named) -> dict[str, str]:
    return {"handler": _task_name(), "first": first, "waits": waits}


@get("/refused", sync_to_thread=False)
def refused(first: Named, broken: Named) -> dict[str, str]:
    return {"first": first, "broken": broken}


def _app() -> ServiceApp:
    return ServiceApp(
        route_handlers=[plain, waiting, refused],
        dependencies={
            "first": Provide(_task_name, sync_to_thread=False),
            "second": Provide(_also_task_name, sync_to_thread=False),
            "third": Provide(_generator),
            "waits": Provide(_async_task_name),
            "broken": Provide(_refuse, sync_to_thread=False),
        },
        complete_document=lambda *_: None,
    )


async def test_plain_dependencies_run_in_the_request_task() -> None:
    async with AsyncTestClient(_app()) as client:
        answer = (await client.get("/plain")).json()
    # A function and a generator, resolved together without a task group of their own.
    assert answer["first"] == answer["second"] == answer["third"] == answer["handler"]


async def test_a_dependency_that_can_wait_keeps_the_task_group() -> None:
    async with AsyncTestClient(_app()) as client:
        answer = (await client.get("/waiting")).json()
    assert answer["waits"] != answer["handler"]
    assert answer["first"] != answer["handler"]


async def test_a_failing_dependency_is_the_same_server_error() -> None:
    async with AsyncTestClient(_app()) as client:
        answer = await client.get("/refused")
    assert answer.status_code == 500


async def test_routes_registered_after_the_app_are_resolved_the_same_way() -> None:
    app = _app()

    @get("/later", sync_to_thread=False)
    def later(first: Named, second: Named) -> dict[str, str]:
        return {"handler": _task_name(), "first": first, "second": second}

    app.register(later)
    async with AsyncTestClient(app) as client:
        answer = (await client.get("/later")).json()
    assert answer["first"] == answer["second"] == answer["handler"]


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.name)
def test_every_service_handler_with_plain_dependencies_skips_the_task_group(
    definition: ServiceDefinition,
) -> None:
    app = offline_app(definition)
    models = [
        model
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for _, model in route.route_handler_map.values()
        if sum(map(len, model.dependency_batches)) > 1
    ]
    for model in models:
        plain = all(never_waits(d) for batch in model.dependency_batches for d in batch)
        assert isinstance(model, InRequestTask) == plain


def test_the_content_search_skips_the_task_group() -> None:
    """A handler that takes the runtime and the service's cache: the case measured."""
    app = offline_app(next(d for d in DEFINITIONS if d.name == "content"))
    (route,) = [r for r in app.routes if r.path == "/v1/search"]
    _, model = route.route_handler_map["GET"]  # type: ignore[union-attr]
    assert sum(map(len, model.dependency_batches)) == 2
    assert isinstance(model, InRequestTask)
