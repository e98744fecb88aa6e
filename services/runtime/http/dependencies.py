"""Dependencies that are plain functions resolved in the request's own task.

Litestar resolves the dependencies of a handler in batches, and a batch of two or more in an
anyio task group: two new tasks, a cancel scope and their scheduling for every request
(litestar-org/litestar#4563, open for 2.25: two empty dependencies cost a handler about a third
of its rate). Our services' dependencies hand over objects the app already holds (the runtime,
a cache, a clock): plain functions that never wait, so running them together gains nothing. A
handler whose dependencies are all such functions has them called one after the other instead;
one with a dependency that can wait (a coroutine, or a function sent to a thread) keeps the task
group. On content's uncached search this took 40-130 us of a request's 500-700 us of CPU
(docs/performance.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar._kwargs import KwargsModel
from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar.routes import HTTPRoute

if TYPE_CHECKING:
    from collections.abc import Iterable

    from litestar._kwargs.dependencies import DependencyContainer
    from litestar.connection import ASGIConnection


def never_waits(dependency: DependencyContainer) -> bool:
    """A plain function called in the event loop (a generator too), which cannot yield to it."""
    provide = dependency.provide
    return provide.has_sync_callable and not provide.sync_to_thread


class InRequestTask(KwargsModel):
    """Litestar's model of a handler's parameters, for a handler whose dependencies all never
    wait; same slots, so an instance's class can be swapped once the framework made it."""

    __slots__ = ()

    async def resolve_dependencies(
        self, connection: ASGIConnection[Any, Any, Any, Any], kwargs: dict[str, Any]
    ) -> DependencyCleanupGroup:
        cleanup_group = DependencyCleanupGroup()
        # Batches in order: a later batch's functions take the values of earlier ones.
        for batch in self.dependency_batches:
            for dependency in batch:
                await resolve_dependency(dependency, connection, kwargs, cleanup_group)
        return cleanup_group


def resolve_in_request_task(routes: Iterable[object]) -> None:
    """Give the model above to every HTTP handler whose dependencies all never wait
    (idempotent: run after each registration, which makes the models of the routes it adds)."""
    for route in routes:
        if not isinstance(route, HTTPRoute):
            continue
        for _, model in route.route_handler_map.values():
            batches = model.dependency_batches
            if type(model) is KwargsModel and all(never_waits(d) for b in batches for d in b):
                model.__class__ = InRequestTask
