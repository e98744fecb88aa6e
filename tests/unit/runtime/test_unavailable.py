"""A peer that did not answer is a 503 with the caller's Retry-After, never a 500 or a 422."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.testing import TestClient

from services.runtime.core.errors import Unavailable
from services.runtime.http.problems import EXCEPTION_HANDLERS


@get("/export", sync_to_thread=False)
def export() -> None:
    raise Unavailable("logistics did not answer; nothing was exported, try again", retry_after=10)


def test_an_unavailable_peer_is_a_503_naming_what_was_not_done_with_retry_after() -> None:
    app = Litestar([export], exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app) as client:
        answer = client.get("/export")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "10"
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["detail"] == "logistics did not answer; nothing was exported, try again"
