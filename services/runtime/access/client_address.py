"""The address an anonymous caller is limited by: the socket's peer, or, when that peer is one of
the operator's trusted proxies (`TRUSTED_PROXIES`), the right-most address in the forwarding
header that no trusted proxy wrote.

Right-most, not left-most: every proxy appends the address it saw, so everything left of the
first untrusted hop was written by the client itself and proves nothing. A header from a peer
that is not a trusted proxy is never read at all, so a client cannot choose its own bucket."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from litestar.types import Scope

from services.runtime.core.settings import ForwardedHeader, Network

# Addresses whose trust was decided, so a request pays a dict lookup, not a parse; bounded, as
# forwarded hops are written by clients.
_MAX_DECIDED = 4096


class ClientAddresses:
    """Finds a request's client address; with no trusted proxy, that is the socket's peer."""

    def __init__(self, trusted: Iterable[Network], header: ForwardedHeader) -> None:
        self._networks = tuple(trusted)
        self._header = header.encode()
        self._decided: dict[str, bool] = {}

    def of(self, scope: Scope) -> str:
        client = scope.get("client")
        peer = client[0] if client else "unknown"
        # The common case costs one test: no proxies configured, or a direct caller.
        if not self._networks or not self._trusted(peer):
            return peer
        hops = self._hops(scope["headers"])
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop
        # Every hop is a trusted proxy: the one furthest away is the nearest thing to a client.
        return hops[0] if hops else peer

    def _trusted(self, address: str) -> bool:
        found = self._decided.get(address)
        if found is None:
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                found = False  # "unknown", an obfuscated id: never a proxy of ours
            else:
                found = any(ip in network for network in self._networks)
            if len(self._decided) >= _MAX_DECIDED:
                self._decided.clear()
            self._decided[address] = found
        return found

    def _hops(self, headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
        """Every hop of every field of the header, in order: a proxy may append a field of its
        own rather than extend the client's."""
        hops: list[str] = []
        for name, value in headers:
            if name != self._header:
                continue
            for element in value.decode("latin-1").split(","):
                hop = _forwarded_for(element) if self._header == b"forwarded" else element.strip()
                if hop:
                    hops.append(hop)
        return hops


def _forwarded_for(element: str) -> str:
    """The node of an RFC 7239 element's `for=` parameter, without quotes, brackets or port."""
    for pair in element.split(";"):
        name, _, value = pair.strip().partition("=")
        if name.lower() != "for":
            continue
        node = value.strip().strip('"')
        if node.startswith("["):  # [v6]:port
            return node[1:].partition("]")[0]
        if node.count(":") == 1:  # v4:port
            return node.partition(":")[0]
        return node
    return ""
