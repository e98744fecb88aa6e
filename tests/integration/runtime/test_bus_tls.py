"""NATS over TLS: a service trusts the servers through the CA named by NATS_TLS_CA_FILE, and
nothing connects without it, in clear or with an unknown certificate."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from contracts.registry import STREAMS
from deploy.embedded import free_port, start_nats
from services.runtime.core.settings import ServiceSettings, SettingsError, load_settings
from services.runtime.messaging.bus import Bus


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A private CA and a certificate it signs for 127.0.0.1: (ca, server cert, server key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Carebridge test CA"))
        .issuer_name(_name("Carebridge test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("nats"))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.crt", folder / "server.crt", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    _write_key(server_key, paths[2])
    return paths


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """(port, CA file, another CA's file) of a nats-server that speaks TLS only."""
    folder = tmp_path_factory.mktemp("tls")
    ca, cert, key = make_certificates(folder)
    # A second, unrelated CA: its certificates must not be trusted in place of ours.
    stranger = tmp_path_factory.mktemp("stranger")
    other_ca, _, _ = make_certificates(stranger)
    config = folder / "nats.conf"
    config.write_text(f'tls {{ cert_file: "{cert}", key_file: "{key}" }}\n')
    port = free_port()
    server = start_nats(folder / "data", port, config=config)
    try:
        yield str(port), ca, other_ca
    finally:
        server.stop()


async def test_a_service_trusts_the_servers_through_the_named_ca(
    tls_server: tuple[str, Path, Path],
) -> None:
    port, ca, _ = tls_server
    bus = await Bus.connect(
        f"tls://127.0.0.1:{port}", name="tls-test", namespace="tls", tls_ca_file=str(ca)
    )
    try:
        await bus.provision(STREAMS)
        ack = await bus.js.publish(bus.subject("content.condition.published.v1"), b"{}")
        assert ack.stream == bus.stream("CONTENT")
    finally:
        await bus.close()


@pytest.mark.parametrize("how", ["in clear", "another CA", "no CA"])
async def test_nothing_connects_in_clear_or_without_trusting_the_ca(
    tls_server: tuple[str, Path, Path], how: str
) -> None:
    port, _, other_ca = tls_server
    url, ca = {
        "in clear": (f"nats://127.0.0.1:{port}", ""),
        "another CA": (f"tls://127.0.0.1:{port}", str(other_ca)),
        "no CA": (f"tls://127.0.0.1:{port}", ""),
    }[how]
    with pytest.raises(ConnectionError):
        await Bus.connect(url, name="tls-test", tls_ca_file=ca, first_connect_timeout=2.0)


def test_a_missing_ca_file_stops_the_service_naming_the_variable(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": "postgresql://carebridge@db/carebridge",
        "NATS_TLS_CA_FILE": str(tmp_path / "missing.crt"),
    }
    with pytest.raises(SettingsError, match=r"^NATS_TLS_CA_FILE is invalid: .* is not a file"):
        load_settings(ServiceSettings, environ=env, port=8001)
