"""Ports for embedded servers: free, never handed out twice, and outside the range the kernel
gives outgoing connections, so nothing else takes one between the pick and the bind."""

from __future__ import annotations

import socket

import pytest

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
