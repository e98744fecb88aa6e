"""python -m deploy.api_keys create|list|revoke: API keys of third-party sites and apps.

A key identifies one consumer: the browser origins that may use it (CORS) and its rate limit a
minute. The new key is printed once, to stdout alone; only its hash is stored."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

import asyncpg

from deploy.operator import CommandError, connection, database_url, execute, when
from services.runtime.access import api_keys


async def create(url: str, name: str, origins: tuple[str, ...], rate: int) -> None:
    try:
        api_keys.check_key_fields(name, origins, rate)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    async with connection(url) as conn:
        try:
            record, key = await api_keys.create_api_key(
                conn, name=name, origins=origins, rate_per_minute=rate
            )
        except asyncpg.UniqueViolationError:
            raise CommandError(f"an active key named {name!r} exists; revoke it first") from None
    print(f"created API key {record.name} ({rate}/min); shown once:", file=sys.stderr)
    print(key)


async def list_keys(url: str, *, include_revoked: bool) -> None:
    async with connection(url) as conn:
        keys = await api_keys.list_api_keys(conn)
    shown = [k for k in keys if include_revoked or k.revoked_at is None]
    print(f"{'name':32}  {'rate/min':>8}  {'created':19}  {'revoked':19}  origins")
    for k in shown:
        print(
            f"{k.name:32}  {k.rate_per_minute:>8}  {when(k.created_at):19}  "
            f"{when(k.revoked_at):19}  {' '.join(k.allowed_origins) or '-'}"
        )
    print(f"{len(shown)} key{'s' if len(shown) != 1 else ''}", file=sys.stderr)


async def revoke(url: str, name: str) -> None:
    async with connection(url) as conn:
        revoked = await api_keys.revoke_api_key(conn, name)
    if not revoked:
        raise CommandError(f"no active API key named {name!r}")
    print(f"revoked API key {name}; every replica refuses it within seconds", file=sys.stderr)


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
    new.add_argument("--rate", type=int, default=600, help="requests a minute (default 600)")
    listing = commands.add_parser("list", help="list keys (never their secret)")
    listing.add_argument("--all", action="store_true", help="include revoked keys")
    gone = commands.add_parser("revoke", help="revoke the active key of a consumer")
    gone.add_argument("name")
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
            return execute(create(url, args.name, tuple(args.origins), args.rate))
        case "list":
            return execute(list_keys(url, include_revoked=args.all))
        case _:
            return execute(revoke(url, args.name))


if __name__ == "__main__":
    sys.exit(main())
