"""Typed settings read once from the environment; a bad value names its variable."""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import msgspec

if TYPE_CHECKING:
    # Only named in a return type: core stays below privacy, which builds the rings.
    from services.runtime.privacy.crypto import KeyRing

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]
DatabaseUrl = Annotated[str, msgspec.Meta(pattern=r"^postgres(ql)?://\S+$")]
# One server, or the nodes of a cluster separated by commas (the client fails over between them).
NatsUrl = Annotated[str, msgspec.Meta(pattern=r"^(nats|tls)://[^\s,]+(,(nats|tls)://[^\s,]+)*$")]
# A NATS subject prefix for a client's inboxes, such as `_INBOX_rhein-shuttle`.
InboxPrefix = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")]
Namespace = Annotated[str, msgspec.Meta(pattern=r"^([a-z][a-z0-9]{0,30})?$")]
# The header the operator's proxies write. One, not either: a client can always add the other
# one, and its right-most entry would then be the client's own invention.
ForwardedHeader = Literal["x-forwarded-for", "forwarded"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Limit = Annotated[int, msgspec.Meta(ge=0)]


class ServiceSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    """What every service needs. Field `database_url` is read from `DATABASE_URL`, and so on."""

    database_url: DatabaseUrl
    nats_url: NatsUrl = "nats://127.0.0.1:4222"
    host: str = "127.0.0.1"
    port: Port
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"
    # Prefix for every subject and stream name: isolates test runs and tenants sharing one NATS.
    nats_namespace: Namespace = ""
    # The CA that signed the NATS servers' certificates, when not a public one (tls:// URLs).
    nats_tls_ca_file: str = ""
    db_pool_min: PositiveInt = 2
    db_pool_max: PositiveInt = 10
    relay_batch_size: PositiveInt = 256
    relay_poll_interval: PositiveFloat = 1.0
    consumer_batch_size: PositiveInt = 64
    consumer_max_deliver: PositiveInt = 5
    consumer_ack_wait: PositiveFloat = 30.0
    shutdown_grace: PositiveFloat = 10.0
    # Seconds between SIGTERM and closing the listener, while /health/ready answers 503 so
    # load balancers stop routing here first. 0 (local runs) stops at once.
    shutdown_delay: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    # Replicas of the streams a service declares (3 on a NATS cluster); existing streams are
    # never lowered below what they have.
    nats_stream_replicas: Annotated[int, msgspec.Meta(ge=1, le=5)] = 1
    # Bytes each stream may hold (0: bounded only by the server's JetStream storage). JetStream
    # reserves it per stream, so streams x replicas x this must fit the nodes' disks.
    nats_stream_max_bytes: Annotated[int, msgspec.Meta(ge=0)] = 0
    # Requests a minute per client address without an API key (0: no limit). Keys carry their
    # own limit.
    anonymous_rate_limit: Limit = 600
    # Requests a minute per client address with one publishable key (a visitor of a site's
    # pages), besides the key's own limit: one visitor cannot spend a site's quota. 0: no limit.
    visitor_rate_limit: Limit = 120
    # Requests a minute per staff token, and per patient access token (one inquiry): staff and
    # patients never share the anonymous callers' buckets, so a burst from an address costs
    # them nothing. 0: no limit.
    staff_rate_limit: Limit = 1200
    patient_rate_limit: Limit = 120
    # Requests a minute per client address whose bearer token was refused (401): guessing
    # tokens costs a lookup each, so it has a budget of its own. 0: no limit.
    auth_failure_rate_limit: Limit = 60
    # Proxies (CIDRs or addresses, comma-separated) whose forwarding header names the client:
    # only a request whose socket peer is one of them has the header read, and then its
    # right-most address no trusted proxy wrote is the client. Empty: the peer is the client.
    trusted_proxies: str = ""
    # Which header those proxies write (RFC 7239 `forwarded` or `x-forwarded-for`).
    forwarded_header: ForwardedHeader = "x-forwarded-for"
    # Seconds a replica serves from its snapshot of API keys before reading them again: how long
    # a new or revoked key takes to count.
    api_key_refresh: PositiveFloat = 5.0
    # Largest request body accepted, in bytes; larger ones get 413 before they are read whole.
    request_max_body: PositiveInt = 1_048_576
    # The port of the metrics listener (GET /metrics), apart from the API's: unset, the API's
    # port + 1000; 0: no listener. The API port never serves /metrics.
    metrics_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] | None = None
    # Bytes of a message a dead letter keeps; a larger one is stored truncated with its size
    # and SHA-256 (and cannot be replayed), so no sender can fill the table with big messages.
    dead_letter_max_payload: PositiveInt = 65_536
    # One structured line per HTTP request (method, route template, status, duration, bytes,
    # request and trace id), and the share of cached reads answered by the fast path that get
    # one: a line costs more than such a read.
    access_log: bool = True
    access_log_sample_cached: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.01

    def outbox_keys(self) -> KeyRing | None:
        """The key ring that seals outbox rows naming a person; a service holding personal
        data returns its own."""
        return None

    @property
    def metrics_listen_port(self) -> int:
        """The metrics listener's port; 0 for none."""
        if self.metrics_port is not None:
            return self.metrics_port
        return self.port + 1000 if self.port + 1000 <= 65535 else 0

    def trusted_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    def __post_init__(self) -> None:
        check_ca_file(self.nats_tls_ca_file)
        parse_networks(self.trusted_proxies)
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("DB_POOL_MIN is invalid: it is larger than DB_POOL_MAX")


def parse_networks(text: str) -> tuple[Network, ...]:
    """`TRUSTED_PROXIES`: CIDRs (or single addresses) separated by commas; ValueError names the
    first one that is not."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"TRUSTED_PROXIES is invalid: {item!r} is not an address or CIDR"
            ) from None
    return tuple(networks)


def check_ca_file(path: str) -> None:
    """A named CA file must be there at start, not at the first reconnect."""
    if path and not os.path.isfile(path):
        raise ValueError(f"NATS_TLS_CA_FILE is invalid: {path} is not a file")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the environment variable."""


# Any settings Struct named for its variables (rename="upper"): services and standalone clients.
S = TypeVar("S", bound=msgspec.Struct)

_PATH = re.compile(r" - at `\$\.(\w+)`$")
_MISSING = re.compile(r"^Object missing required field `(\w+)`")


def load_settings(cls: type[S], environ: Mapping[str, str] | None = None, **defaults: Any) -> S:
    """Build `cls` from the environment; `defaults` fill fields the environment leaves unset.

    Any setting can come from a file instead, named by `<NAME>_FILE` (as Docker and Kubernetes
    mount secrets), so secrets need not sit in the environment; the variable itself wins."""
    env = os.environ if environ is None else environ
    names = {f.encode_name for f in msgspec.structs.fields(cls)}
    raw: dict[str, Any] = {k.upper(): v for k, v in defaults.items()}
    raw.update(
        {name: _from_file(name, env[f"{name}_FILE"]) for name in names if env.get(f"{name}_FILE")}
    )
    raw.update({name: env[name] for name in names if env.get(name, "") != ""})
    try:
        return msgspec.convert(raw, type=cls, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(str(exc))) from None


def _from_file(name: str, path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            # A trailing newline is an artefact of how the file was written, not of the value.
            return handle.read().rstrip("\r\n")
    except OSError as exc:
        raise SettingsError(f"{name}_FILE is invalid: cannot read {path}: {exc.strerror}") from None


def load_settings_or_exit(cls: type[S], **defaults: Any) -> S:
    """For entrypoints: a bad setting ends the process with status 2 and one clear line."""
    try:
        return load_settings(cls, **defaults)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _explain(message: str) -> str:
    if missing := _MISSING.match(message):
        return f"{missing.group(1)} is required but not set"
    if path := _PATH.search(message):
        return f"{path.group(1)} is invalid: {message[: path.start()]}"
    return message


def as_environ(settings: msgspec.Struct) -> dict[str, str]:
    """`settings` as the environment that would build them again: each value under its
    variable's name (a field's encoded name, which a service may set apart from the field's)."""
    return {
        field.encode_name: str(value)
        for field in msgspec.structs.fields(settings)
        # None is what an unset variable gives.
        if (value := getattr(settings, field.name)) is not None
    }
