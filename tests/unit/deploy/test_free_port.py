"""Ports for embedded servers: free, never handed out twice, and outside the range the kernel
gives outgoing connections, so nothing else takes one between the pick and the bind."""

from __future__ import annotations

import socket

from deploy.embedded import _ephemeral_range, free_port


def test_ports_are_free_distinct_and_below_the_ephemeral_range() -> None:
    low, _ = _ephemeral_range()
    ports = [free_port() for _ in range(300)]

    assert len(set(ports)) == len(ports)
    assert all(1024 < p < low for p in ports)
    for port in ports[:20]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
