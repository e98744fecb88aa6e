"""Who may do what on NATS: an accounts config rendered from the services and the partner
registry, and the durable consumer each partner reads its offers through.

Services are trusted components: the admin and each service are users of one account,
CAREBRIDGE, that holds the streams; each service publishes its own domain's subjects, manages
the streams and consumers it runs on, and deletes from the streams it owns what erasure asks.

A partner is an outside company: it is the only user of an account of its own, which holds no
stream and sees nothing of CAREBRIDGE but what one service export, `partner-gateway.<id>.>`,
carries to it alone: its replies, and its durable consumer's fetch and acks. Accounts, not
permissions, are the wall: NATS never checks a message's reply subject against the sender's
publish permissions, so in one account a partner could have the server answer (a PubAck, a
fetched offer) onto any subject, the services' streams included. Across an account boundary,
the answer to an imported service goes back to the importing account only; and one export, not
one per subject, keeps an answer addressed to the partner's own replies subject from coming
back into PARTNER_REPLIES (`partner_gateway`). Within its account the partner still gets user
permissions: never `$JS.>` nor `_INBOX.>`, its replies come to its own inbox prefix,
`_INBOX_<partner>`.

`python -m deploy.nats_auth` renders the config for a partner registered after the server
started (see docs/partners.md, "NATS permissions")."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import ServiceUnavailableError

from contracts.registry import (
    PARTNER_OFFERS,
    PARTNER_REPLIES,
    REQUEST_CHANNELS,
    RESERVED_PARTNER_IDS,
    STREAMS,
    stream_named,
)
from deploy.embedded import nats_server_binary
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
    "support": ("support.>",),
    "notifications": ("notifications.>",),
}
# The streams whose messages a service deletes when a person is erased (stream_copies.py): those
# it publishes events naming people to (offers in PARTNERS), and, for logistics, the partners'
# replies it scans (PARTNER_REPLIES).
ERASES: Mapping[str, tuple[str, ...]] = {
    "inquiries": ("INQUIRIES",),
    "logistics": ("LOGISTICS", PARTNER_OFFERS.stream, PARTNER_REPLIES.stream),
}
# The account of the admin and the services, which holds every stream.
CAREBRIDGE_ACCOUNT = "CAREBRIDGE"
# CAREBRIDGE's subjects that carry what a partner sends (`partner_gateway`); no stream holds them.
PARTNER_GATEWAY = "partner-gateway"
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


def partner_account(partner_id: str) -> str:
    """Partner ids are lower case (contracts.registry.PARTNER_ID): never CAREBRIDGE."""
    return f"PARTNER_{partner_id}"


class ReservedPartnerId(ValueError):
    """A partner id that is a service's, the admin's or another reserved name."""


@dataclass(frozen=True)
class PartnerRoute:
    """One subject a partner publishes on (`local`, in its own account), the subject of
    CAREBRIDGE's one export to it that carries it (`gateway`), and the subject in CAREBRIDGE
    the gateway subject is mapped to (`target`). Wildcards (`>`) pass through all three."""

    local: str
    gateway: str
    target: str


def partner_gateway(partner_id: str, ns: Namespacing) -> str:
    """The one service CAREBRIDGE exports to a partner's account: every route of
    `partner_routes` is a subject under it. One export, not one per route, is what keeps the
    server's answers out of PARTNER_REPLIES: an answer from an export (a PubAck, a fetched offer,
    a consumer's info) that the partner addressed to its own replies subject reaches the import
    of that same export again, and nats-server drops a message that would cross an export it
    has just come back from (its service import cycle check)."""
    return ns.subject(f"{PARTNER_GATEWAY}.{partner_id}.>")


def partner_routes(partner_id: str, ns: Namespacing) -> list[PartnerRoute]:
    """What a partner reaches of CAREBRIDGE: its replies (the PubAck is the answer), and its
    durable consumer's fetch (up to a batch of offers) and acks (ack_sync waits for an answer).
    The partner publishes on the subjects it always did (its replies subject, the JetStream
    API's), CAREBRIDGE's account mappings turn the gateway subjects into them.

    Not its consumer's info: an account without JetStream has the server's own JetStream API
    answer every `$JS.API.>` request it makes ("JetStream not enabled", from the system
    account), an answer from outside the gateway that the cycle check does not stop, so one
    addressed to the partner's replies subject would be stored in PARTNER_REPLIES. The fetch is
    the exception the server makes: it never answers a fetch there."""
    stream = ns.stream(PARTNER_OFFERS.stream)
    durable = partner_durable(partner_id)
    gateway = partner_gateway(partner_id, ns).removesuffix(".>")
    replies = ns.subject(PARTNER_REPLIES.subject(partner_id=partner_id))
    fetch = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
    acks = f"$JS.ACK.{stream}.{durable}.>"
    return [
        PartnerRoute(replies, f"{gateway}.replies", replies),
        PartnerRoute(fetch, f"{gateway}.next", fetch),
        PartnerRoute(acks, f"{gateway}.ack.>", acks),
    ]


def partner_permissions(partner_id: str, ns: Namespacing) -> dict[str, Any]:
    """Within its own account: the subjects it imports, and its own inbox prefix."""
    return {
        "publish": {"allow": [route.local for route in partner_routes(partner_id, ns)]},
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
    # Erasure (stream_copies.py): delete the copies of a person's data in the streams it
    # owns, and read a subject there for the messages that mention them.
    for name in ERASES.get(service, ()):
        if stream_named(name).deny_delete:
            raise ValueError(f"{name} refuses deletes: {service} cannot erase from it")
        jetstream += [
            f"$JS.API.STREAM.MSG.DELETE.{ns.stream(name)}",
            f"$JS.API.STREAM.MSG.GET.{ns.stream(name)}",
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
    """The `accounts` block for nats-server (its config format reads JSON). `passwords` holds
    one per user: the admin, each service and each partner; a bcrypt hash (`$2a$…`) works as
    well as a plain password. `pid_file`: where the server writes its pid. A partner id that is
    reserved (a service's or the admin's name: NATS user names are one space per server) is
    refused, naming it."""
    config = accounts_config(
        passwords=passwords, services=services, partners=partners, namespace=namespace
    )
    if pid_file is not None:
        # Where `kill -HUP $(cat <pid_file>)` finds the server to reload a config rendered anew.
        config["pid_file"] = str(pid_file)
    # A password given as `$NATS_PASSWORD_…` names the server's environment variable: nats-server
    # reads a variable only unquoted. Issued passwords never hold `$`, bcrypt hashes (`$2a$…`)
    # do not match.
    return _ENV_REFERENCE.sub(r"\1", json.dumps(config, indent=2)) + "\n"


def accounts_config(
    *,
    passwords: Mapping[str, str],
    services: Iterable[str],
    partners: Iterable[str],
    namespace: str = "",
) -> dict[str, Any]:
    """`{"accounts": …}`, as `render_config` writes it."""
    ns = Namespacing(namespace)
    partner_ids = tuple(partners)
    if reserved := sorted(p for p in partner_ids if p in RESERVED_PARTNER_IDS):
        raise ReservedPartnerId(f"partner ids {', '.join(reserved)} are reserved names")
    users: list[dict[str, Any]] = [{"user": ADMIN, "password": passwords[ADMIN]}]
    users += [
        {"user": s, "password": passwords[s], "permissions": service_permissions(s, ns)}
        for s in services
    ]
    accounts: dict[str, Any] = {
        CAREBRIDGE_ACCOUNT: {
            "jetstream": "enabled",
            "users": users,
            # A fetch answers with up to a batch of offers: a stream of answers, for every route
            # of the export (a PubAck or an ack's answer is a stream of one).
            "exports": [
                {
                    "service": partner_gateway(p, ns),
                    "response_type": "stream",
                    "accounts": [partner_account(p)],
                }
                for p in partner_ids
            ],
            "mappings": {
                route.gateway: route.target for p in partner_ids for route in partner_routes(p, ns)
            },
        }
    }
    for p in partner_ids:
        accounts[partner_account(p)] = {
            "users": [
                {"user": p, "password": passwords[p], "permissions": partner_permissions(p, ns)}
            ],
            "imports": [
                {
                    "service": {"account": CAREBRIDGE_ACCOUNT, "subject": route.gateway},
                    "to": route.local,
                }
                for route in partner_routes(p, ns)
            ],
        }
    return {"accounts": accounts}


_ENV_REFERENCE = re.compile(r'"(\$NATS_PASSWORD_[A-Z0-9_]+)"')


# The Kubernetes Secret that holds every NATS user's password (key: the user's name), which the
# Helm values hand to the server as NATS_PASSWORD_<USER> (docs/operations/index.md).
HELM_SECRET = "carebridge-nats-passwords"  # noqa: S105 - a Secret's name, no password


def render_helm_values(
    *, services: Iterable[str], partners: Iterable[str], namespace: str = ""
) -> str:
    """Values for the official NATS Helm chart that carry the same accounts as `render_config`:
    `config.merge.accounts`, each password the server's variable `<< $NATS_PASSWORD_<USER> >>`
    (the chart writes `<< … >>` unquoted), and `container.env` filling each variable from the
    Secret HELM_SECRET. JSON, which YAML reads: `helm … -f` takes it as it is."""
    service_ids, partner_ids = tuple(services), tuple(partners)
    users = (ADMIN, *service_ids, *partner_ids)
    config = accounts_config(
        passwords={u: f"<< ${env_password(u)} >>" for u in users},
        services=service_ids,
        partners=partner_ids,
        namespace=namespace,
    )
    env = {
        env_password(u): {"valueFrom": {"secretKeyRef": {"name": HELM_SECRET, "key": u}}}
        for u in users
    }
    values = {"config": {"merge": config}, "container": {"env": env}}
    return json.dumps(values, indent=2) + "\n"


def helm_values_as_config(values: Mapping[str, Any]) -> str:
    """The nats.conf fragment the chart makes of `render_helm_values`' `config.merge`: JSON, with
    each `"<< … >>"` written bare."""
    return re.sub(r'"<<\s+(.*?)\s+>>"', r"\1", json.dumps(values["config"]["merge"], indent=2))


class InvalidConfig(ValueError):
    """nats-server refused a rendered config: the message carries its words."""


def check_config(text: str, scratch: Path) -> None:
    """Have nats-server read `text` (`nats-server -t`) before it replaces a config a server
    runs on: a config it refuses would stop the next start, and a reload keeps the old one
    anyway but only says so in the server's log. `scratch`: a folder for the file it reads."""
    scratch.mkdir(parents=True, exist_ok=True)
    candidate = scratch / ".nats-config-check.conf"
    candidate.touch(mode=0o600)
    candidate.write_text(text)
    # Passwords named by environment variables are the server's to know: any value will do.
    placeholders = dict.fromkeys(re.findall(r"\$(NATS_PASSWORD_[A-Z0-9_]+)", text), "unset")
    try:
        checked = subprocess.run(
            [str(nats_server_binary()), "-t", "-c", str(candidate)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env={**os.environ, **placeholders},
        )
    finally:
        candidate.unlink(missing_ok=True)
    if checked.returncode != 0:
        words = (checked.stderr or checked.stdout).strip().replace(str(candidate), "config")
        raise InvalidConfig(f"nats-server refuses the rendered config: {words}")


def new_password() -> str:
    """A random password that nats-server reads as a string wherever it stands. Its config
    parser types an unquoted value by its first characters, `$VARIABLE` expansions included: a
    draw that began like a date (`2026-01-`) failed to parse and refused the whole config, and
    one spelling a boolean would not be a string. A leading `p` is neither."""
    return f"p{secrets.token_urlsafe(24)}"


def issue_passwords(known: Mapping[str, str], users: Iterable[str]) -> dict[str, str]:
    """`known` plus a new password for each user without one."""
    issued = dict(known)
    for user in users:
        issued.setdefault(user, new_password())
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
    answers offers it already holds. A reserved id (registered before logistics refused them)
    is left out, with a warning: it would take a service's or the admin's NATS user. A partner
    on the webhook channel gets no NATS user (a registry from before channels has none)."""
    conn = await asyncpg.connect(database_url)
    try:
        has_channels = await conn.fetchval(
            """SELECT true FROM information_schema.columns
               WHERE table_schema = 'logistics' AND table_name = 'partners'
                 AND column_name = 'channel'"""
        )
        rows = await conn.fetch(
            "SELECT id FROM logistics.partners"
            + (" WHERE channel = 'nats'" if has_channels else "")
            + " ORDER BY id"
        )
    finally:
        await conn.close()
    ids = [str(row["id"]) for row in rows]
    for reserved in (i for i in ids if i in RESERVED_PARTNER_IDS):
        print(
            f"partner {reserved!r} has a reserved id and gets no NATS user: register it anew "
            "under another id",
            file=sys.stderr,
        )
    return [i for i in ids if i not in RESERVED_PARTNER_IDS]


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.nats_auth",
        description="Render a nats-server accounts config for the services and the partners "
        "(logistics' registry, or --partner), checked by nats-server before it is written; "
        "and make each partner's durable consumer (--nats-url).",
    )
    partners = parser.add_mutually_exclusive_group(required=True)
    partners.add_argument("--database-url", help="where logistics.partners is")
    partners.add_argument(
        "--partner", action="append", help="a partner id (repeat), instead of the registry"
    )
    partners.add_argument(
        "--no-partners",
        action="store_true",
        help="no partner yet: a new deployment's config, rendered again once partners register",
    )
    passwords = parser.add_mutually_exclusive_group(required=True)
    passwords.add_argument(
        "--secrets",
        type=Path,
        help=f'JSON file with the passwords under "{SECRETS_KEY}" (user -> password), as the '
        "stack's .stack/secrets.json; passwords it lacks are made and added",
    )
    passwords.add_argument(
        "--passwords-from-env",
        action="store_true",
        help="the config names each user's password by an environment variable of the server, "
        "NATS_PASSWORD_<USER> (upper case, - as _), as a production deployment gives them",
    )
    parser.add_argument("--namespace", default="", help="the deployment's NATS_NAMESPACE")
    parser.add_argument("--output", type=Path, help="the config file to write")
    parser.add_argument(
        "--helm-values",
        type=Path,
        help="write the accounts as values for the NATS Helm chart instead (passwords from the "
        f"Secret {HELM_SECRET}; implies --passwords-from-env)",
    )
    parser.add_argument(
        "--pid-file", type=Path, help="the server's pid_file (the stack's: .stack/nats.pid)"
    )
    parser.add_argument(
        "--reload",
        action="store_true",
        help="have the server of --pid-file read the new config (SIGHUP) once it is written",
    )
    parser.add_argument(
        "--nats-url",
        help="a server to declare the streams and each partner's durable consumer on, as the "
        "admin user (nats://host:port, without credentials)",
    )
    return parser.parse_args(argv)


def env_password(user: str) -> str:
    """The server's environment variable that holds `user`'s password (or bcrypt hash)."""
    return "NATS_PASSWORD_" + user.upper().replace("-", "_")


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    partners = _partners(args)
    services = tuple(SERVICE_SUBJECTS)
    users = (ADMIN, *services, *partners)
    stored: dict[str, Any] = {}
    if args.passwords_from_env:
        passwords = {u: f"${env_password(u)}" for u in users}
    else:
        stored = json.loads(args.secrets.read_text()) if args.secrets.exists() else {}
        passwords = issue_passwords(stored.get(SECRETS_KEY, {}), users)
    if args.helm_values is not None:
        write_helm_values(args.helm_values, services, partners, args.namespace)
    if args.output is not None:
        try:
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
        except (ReservedPartnerId, InvalidConfig) as exc:
            # The server keeps running on the config it has, which is left as it was.
            sys.exit(f"{exc}; {args.output} left as it was, do not reload")
        print(f"wrote {args.output}: {len(services)} services, {len(partners)} partners")
    if not args.passwords_from_env and passwords != stored.get(SECRETS_KEY):
        write_private_json(args.secrets, {**stored, SECRETS_KEY: passwords})
    if args.reload:
        if args.pid_file is None:
            sys.exit("--reload needs --pid-file: the server to reload")
        reload_server(args.pid_file)
    if args.nats_url:
        admin_password = (
            os.environ.get(env_password(ADMIN), "") if args.passwords_from_env else passwords[ADMIN]
        )
        url = user_url(args.nats_url, ADMIN, admin_password)
        asyncio.run(_create_consumers(url, args.namespace, partners))


def _partners(args: argparse.Namespace) -> list[str]:
    if args.no_partners:
        return []
    return list(args.partner or asyncio.run(registered_partners(args.database_url)))


def write_helm_values(
    path: Path, services: Sequence[str], partners: Sequence[str], namespace: str
) -> None:
    """Checked by nats-server first, as `write_config`: a refused config is not written."""
    try:
        values = render_helm_values(services=services, partners=partners, namespace=namespace)
        check_config(helm_values_as_config(json.loads(values)), path.parent)
    except (ReservedPartnerId, InvalidConfig) as exc:
        sys.exit(f"{exc}; {path} left as it was")
    path.write_text(values)
    print(f"wrote {path}: {len(services)} services, {len(partners)} partners")


# Between the two reloads of `reload_server`.
_RELOAD_PAUSE = 1.0
# Seconds the JetStream API may take to answer again after a reload.
_JETSTREAM_WAIT = 10.0


def reload_server(pid_file: Path) -> None:
    """SIGHUP the server twice. nats-server (2.15.1) wires the imports of an account that a
    reload adds only partly: a new partner's replies reach CAREBRIDGE, but its fetches of the
    JetStream API find no responder until the next reload. A second reload of the same config
    changes nothing for the others (tests/integration/deploy/test_nats_auth.py)."""
    pid = int(pid_file.read_text().strip())
    os.kill(pid, signal.SIGHUP)
    time.sleep(_RELOAD_PAUSE)
    os.kill(pid, signal.SIGHUP)


async def _create_consumers(url: str, namespace: str, partners: Sequence[str]) -> None:
    """The streams first (idempotent, as every service declares them): a partner's consumer
    needs PARTNERS, and a deployment's partners may be set up before any service started."""
    bus = await Bus.connect(url, name="nats-auth", namespace=namespace)
    try:
        # Right after a reload the server may not answer the JetStream API yet (no
        # responders): wait for it, a few seconds at most, rather than fail the setup.
        deadline = time.monotonic() + _JETSTREAM_WAIT
        while True:
            try:
                await bus.provision(STREAMS)
                break
            except ServiceUnavailableError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        await ensure_partner_consumers(bus, partners)
    finally:
        await bus.close()


def write_config(path: Path, text: str) -> None:
    """Checked by nats-server first (`check_config`): a refused config is not written and the
    file a server runs on stays as it was. Readable by its owner only: it holds passwords
    (unless bcrypt-hashed)."""
    check_config(text, path.parent)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text)


if __name__ == "__main__":
    main()
