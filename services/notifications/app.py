"""Wiring of the notifications service."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from litestar import Litestar

from contracts.notifications import (
    ContactChannel,
    ContactReply,
    ContactRequest,
    contact_reply_decoder,
)
from contracts.registry import CONTACT
from services.notifications import consumers
from services.notifications.api import bounces
from services.notifications.api.deliveries import NotificationController
from services.notifications.delivery.email import EmailSender, SmtpConfig
from services.notifications.delivery.sms import ProviderSms, SmsApiConfig, SmsSink
from services.notifications.domain.decisions import LANGUAGES
from services.notifications.rendering import SUPPORT_URL, Templates
from services.notifications.usecases import Notifying, Retries, Send
from services.runtime.core.settings import Port, PositiveFloat, PositiveInt
from services.runtime.messaging.request_reply import ask
from services.runtime.privacy.sealing import SealingSettings, sealing_fields
from services.runtime.service.definition import ServiceDefinition
from services.runtime.service.factory import BackgroundLoop, create_service_app
from services.runtime.service.heap import set_aside_after_startup
from services.runtime.service.running import Runtime

Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
# "Name <address>" or a bare address.
Mailbox = Annotated[str, msgspec.Meta(pattern=r"^([^<>\r\n]*<)?[^@\s<>]+@[^@\s<>]+>?$")]
StatusUrl = Annotated[str, msgspec.Meta(pattern=r"^https?://\S*\{inquiry_id\}\S*$")]
# A bare address whose local part holds no "+" (the message id follows one), or empty.
BounceAddress = Annotated[str, msgspec.Meta(pattern=r"^([^@\s+<>]+@[^@\s<>]+\.[^@\s<>]+)?$")]
SupportUrl = Annotated[
    str, msgspec.Meta(pattern=r"^https?://(?=\S*\{inquiry_id\})(?=\S*\{case_id\})\S*$")
]


class NotificationsSettings(SealingSettings, frozen=True, kw_only=True, rename="upper"):
    encryption_keys: str = sealing_fields("notifications").keys
    active_key: str = sealing_fields("notifications").active
    # Where staff alerts go (unassigned bookings, partner incidents, failed messages).
    notifications_oncall_email: Email
    # The patient's status page; `{inquiry_id}` is replaced. Never carries the access token.
    notifications_status_url: StatusUrl = "http://127.0.0.1:3000/status?inquiry={inquiry_id}"
    # Where the patient reads a support case (its thread) with their access token;
    # `{inquiry_id}` and `{case_id}` are replaced. Never carries the token.
    notifications_support_url: SupportUrl = SUPPORT_URL
    notifications_staff_language: Literal["en", "de", "uk", "ru", "ar"] = "en"
    # The SMTP server: "tls" (implicit, usually 465), "starttls" (usually 587) or "none" (a
    # local catcher only).
    notifications_smtp_host: str = "127.0.0.1"
    notifications_smtp_port: Port = 587
    notifications_smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    # PEM CA certificates that sign the SMTP server's certificate (a private CA), trusted
    # instead of the system's; empty: the system's. The host name is verified either way.
    notifications_smtp_ca_file: str = ""
    notifications_smtp_username: str = ""
    # Never logged.
    notifications_smtp_password: str = ""
    notifications_smtp_timeout: PositiveFloat = 30.0
    notifications_sender: Mailbox = "Carebridge <noreply@carebridge.example>"
    notifications_reply_to: str = ""
    # Bounces after acceptance: messages go out with the return path
    # `<local>+<notification id>@<domain>` of this address (VERP), and, when the port is set, an
    # SMTP listener takes the delivery-status reports the operator's MX relays for it.
    notifications_bounce_address: BounceAddress = ""
    notifications_bounce_host: str = "127.0.0.1"
    notifications_bounce_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    # The sender loop: how often it looks for due messages, how many it takes at once.
    notifications_send_interval: PositiveFloat = 1.0
    notifications_send_batch: PositiveInt = 20
    # Retries of a provider error: first after this many seconds, doubling to the cap; after
    # max attempts the message fails and on-call is told.
    notifications_retry_base: PositiveFloat = 30.0
    notifications_retry_cap: PositiveFloat = 3600.0
    notifications_max_attempts: PositiveInt = 12
    # Seconds a replica holds a message it is sending: longer than an SMTP exchange can take.
    notifications_lease: PositiveFloat = 120.0
    # Seconds to wait for inquiries' answer with a patient's contact.
    notifications_contact_timeout: PositiveFloat = 5.0
    # SMS to patients who agreed to it: "none" (email only), "api" (a provider's HTTP API in the
    # shape of Twilio's Messages API, at URL with account and key) or "sink" (JSON files in
    # NOTIFICATIONS_SMS_DIR: the local stack).
    notifications_sms: Literal["none", "api", "sink"] = "none"
    notifications_sms_url: str = ""
    notifications_sms_account: str = ""
    # Never logged.
    notifications_sms_key: str = ""
    # The sending number (E.164) or alphanumeric sender id.
    notifications_sms_sender: str = ""
    notifications_sms_dir: str = ".stack/sms"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.notifications_lease <= self.notifications_smtp_timeout:
            raise ValueError(
                "NOTIFICATIONS_LEASE is invalid: it must be longer than NOTIFICATIONS_SMTP_TIMEOUT"
            )
        if self.notifications_smtp_ca_file and not os.path.isfile(self.notifications_smtp_ca_file):
            raise ValueError(
                f"NOTIFICATIONS_SMTP_CA_FILE is invalid: {self.notifications_smtp_ca_file} is not "
                "a file"
            )
        if self.notifications_bounce_port and not self.notifications_bounce_address:
            raise ValueError(
                "NOTIFICATIONS_BOUNCE_ADDRESS is required when NOTIFICATIONS_BOUNCE_PORT is set"
            )
        if self.notifications_sms == "api":
            for name in ("url", "account", "key", "sender"):
                if not getattr(self, f"notifications_sms_{name}"):
                    variable = f"NOTIFICATIONS_SMS_{name.upper()}"
                    raise ValueError(f"{variable} is required when NOTIFICATIONS_SMS=api")
            if not self.notifications_sms_url.startswith(("https://", "http://")):
                raise ValueError("NOTIFICATIONS_SMS_URL is invalid: it must be an http(s) URL")

    def sms(self) -> ProviderSms | SmsSink | None:
        """The SMS channel, made by the sender loop that uses and closes it."""
        match self.notifications_sms:
            case "api":
                return ProviderSms(
                    SmsApiConfig(
                        url=self.notifications_sms_url,
                        account=self.notifications_sms_account,
                        key=self.notifications_sms_key,
                        sender=self.notifications_sms_sender,
                        timeout=self.notifications_smtp_timeout,
                    )
                )
            case "sink":
                return SmsSink(Path(self.notifications_sms_dir))
            case "none":
                return None

    def smtp(self) -> SmtpConfig:
        return SmtpConfig(
            host=self.notifications_smtp_host,
            port=self.notifications_smtp_port,
            security=self.notifications_smtp_security,
            ca_file=self.notifications_smtp_ca_file,
            username=self.notifications_smtp_username,
            password=self.notifications_smtp_password,
            sender=self.notifications_sender,
            reply_to=self.notifications_reply_to,
            timeout=self.notifications_smtp_timeout,
            bounce_address=self.notifications_bounce_address,
        )

    def retries(self) -> Retries:
        return Retries(
            base=timedelta(seconds=self.notifications_retry_base),
            cap=timedelta(seconds=self.notifications_retry_cap),
            max_attempts=self.notifications_max_attempts,
            lease=timedelta(seconds=self.notifications_lease),
        )


DEFINITION = ServiceDefinition(
    name="notifications",
    title="Carebridge notifications API",
    description=(
        "Messages to patients and staff, by email, in their language, once: what was sent, "
        f"is pending or failed. Templates in {', '.join(LANGUAGES)}."
    ),
    default_port=8005,
    migrations=Path(__file__).parent / "migrations",
    route_handlers=(NotificationController,),
    settings_type=NotificationsSettings,
)


def create_app(settings: NotificationsSettings) -> Litestar:
    keys = settings.key_ring()
    templates = Templates(
        status_url=settings.notifications_status_url,
        support_url=settings.notifications_support_url,
    )
    email = EmailSender(settings.smtp())

    def senders(sms: ProviderSms | SmsSink | None) -> dict[ContactChannel, Send]:
        channels: dict[ContactChannel, Send] = {"email": email.send}
        if sms is not None:
            channels["sms"] = sms.send
        return channels

    def notifying(runtime: Runtime, sms: ProviderSms | SmsSink | None) -> Notifying:
        async def contact(inquiry_id: str, token_reissue_id: str | None) -> ContactReply:
            return await ask(
                runtime.bus,
                CONTACT,
                ContactRequest(inquiry_id=inquiry_id, token_reissue_id=token_reissue_id),
                contact_reply_decoder,
                timeout=settings.notifications_contact_timeout,
            )

        return Notifying(
            pool=runtime.pool,
            outbox=runtime.outbox,
            keys=keys,
            templates=templates,
            contact=contact,
            senders=senders(sms),
            oncall_email=settings.notifications_oncall_email,
            staff_language=settings.notifications_staff_language,
            retries=settings.retries(),
            outcomes=runtime.metrics,
        )

    async def sender(runtime: Runtime, stop: asyncio.Event) -> None:
        sms = settings.sms()
        try:
            run = consumers.sender(
                notifying(runtime, sms),
                interval=settings.notifications_send_interval,
                batch=settings.notifications_send_batch,
            )
            await run(stop)
        finally:
            if sms is not None:
                await sms.close()

    async def bounce_listener(runtime: Runtime, stop: asyncio.Event) -> None:
        await bounces.serve(
            notifying(runtime, None),
            bounce_address=settings.notifications_bounce_address,
            host=settings.notifications_bounce_host,
            port=settings.notifications_bounce_port,
            stop=stop,
        )

    definition = dataclasses.replace(
        DEFINITION, subscriptions=lambda _: consumers.subscriptions(keys)
    )

    async def case_exports(runtime: Runtime, stop: asyncio.Event) -> None:
        await consumers.case_exports(runtime.pool, keys, runtime.bus)(stop)

    background: tuple[tuple[str, BackgroundLoop], ...] = (
        ("sender", sender),
        ("case-exports", case_exports),
    )
    if settings.notifications_bounce_port:
        background += (("bounces", bounce_listener),)
    return create_service_app(definition, settings, background=background)


def app_from_env() -> Litestar:
    """The factory granian calls in each worker."""
    settings = DEFINITION.load_settings()
    if not isinstance(settings, NotificationsSettings):  # settings_type above makes this impossible
        raise TypeError(type(settings))
    return set_aside_after_startup(create_app(settings))
