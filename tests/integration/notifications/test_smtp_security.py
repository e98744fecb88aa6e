"""Email through a real SMTP server that speaks TLS and wants a login, as a provider does:
aiosmtpd with STARTTLS required before AUTH, and with implicit TLS, its certificate signed by a
private CA made here and trusted through NOTIFICATIONS_SMTP_CA_FILE. A refused login is the
configuration's fault: recorded, retried, alerted after the last attempt, and nothing is lost
once the password is right."""

from __future__ import annotations

import ipaddress
import ssl
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from contracts.notifications import NotificationFailed, notification_event_decoder
from deploy.embedded import free_port
from services.notifications.app import NotificationsSettings
from services.runtime.core.settings import (
    ServiceSettings,
    SettingsError,
    as_environ,
    load_settings,
)
from services.runtime.messaging.bus import Bus
from services.runtime.privacy.crypto import KeyRing
from tests.integration.inquiries.casefile import submit
from tests.integration.logistics.conftest import Tap
from tests.integration.notifications.conftest import Client, Mailbox, Start
from tests.integration.notifications.test_notification_delivery import PATIENT, statuses
from tests.support import eventually

LOGIN, PASSWORD = "carebridge", "s3cret-smtp-password"


class Pki:
    """A private CA and the server certificate it signed for 127.0.0.1, as PEM files."""

    def __init__(self, folder: Path) -> None:
        now = datetime.now(UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Carebridge test CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        server = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_file = folder / "ca.pem"
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self.cert_file = folder / "server.pem"
        self.cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
        self.key_file = folder / "server.key"
        self.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


class SecureMailbox(Mailbox):
    """Accepts only over TLS from a client that logged in; remembers how each message came."""

    def __init__(self) -> None:
        super().__init__()
        self.logins: list[tuple[str, bool]] = []  # (login, right password)
        self.arrivals: list[tuple[bool, bool]] = []  # (over TLS, logged in)

    def authenticate(
        self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        self.logins.append((login, password == PASSWORD))
        # Not handled here: the server answers 235 or 535 itself.
        return AuthResult(success=login == LOGIN and password == PASSWORD, handled=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        tls = server.transport.get_extra_info("ssl_object") is not None
        self.arrivals.append((tls, bool(session.authenticated)))
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


def _serve(box: SecureMailbox, pki: Pki, *, implicit: bool) -> Controller:
    common: dict[str, Any] = {
        "hostname": "127.0.0.1",
        "port": free_port(),
        "authenticator": box.authenticate,
    }
    if implicit:
        # The whole connection is TLS; aiosmtpd's auth_require_tls looks at STARTTLS only and
        # would hide AUTH.
        controller = Controller(
            box, ssl_context=pki.server_context(), auth_require_tls=False, **common
        )
    else:
        controller = Controller(
            box,
            tls_context=pki.server_context(),
            require_starttls=True,
            auth_require_tls=True,
            **common,
        )
    controller.start()
    return controller


@pytest.fixture
def starttls(pki: Pki) -> Iterator[tuple[SecureMailbox, int]]:
    box = SecureMailbox()
    controller = _serve(box, pki, implicit=False)
    try:
        yield box, controller.port
    finally:
        controller.stop()


@pytest.fixture
def implicit_tls(pki: Pki) -> Iterator[tuple[SecureMailbox, int]]:
    box = SecureMailbox()
    controller = _serve(box, pki, implicit=True)
    try:
        yield box, controller.port
    finally:
        controller.stop()


def smtp(port: int, security: str, **more: str) -> dict[str, str]:
    return {
        "NOTIFICATIONS_SMTP_PORT": str(port),
        "NOTIFICATIONS_SMTP_SECURITY": security,
        "NOTIFICATIONS_SMTP_USERNAME": LOGIN,
        "NOTIFICATIONS_SMTP_PASSWORD": PASSWORD,
    } | more


async def _kinds(ndb: asyncpg.Connection, inquiry_id: str) -> list[tuple[str, str, int]]:
    return await statuses(ndb, inquiry_id)


async def test_starttls_and_a_login_deliver_once_the_private_ca_is_trusted(
    inquiries: Client,
    start: Start,
    starttls: tuple[SecureMailbox, int],
    pki: Pki,
    ndb: asyncpg.Connection,
) -> None:
    box, port = starttls
    # Without the CA the server's certificate is refused: the message waits, nothing is sent.
    async with start(**smtp(port, "starttls")):
        submitted = await submit(inquiries)
        inquiry_id = submitted["id"]

        async def refused() -> str | None:
            return await ndb.fetchval(  # type: ignore[no-any-return]
                "SELECT last_error FROM notifications WHERE status = 'pending'"
            )

        error = await eventually(refused, timeout=15)
        assert error == "smtp SSLCertVerificationError", error
        assert box.accepted == []
        assert box.logins == []
    # Trusted: over TLS, logged in, once.
    async with start(**smtp(port, "starttls", NOTIFICATIONS_SMTP_CA_FILE=str(pki.ca_file))):

        async def sent() -> bool:
            return [s for _, s, _ in await _kinds(ndb, inquiry_id)] == ["sent"]

        await eventually(sent, timeout=20)
    assert len(box.to(PATIENT)) == 1
    assert box.arrivals == [(True, True)]
    assert box.logins == [(LOGIN, True)]


async def test_implicit_tls_and_a_login_deliver(
    inquiries: Client,
    start: Start,
    implicit_tls: tuple[SecureMailbox, int],
    pki: Pki,
    ndb: asyncpg.Connection,
) -> None:
    box, port = implicit_tls
    async with start(**smtp(port, "tls", NOTIFICATIONS_SMTP_CA_FILE=str(pki.ca_file))):
        submitted = await submit(inquiries)

        async def sent() -> bool:
            return [s for _, s, _ in await _kinds(ndb, submitted["id"])] == ["sent"]

        await eventually(sent, timeout=20)
    assert len(box.to(PATIENT)) == 1
    assert box.arrivals == [(True, True)]


async def test_a_wrong_password_is_recorded_and_retried_and_the_message_goes_once_it_is_fixed(
    inquiries: Client,
    start: Start,
    starttls: tuple[SecureMailbox, int],
    pki: Pki,
    ndb: asyncpg.Connection,
) -> None:
    box, port = starttls
    ca = str(pki.ca_file)
    async with start(
        **smtp(port, "starttls", NOTIFICATIONS_SMTP_CA_FILE=ca, NOTIFICATIONS_SMTP_PASSWORD="nope")
    ):
        submitted = await submit(inquiries)
        inquiry_id = submitted["id"]

        async def retried() -> asyncpg.Record | None:
            return await ndb.fetchrow(
                """SELECT last_error, sealed_reply FROM notifications
                   WHERE status = 'pending' AND attempts >= 2 AND last_error IS NOT NULL"""
            )

        row = await eventually(retried, timeout=20)
        assert row["last_error"] == "smtp 535 SMTPAuthenticationError"
        assert b"nope" not in (row["sealed_reply"] or b"")
        assert box.accepted == []
        assert (LOGIN, False) in box.logins
    async with start(**smtp(port, "starttls", NOTIFICATIONS_SMTP_CA_FILE=ca)):

        async def sent() -> bool:
            return [s for _, s, _ in await _kinds(ndb, inquiry_id)] == ["sent"]

        await eventually(sent, timeout=20)
    assert len(box.to(PATIENT)) == 1


async def test_a_login_refused_to_the_last_attempt_fails_the_message_and_alerts(
    inquiries: Client,
    start: Start,
    starttls: tuple[SecureMailbox, int],
    pki: Pki,
    ndb: asyncpg.Connection,
    bus: Bus,
) -> None:
    box, port = starttls
    tap = Tap(bus, "NOTIFICATIONS", "notifications.notification.>", notification_event_decoder)
    await tap.open()
    async with start(
        **smtp(
            port,
            "starttls",
            NOTIFICATIONS_SMTP_CA_FILE=str(pki.ca_file),
            NOTIFICATIONS_SMTP_PASSWORD="nope",
            NOTIFICATIONS_MAX_ATTEMPTS="2",
        )
    ):
        submitted = await submit(inquiries)
        inquiry_id = submitted["id"]
        [(_, event)] = await tap.until(lambda seen: len(seen) >= 1)
        assert isinstance(event, NotificationFailed)
        assert (event.inquiry_id, event.kind, event.reason) == (
            inquiry_id,
            "inquiry_received",
            "gave up after 2 attempts: smtp 535 SMTPAuthenticationError",
        )
        assert ("inquiry_received", "failed", 2) in await _kinds(ndb, inquiry_id)
        # On-call is told in the same transaction (by the same server, so it waits too).
        alert = await ndb.fetchval(
            "SELECT params->>'failed_kind' FROM notifications WHERE kind = 'notification_failed'"
        )
        assert alert == "inquiry_received"
    assert box.accepted == []
    await tap.close()


def test_a_missing_ca_file_is_refused_at_start_naming_its_variable(
    settings: ServiceSettings, tmp_path: Path
) -> None:
    missing = tmp_path / f"{uuid.uuid4()}.pem"
    with pytest.raises(SettingsError, match="NOTIFICATIONS_SMTP_CA_FILE"):
        load_settings(
            NotificationsSettings,
            environ=as_environ(settings)
            | {
                "NOTIFICATIONS_ENCRYPTION_KEYS": KeyRing.generate_setting("n1"),
                "NOTIFICATIONS_ONCALL_EMAIL": "oncall@carebridge.example",
                "NOTIFICATIONS_SMTP_CA_FILE": str(missing),
            },
        )
