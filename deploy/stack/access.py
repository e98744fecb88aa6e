"""Who connects to the stack's NATS as whom. The embedded server runs with authorization: one
user per service, one per partner (allowed only its own offers and replies) and an admin for
the stack itself; their passwords are made on first run and kept in secrets.json. External
NATS (NATS_URL) is used as given: its operator configures its users (deploy/nats_auth.py
renders the config)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from deploy.nats_auth import (
    ADMIN,
    SECRETS_KEY,
    SERVICE_SUBJECTS,
    issue_passwords,
    partner_durable,
    partner_inbox_prefix,
    render_config,
    user_url,
    write_config,
)


@dataclass(frozen=True)
class NatsAccess:
    # The URL the stack provisions with, and lists in stack.json for tools.
    admin_url: str
    service_urls: Mapping[str, str]
    partner_urls: Mapping[str, str]
    # `bind` when the stack made each partner's durable consumer and the partner may only read it.
    partner_consumer: Literal["create", "bind"]

    @classmethod
    def open(cls, url: str, services: Iterable[str], partners: Iterable[str]) -> NatsAccess:
        """Everyone on the same URL, as on a server without authorization."""
        return cls(
            admin_url=url,
            service_urls=dict.fromkeys(services, url),
            partner_urls=dict.fromkeys(partners, url),
            partner_consumer="create",
        )

    @classmethod
    def with_passwords(
        cls, url: str, passwords: Mapping[str, str], partners: Iterable[str]
    ) -> NatsAccess:
        return cls(
            admin_url=user_url(url, ADMIN, passwords[ADMIN]),
            service_urls={s: user_url(url, s, passwords[s]) for s in SERVICE_SUBJECTS},
            partner_urls={p: user_url(url, p, passwords[p]) for p in partners},
            partner_consumer="bind",
        )

    def partner_environment(self, partner_id: str) -> dict[str, str]:
        return {
            "NATS_URL": self.partner_urls[partner_id],
            "NATS_INBOX_PREFIX": partner_inbox_prefix(partner_id),
            "PARTNER_CONSUMER": self.partner_consumer,
        }

    def partner_credentials(self) -> dict[str, dict[str, Any]]:
        """stack.json's `credentials.partners`: what a partner process needs to connect."""
        return {
            p: {
                "nats_url": url,
                "inbox_prefix": partner_inbox_prefix(p),
                "durable": partner_durable(p),
            }
            for p, url in self.partner_urls.items()
        }


def prepare_authorization(
    secrets: dict[str, Any],
    partners: Iterable[str],
    namespace: str,
    config: Path,
    pid_file: Path,
) -> dict[str, str]:
    """Issue the passwords `secrets` lacks (stored under "nats") and write the server's config;
    returns every user's password."""
    partner_ids = tuple(partners)
    services = tuple(SERVICE_SUBJECTS)
    passwords = issue_passwords(secrets.get(SECRETS_KEY, {}), (ADMIN, *services, *partner_ids))
    secrets[SECRETS_KEY] = passwords
    rendered = render_config(
        passwords=passwords,
        services=services,
        partners=partner_ids,
        namespace=namespace,
        pid_file=pid_file,
    )
    write_config(config, rendered)
    return passwords
