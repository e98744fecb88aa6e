"""A NATS server started with the accounts config deploy/nats_auth.py renders."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deploy.embedded import EmbeddedNats, free_port, start_nats
from deploy.nats_auth import ADMIN, SERVICE_SUBJECTS, issue_passwords, render_config, user_url

# The partners with a user (and an account) of their own on the session's accounts server
# (tests/support/nats_accounts.py): the reference partners the tests run, each reading its
# offers through the durable consumer the admin made.
ACCOUNTS_PARTNERS = ("rhein-shuttle", "medilingua", "ua-courier")


@dataclass
class Server:
    nats: EmbeddedNats
    passwords: dict[str, str]

    def url(self, user: str) -> str:
        return user_url(self.nats.url, user, self.passwords[user])


@contextmanager
def authorized_nats(root: Path, partners: Iterable[str], namespace: str) -> Iterator[Server]:
    """The services, the admin and `partners` as users, each with a fresh password."""
    partner_ids = tuple(partners)
    services = tuple(SERVICE_SUBJECTS)
    passwords = issue_passwords({}, (ADMIN, *services, *partner_ids))
    config = root / "auth.conf"
    config.write_text(
        render_config(
            passwords=passwords, services=services, partners=partner_ids, namespace=namespace
        )
    )
    server = start_nats(root / "data", free_port(), config=config)
    try:
        yield Server(server, passwords)
    finally:
        server.stop()
