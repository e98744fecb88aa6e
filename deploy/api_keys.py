"""python -m deploy.api_keys create|list|revoke: API keys of third-party sites and apps.

A key identifies one consumer and is of one kind: publishable (`cb_pk_`, for the site's pages:
bound to the browser origins given, refused without one) or secret (`cb_sk_`, for the site's
server: refused from a browser). A consumer holds up to two active keys of a kind, so a key
rotates without a gap: create the second, deploy it, `revoke NAME --id <first>`. The new key is
printed once, to stdout alone; only its hash is stored."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Mapping, Sequence

import asyncpg

from deploy.operator import CommandError, connection, database_url, execute, when
from services.runtime.access import api_keys


async def create(
    url: str,
    name: str,
    origins: tuple[str, ...],
    rate: int,
    kind: api_keys.Kind,
    site_url_template: str | None = None,
) -> None:
    try:
        api_keys.check_key_fields(name, origins, rate, kind, site_url_template)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    async with connection(url) as conn:
        try:
            record, key = await api_keys.create_api_key(
                conn,
                name=name,
                origins=origins,
                rate_per_minute=rate,
                kind=kind,
                site_url_template=site_url_template,
            )
        except (api_keys.TooManyKeys, asyncpg.UniqueViolationError) as exc:
            raise CommandError(
                str(exc)
                if isinstance(exc, api_keys.TooManyKeys)
                else f"another {kind} key for {name!r} was issued meanwhile; try again"
            ) from None
    print(
        f"created {kind} API key {record.name} ({rate}/min, id {record.id}); shown once:",
        file=sys.stderr,
    )
    print(key)


async def list_keys(url: str, *, include_revoked: bool) -> None:
    async with connection(url) as conn:
        keys = await api_keys.list_api_keys(conn)
    shown = [k for k in keys if include_revoked or k.revoked_at is None]
    print(
        f"{'name':32}  {'kind':11}  {'id':36}  {'rate/min':>8}  {'created':19}  "
        f"{'revoked':19}  origins"
    )
    for k in shown:
        print(
            f"{k.name:32}  {k.kind:11}  {k.id!s:36}  {k.rate_per_minute:>8}  "
            f"{when(k.created_at):19}  {when(k.revoked_at):19}  "
            f"{' '.join(k.allowed_origins) or '-'}"
        )
    print(f"{len(shown)} key{'s' if len(shown) != 1 else ''}", file=sys.stderr)


async def revoke(url: str, name: str, key_id: uuid.UUID | None = None) -> None:
    async with connection(url) as conn:
        revoked = await api_keys.revoke_api_key(conn, name, key_id=key_id)
    if not revoked:
        which = f" with id {key_id}" if key_id else ""
        raise CommandError(f"no active API key named {name!r}{which}")
    print(
        f"revoked {revoked} API key{'s' if revoked != 1 else ''} of {name}; every replica "
        "refuses it within seconds",
        file=sys.stderr,
    )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m deploy.api_keys", description="Create, list and revoke API keys."
    )
    commands = root.add_subparsers(dest="command", required=True)
    new = commands.add_parser("create", help="issue a key (printed once)")
    new.add_argument("--name", required=True, help="the consumer, e.g. heart-clinic-finder")
    new.add_argument(
        "--origin",
        dest="origins",
        action="append",
        default=[],
        help="a browser origin that may use the key (scheme://host[:port]); repeat for several",
    )
    new.add_argument(
        "--kind",
        choices=api_keys.KINDS,
        default="secret",
        help="publishable: for a site's pages (needs --origin); secret: for its server",
    )
    new.add_argument("--rate", type=int, default=600, help="requests a minute (default 600)")
    new.add_argument(
        "--site-url",
        dest="site_url_template",
        help="the site's page of a document, e.g. https://site.example/{locale}/{slug}",
    )
    listing = commands.add_parser("list", help="list keys (never their secret)")
    listing.add_argument("--all", action="store_true", help="include revoked keys")
    gone = commands.add_parser("revoke", help="revoke a consumer's active keys, or one of them")
    gone.add_argument("name")
    gone.add_argument("--id", dest="key_id", type=uuid.UUID, help="only this key (see `list`)")
    return root


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        url = database_url(os.environ if environ is None else environ)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    match args.command:
        case "create":
            return execute(
                create(
                    url,
                    args.name,
                    tuple(args.origins),
                    args.rate,
                    args.kind,
                    args.site_url_template,
                )
            )
        case "list":
            return execute(list_keys(url, include_revoked=args.all))
        case _:
            return execute(revoke(url, args.name, args.key_id))


if __name__ == "__main__":
    sys.exit(main())
