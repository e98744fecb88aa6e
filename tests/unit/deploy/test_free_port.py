"""Ports for embedded servers: free, never handed out twice, and outside the range the kernel
gives outgoing connections, so nothing else takes one between the pick and the bind."""

from __future__ import annotations

import socket

import pytest

from deploy import embedded
from deploy.embedded import _ephemeral_range, free_port


def test_ports_are_free_distinct_and_below_the_ephemeral_range() -> None:
    low, _ = _ephemeral_range()
    ports = [free_port() for _ in range(300)]

    assert len(set(ports)) == len(ports)
    assert all(1024 < p < low for p in ports)
    for port in ports[:20]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_each_xdist_worker_picks_from_a_slice_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    low, _ = _ephemeral_range()
    picked = {}
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "3")
        picked[worker] = [free_port() for _ in range(50)]
    width = (low - 10_000) // 3
    for n, worker in enumerate(("gw0", "gw1", "gw2")):
        start = 10_000 + n * width
        assert all(start <= p < start + width for p in picked[worker]), worker


def test_a_reserved_port_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    # A range of four ports, three of them named by whoever started this process.
    monkeypatch.setattr(embedded, "_HANDED_OUT", set())
    monkeypatch.setattr(embedded, "_share", lambda *_: (40_000, 40_004))
    monkeypatch.setattr(embedded, "port_is_free", lambda _: True)
    embedded.reserve([40_000, 40_001, 40_003])

    assert free_port() == 40_002
    with pytest.raises(embedded.ServerError, match="no free port"):
        free_port()
