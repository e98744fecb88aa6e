"""Email over SMTP with aiosmtplib: implicit TLS, STARTTLS or plain (a local catcher),
authentication when configured, the sender and reply-to from the settings.

Each message carries `Message-ID: <notification id@sender's domain>`: a send repeated after a
crash (sent, not yet recorded) is the same message to the receiving side."""

from __future__ import annotations

from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, EmailPolicy
from email.utils import formatdate, parseaddr
from typing import Any, Literal

import aiosmtplib
import msgspec

from services.notifications.delivery.failure import DeliveryFailed
from services.notifications.domain.bounces import return_path
from services.notifications.domain.model import Composed
from services.notifications.rendering import Rendered

Security = Literal["none", "starttls", "tls"]


class SmtpConfig(msgspec.Struct, frozen=True, kw_only=True):
    host: str
    port: int
    security: Security
    # PEM CA certificates to trust for the server's certificate; empty: the system's.
    ca_file: str = ""
    username: str = ""
    password: str = ""
    sender: str
    reply_to: str = ""
    timeout: float = 30.0
    # The envelope sender's base (`bounces@domain`): each message returns to
    # `bounces+<notification id>@domain` (VERP); empty: the sender's address.
    bounce_address: str = ""


class _WordSafeSubject(EmailPolicy):
    """The SMTP policy, but the subject is folded the way `email.header` does it. The modern
    folder of Python 3.11 drops the space where it splits a line between two encoded words
    ("трансфер з" arrived as "трансферз"), and puts a long unbroken subject (one with an id)
    on a line of its own, so it arrived with a leading space."""

    def fold(self, name: str, value: Any) -> str:
        if name.lower() == "subject":
            text = str(value)
            charset = "us-ascii" if text.isascii() else "utf-8"
            encoded = Header(text, charset, header_name=name).encode(linesep=self.linesep)
            return f"{name}: {encoded}{self.linesep}"
        folded: str = super().fold(name, value)
        return folded

    def fold_binary(self, name: str, value: Any) -> bytes:
        if name.lower() == "subject":
            return self.fold(name, value).encode("ascii")
        folded: bytes = super().fold_binary(name, value)
        return folded


WIRE = _WordSafeSubject(**SMTP.__dict__)


def message_id(notification_id: str, sender: str) -> str:
    _, address = parseaddr(sender)
    domain = address.rpartition("@")[2] or "carebridge.invalid"
    return f"<{notification_id}@{domain}>"


def build(config: SmtpConfig, message: Composed, rendered: Rendered) -> EmailMessage:
    email = EmailMessage()
    email["Message-ID"] = message_id(message.notification_id, config.sender)
    email["Date"] = formatdate(localtime=False)
    email["From"] = config.sender
    email["To"] = Address(addr_spec=message.to)
    if config.reply_to:
        email["Reply-To"] = config.reply_to
    email["Subject"] = rendered.subject
    # Automated: auto-responders and vacation replies should not answer it (RFC 3834).
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(rendered.text)
    email.add_alternative(rendered.html, subtype="html")
    # After the parts: setting content clears the Content-* headers set before it.
    email["Content-Language"] = rendered.language
    return email


class EmailSender:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def send(self, message: Composed, rendered: Rendered) -> None:
        config = self.config
        try:
            await aiosmtplib.send(
                # Flattened here: aiosmtplib would flatten with the stock SMTP policy.
                build(config, message, rendered).as_bytes(policy=WIRE),
                sender=(
                    return_path(config.bounce_address, message.notification_id)
                    if config.bounce_address
                    else parseaddr(config.sender)[1]
                ),
                recipients=[message.to],
                hostname=config.host,
                port=config.port,
                username=config.username or None,
                password=config.password or None,
                use_tls=config.security == "tls",
                start_tls=config.security == "starttls",
                cert_bundle=config.ca_file or None,
                timeout=config.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryFailed(
                permanent=all(code >= 500 for code in codes),
                summary=f"smtp {min(codes)} recipient refused",
                reply="; ".join(f"{r.code} {r.message}" for r in exc.recipients),
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            # Only a refusal of this message is its own fault: a refused login, sender or
            # greeting is the configuration's, which an operator fixes, and the message waits.
            message_refused = isinstance(
                exc, aiosmtplib.SMTPDataError | aiosmtplib.SMTPRecipientRefused
            )
            raise DeliveryFailed(
                permanent=message_refused and exc.code >= 500,
                summary=f"smtp {exc.code} {type(exc).__name__}",
                reply=f"{exc.code} {exc.message}",
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # Connection refused, timed out, dropped, TLS failed: the provider is away, the
            # message is fine. Never permanent.
            raise DeliveryFailed(permanent=False, summary=f"smtp {type(exc).__name__}") from None
