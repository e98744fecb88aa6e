"""Who may do what on NATS: an authorization config rendered from the services and the partner
registry, and the durable consumer each partner reads its offers through.

Services are trusted components: each publishes its own domain's subjects and manages the
streams and consumers it runs on. A partner is an outside company: it may read only its own
offers, through the durable consumer Carebridge made for it, and publish only its own replies.
It never gets `$JS.>` (it could read, create or delete any stream or consumer) nor `_INBOX.>`
(it could read every other client's replies, JetStream's answers included): its replies come
to its own inbox prefix, `_INBOX_<partner>`.

`python -m deploy.nats_auth` renders the config for a partner registered after the server
started (see docs/partners.md, "NATS permissions")."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from contracts.registry import PARTNER_OFFERS, PARTNER_REPLIES, REQUEST_CHANNELS, STREAMS
from deploy.stack.files import write_private_json
from services.runtime.messaging.bus import Bus

# Where the passwords live in a secrets file (the stack's .stack/secrets.json): user -> password.
SECRETS_KEY = "nats"
# The user the stack (or an operator's tool) provisions streams and partner consumers with.
ADMIN = "carebridge-admin"
# What each service publishes (its outbox and nothing else), before the namespace prefix.
SERVICE_SUBJECTS: Mapping[str, tuple[str, ...]] = {
    "content": ("content.>",),
    "inquiries": ("inquiries.>",),
    "logistics": ("logistics.>", PARTNER_OFFERS.address.format(partner_id="*", kind=">")),
}
# How long a partner may hold an offer before JetStream hands it out again; the reference
# partner's REPLY_DELAY must stay below it.
PARTNER_ACK_WAIT = 30.0


@dataclass(frozen=True)
class Namespacing:
    """Subjects and stream names as a deployment with NATS_NAMESPACE sees them (bus.py)."""

    namespace: str = ""

    def subject(self, subject: str) -> str:
        return f"{self.namespace}.{subject}" if self.namespace else subject

    def stream(self, name: str) -> str:
        return f"{self.namespace}_{name}" if self.namespace else name


def partner_durable(partner_id: str) -> str:
    return f"partner-{partner_id}"


def partner_inbox_prefix(partner_id: str) -> str:
    return f"_INBOX_{partner_id}"


def partner_permissions(partner_id: str, ns: Namespacing) -> dict[str, Any]:
    stream = ns.stream(PARTNER_OFFERS.stream)
    durable = partner_durable(partner_id)
    return {
        "publish": {
            "allow": [
                ns.subject(PARTNER_REPLIES.subject(partner_id=partner_id)),
                f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
                f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
                f"$JS.ACK.{stream}.{durable}.>",
            ]
        },
        "subscribe": {"allow": [f"{partner_inbox_prefix(partner_id)}.>"]},
    }


def service_permissions(service: str, ns: Namespacing) -> dict[str, Any]:
    """Its own subjects, and the JetStream API on Carebridge's streams: every service declares
    them all at start (service.py) and keeps its durable consumers on those it reads."""
    own = [ns.subject(s) for s in SERVICE_SUBJECTS[service]]
    jetstream = ["$JS.API.INFO"]
    for spec in STREAMS:
        name = ns.stream(spec.name)
        jetstream += [
            f"$JS.API.STREAM.INFO.{name}",
            f"$JS.API.STREAM.CREATE.{name}",
            f"$JS.API.STREAM.UPDATE.{name}",
            f"$JS.API.CONSUMER.*.{name}",
            f"$JS.API.CONSUMER.*.{name}.>",
            f"$JS.API.CONSUMER.DURABLE.CREATE.{name}.>",
            f"$JS.API.CONSUMER.MSG.NEXT.{name}.>",
            f"$JS.ACK.{name}.>",
        ]
    # Request/reply between services: the asker publishes the request, the responder
    # subscribes to it and may answer on the reply subject of each request it received.
    asks = [ns.subject(r.address) for r in REQUEST_CHANNELS if service in r.requesters]
    answers = [ns.subject(r.address) for r in REQUEST_CHANNELS if r.responder == service]
    permissions: dict[str, Any] = {
        "publish": {"allow": own + asks + jetstream},
        # Its own subjects too: content follows its announcements with a plain subscription.
        "subscribe": {"allow": ["_INBOX.>", *own, *answers]},
    }
    if answers:
        # Replies go to the asker's inbox, which its allow list cannot name in advance; with
        # an explicit publish allow list, this adds only those reply subjects.
        permissions["allow_responses"] = True
    return permissions


def render_config(
    *,
    passwords: Mapping[str, str],
    services: Iterable[str],
    partners: Iterable[str],
    namespace: str = "",
    pid_file: Path | None = None,
) -> str:
    """The `authorization` block for nats-server (its config format reads JSON). `passwords`
    holds one per user: the admin, each service and each partner; a bcrypt hash (`$2a$…`) works
    as well as a plain password. `pid_file`: where the server writes its pid."""
    ns = Namespacing(namespace)
    users: list[dict[str, Any]] = [{"user": ADMIN, "password": passwords[ADMIN]}]
    users += [
        {"user": s, "password": passwords[s], "permissions": service_permissions(s, ns)}
        for s in services
    ]
    users += [
        {"user": p, "password": passwords[p], "permissions": partner_permissions(p, ns)}
        for p in partners
    ]
    config: dict[str, Any] = {"authorization": {"users": users}}
    if pid_file is not None:
        # Where `kill -HUP $(cat <pid_file>)` finds the server to reload a config rendered anew.
        config["pid_file"] = str(pid_file)
    return json.dumps(config, indent=2) + "\n"


def issue_passwords(known: Mapping[str, str], users: Iterable[str]) -> dict[str, str]:
    """`known` plus a new password for each user without one."""
    issued = dict(known)
    for user in users:
        issued.setdefault(user, secrets.token_urlsafe(24))
    return issued


def user_url(url: str, user: str, password: str) -> str:
    """`nats://host:port` (or a comma-separated list) with `user:password@` in each."""
    return ",".join(
        u.replace("://", f"://{user}:{password}@", 1) for u in url.split(",") if u.strip()
    )


def partner_consumer_config(partner_id: str, ns: Namespacing) -> ConsumerConfig:
    offers = PARTNER_OFFERS.address.format(partner_id=partner_id, kind=">")
    return ConsumerConfig(
        durable_name=partner_durable(partner_id),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=PARTNER_ACK_WAIT,
        max_deliver=-1,
        filter_subject=ns.subject(offers),
    )


async def ensure_partner_consumers(bus: Bus, partner_ids: Iterable[str]) -> None:
    """Create (or bring up to date) each partner's durable consumer on the PARTNERS stream;
    a partner with restricted credentials can only bind to it."""
    ns = Namespacing(bus.namespace)
    stream = bus.stream(PARTNER_OFFERS.stream)
    for partner_id in partner_ids:
        await bus.js.add_consumer(stream, partner_consumer_config(partner_id, ns))


async def registered_partners(database_url: str) -> list[str]:
    """The ids in logistics' partner registry, active or not: a deactivated partner still
    answers offers it already holds."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT id FROM logistics.partners ORDER BY id")
    finally:
        await conn.close()
    return [str(row["id"]) for row in rows]


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.nats_auth",
        description="Render a nats-server authorization config from the partner registry. "
        "Passwords come from (and new ones are added to) the JSON file --passwords.",
    )
    parser.add_argument("--database-url", required=True, help="where logistics.partners is")
    parser.add_argument(
        "--secrets",
        type=Path,
        required=True,
        help=f'JSON file with the passwords under "{SECRETS_KEY}" (user -> password), as the '
        "stack's .stack/secrets.json",
    )
    parser.add_argument("--namespace", default="", help="the deployment's NATS_NAMESPACE")
    parser.add_argument("--output", type=Path, required=True, help="the config file to write")
    parser.add_argument(
        "--pid-file", type=Path, help="the server's pid_file (the stack's: .stack/nats.pid)"
    )
    parser.add_argument(
        "--nats-url",
        help="a server to create each partner's durable consumer on, as the admin user "
        "(nats://host:port, without credentials)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    partners = asyncio.run(registered_partners(args.database_url))
    stored = json.loads(args.secrets.read_text()) if args.secrets.exists() else {}
    services = tuple(SERVICE_SUBJECTS)
    passwords = issue_passwords(stored.get(SECRETS_KEY, {}), (ADMIN, *services, *partners))
    if passwords != stored.get(SECRETS_KEY):
        write_private_json(args.secrets, {**stored, SECRETS_KEY: passwords})
    write_config(
        args.output,
        render_config(
            passwords=passwords,
            services=services,
            partners=partners,
            namespace=args.namespace,
            pid_file=args.pid_file,
        ),
    )
    if args.nats_url:
        asyncio.run(_create_consumers(user_url(args.nats_url, ADMIN, passwords[ADMIN]), args))
    print(f"wrote {args.output}: {len(services)} services, {len(partners)} partners")


async def _create_consumers(url: str, args: argparse.Namespace) -> None:
    bus = await Bus.connect(url, name="nats-auth", namespace=args.namespace)
    try:
        await ensure_partner_consumers(bus, await registered_partners(args.database_url))
    finally:
        await bus.close()


def write_config(path: Path, text: str) -> None:
    """Readable by its owner only: it holds passwords (unless bcrypt-hashed)."""
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text)


if __name__ == "__main__":
    main()
