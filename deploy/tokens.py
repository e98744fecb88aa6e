"""python -m deploy.tokens create|list|revoke|rotate: staff bearer tokens, for operators.

The database is DATABASE_URL, or else the running local stack's (its stack.json). A new token
is printed once, to stdout alone, so `TOKEN=$(python -m deploy.tokens create …)` captures it;
only its hash is stored, and neither `list` nor any log shows it again. Tokens expire: after
--ttl-days, else STAFF_TOKEN_TTL_DAYS, else 90 days. `rotate` issues a new secret for the same
person and roles, printed the same way, and leaves the old one working for --grace-hours."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import cast

from deploy.operator import CommandError, connection, database_url, execute, when
from services.runtime.access import staff

EXIT_USAGE = 2


TTL_VARIABLE = "STAFF_TOKEN_TTL_DAYS"


async def create(url: str, person: str, roles: tuple[staff.Role, ...], ttl: timedelta) -> None:
    async with connection(url) as conn:
        token_id, token = await staff.create_token(conn, person=person, roles=roles, ttl=ttl)
    print(
        f"created token {token_id} for {person} ({', '.join(roles)}), valid for {ttl.days} "
        "days; shown once:",
        file=sys.stderr,
    )
    print(token)


def _state(token: staff.StaffToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= now:
        return "expired"
    return "rotated" if token.replaced_by is not None else "active"


async def list_tokens(url: str, *, include_revoked: bool) -> None:
    async with connection(url) as conn:
        tokens = await staff.list_tokens(conn)
        now: datetime = await conn.fetchval("SELECT now()")
    shown = [t for t in tokens if include_revoked or t.revoked_at is None]
    print(
        f"{'id':36}  {'roles':24}  {'created':20}  {'expires':20}  {'revoked':20}  "
        f"{'state':8}  person"
    )
    for t in shown:
        print(
            f"{t.id!s:36}  {','.join(t.roles):24}  {when(t.created_at):20}  "
            f"{when(t.expires_at):20}  {when(t.revoked_at):20}  {_state(t, now):8}  {t.person}"
        )
    print(f"{len(shown)} token{'s' if len(shown) != 1 else ''}", file=sys.stderr)


async def rotate(url: str, token_id: uuid.UUID, grace: timedelta, ttl: timedelta) -> None:
    async with connection(url) as conn:
        try:
            rotated = await staff.rotate_token(conn, token_id, grace=grace, ttl=ttl)
        except (staff.NoSuchToken, staff.AlreadyRotated) as exc:
            raise CommandError(str(exc)) from None
    print(
        f"rotated token {token_id}: it works until {when(rotated.previous_expires_at)}; "
        f"new token {rotated.id} for {rotated.person} until {when(rotated.expires_at)}, "
        "shown once:",
        file=sys.stderr,
    )
    print(rotated.token)


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


def _days(text: str) -> timedelta:
    try:
        return staff.check_ttl_days(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a lifetime: whole days, 1 to {staff.MAX_TTL_DAYS}"
        ) from None


def _hours(text: str) -> timedelta:
    try:
        return staff.hours(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a grace period: whole hours, 0 to {staff.MAX_GRACE_HOURS}"
        ) from None


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
    new.add_argument(
        "--ttl-days", type=_days, help=f"days it is valid (default: {TTL_VARIABLE}, else 90)"
    )
    listing = commands.add_parser("list", help="list tokens (never their secret)")
    listing.add_argument("--all", action="store_true", help="include revoked tokens")
    gone = commands.add_parser("revoke", help="revoke a token by its id")
    gone.add_argument("token_id", type=_token_id)
    turn = commands.add_parser("rotate", help="a new secret for a token; the old one expires")
    turn.add_argument("token_id", type=_token_id)
    turn.add_argument(
        "--grace-hours",
        type=_hours,
        default=staff.hours(staff.DEFAULT_GRACE_HOURS),
        help=f"how long the old token keeps working (default {staff.DEFAULT_GRACE_HOURS})",
    )
    turn.add_argument(
        "--ttl-days", type=_days, help=f"days the new one is valid (default: {TTL_VARIABLE})"
    )
    return root


def default_ttl(environ: Mapping[str, str]) -> timedelta:
    """STAFF_TOKEN_TTL_DAYS, as the services read it; CommandError names a bad value."""
    text = environ.get(TTL_VARIABLE, "").strip()
    if not text:
        return staff.DEFAULT_TTL
    try:
        return _days(text)
    except argparse.ArgumentTypeError as exc:
        raise CommandError(f"{TTL_VARIABLE} is invalid: {exc}") from None


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "create" and not args.person.strip():
        print("error: --person must not be empty", file=sys.stderr)
        return EXIT_USAGE
    env = os.environ if environ is None else environ
    try:
        ttl = default_ttl(env)
        url = database_url(env)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE if TTL_VARIABLE in str(exc) else 1
    match args.command:
        case "create":
            roles = cast(tuple[staff.Role, ...], tuple(dict.fromkeys(args.roles)))
            return execute(create(url, args.person.strip(), roles, args.ttl_days or ttl))
        case "list":
            return execute(list_tokens(url, include_revoked=args.all))
        case "rotate":
            return execute(rotate(url, args.token_id, args.grace_hours, args.ttl_days or ttl))
        case _:
            return execute(revoke(url, args.token_id))


if __name__ == "__main__":
    sys.exit(main())
