"""python -m deploy.tokens create|list|revoke: staff bearer tokens, for operators.

The database is DATABASE_URL, or else the running local stack's (its stack.json). A new token
is printed once, to stdout alone, so `TOKEN=$(python -m deploy.tokens create …)` captures it;
only its hash is stored, and neither `list` nor any log shows it again."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Mapping, Sequence
from typing import cast

from deploy.operator import CommandError, connection, database_url, execute, when
from services.runtime.access import staff

EXIT_USAGE = 2


async def create(url: str, person: str, roles: tuple[staff.Role, ...]) -> None:
    async with connection(url) as conn:
        token_id, token = await staff.create_token(conn, person=person, roles=roles)
    print(
        f"created token {token_id} for {person} ({', '.join(roles)}); shown once:", file=sys.stderr
    )
    print(token)


async def list_tokens(url: str, *, include_revoked: bool) -> None:
    async with connection(url) as conn:
        tokens = await staff.list_tokens(conn)
    shown = [t for t in tokens if include_revoked or t.revoked_at is None]
    print(f"{'id':36}  {'roles':24}  {'created':20}  {'revoked':20}  person")
    for t in shown:
        print(
            f"{t.id!s:36}  {','.join(t.roles):24}  "
            f"{when(t.created_at):20}  {when(t.revoked_at):20}  {t.person}"
        )
    print(f"{len(shown)} token{'s' if len(shown) != 1 else ''}", file=sys.stderr)


async def revoke(url: str, token_id: uuid.UUID) -> None:
    async with connection(url) as conn:
        revoked = await staff.revoke_token(conn, token_id)
    if not revoked:
        raise CommandError(f"no active token {token_id}: unknown or already revoked")
    print(f"revoked token {token_id}; it is refused from now on", file=sys.stderr)


def _token_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a token id (a UUID)") from None


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m deploy.tokens", description="Create, list and revoke staff tokens."
    )
    commands = root.add_subparsers(dest="command", required=True)
    new = commands.add_parser("create", help="issue a token (printed once)")
    new.add_argument("--person", required=True, help="who the token belongs to")
    new.add_argument(
        "--role",
        dest="roles",
        action="append",
        required=True,
        choices=staff.ROLES,
        help="a role of the token; repeat for several",
    )
    listing = commands.add_parser("list", help="list tokens (never their secret)")
    listing.add_argument("--all", action="store_true", help="include revoked tokens")
    gone = commands.add_parser("revoke", help="revoke a token by its id")
    gone.add_argument("token_id", type=_token_id)
    return root


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "create" and not args.person.strip():
        print("error: --person must not be empty", file=sys.stderr)
        return EXIT_USAGE
    try:
        url = database_url(os.environ if environ is None else environ)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    match args.command:
        case "create":
            roles = cast(tuple[staff.Role, ...], tuple(dict.fromkeys(args.roles)))
            return execute(create(url, args.person.strip(), roles))
        case "list":
            return execute(list_tokens(url, include_revoked=args.all))
        case _:
            return execute(revoke(url, args.token_id))


if __name__ == "__main__":
    sys.exit(main())
