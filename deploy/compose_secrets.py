"""`python -m deploy.compose_secrets`: the secrets deploy/compose.yaml mounts, written once into
deploy/secrets/ (git-ignored); existing ones are kept, so running it again changes nothing."""

from __future__ import annotations

import functools
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from deploy.nats_auth import ADMIN, SERVICE_SUBJECTS, env_password, new_password, user_url
from services.runtime.privacy.crypto import KeyRing

FOLDER = Path(__file__).parent / "secrets"
# The reference partners compose runs, one per kind: NATS users of deploy/nats/accounts.conf.
REFERENCE_PARTNERS = ("reference-transfer", "reference-interpreter", "reference-shipment")
NATS_USERS = (ADMIN, *SERVICE_SUBJECTS, *REFERENCE_PARTNERS)
# The NATS server's environment (env_file): each user's password, NATS_PASSWORD_<USER>.
NATS_ENV = "nats.env"


def generate(folder: Path) -> list[str]:
    """Write each missing secret; returns the names written."""
    # The folder keeps other users of the host out; the files must be readable by the
    # containers' own users (compose bind-mounts them with the host's permissions).
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)
    password_file = folder / "postgres_password"
    makers: dict[str, Callable[[], str]] = {
        "postgres_password": lambda: secrets.token_urlsafe(24),
        "database_url": lambda: _database_url(password_file.read_text().strip()),
        "inquiries_encryption_keys": lambda: KeyRing.generate_setting("k1"),
        "logistics_encryption_keys": lambda: KeyRing.generate_setting("k1"),
        "support_encryption_keys": lambda: KeyRing.generate_setting("k1"),
        "notifications_encryption_keys": lambda: KeyRing.generate_setting("k1"),
        "console_encryption_keys": lambda: KeyRing.generate_setting("k1"),
        # A placeholder until the mail provider's password replaces it (it is kept on reruns).
        "notifications_smtp_password": lambda: secrets.token_urlsafe(24),
        "preview_secret": lambda: secrets.token_urlsafe(32),
        "altcha_hmac_key": lambda: secrets.token_urlsafe(32),
        NATS_ENV: lambda: "\n".join(
            f"{env_password(user)}={new_password()}" for user in NATS_USERS
        ),
    }
    # Each service's and partner's URL with its password, once the server's passwords exist
    # (the admin's is read from nats.env by nats-setup).
    makers |= {
        nats_url_secret(user): functools.partial(_nats_url, folder / NATS_ENV, user)
        for user in NATS_USERS
        if user != ADMIN
    }
    written = []
    for name, make in makers.items():
        path = folder / name
        if path.exists():
            continue
        path.write_text(make() + "\n")
        path.chmod(0o644)
        written.append(name)
    return written


def nats_url_secret(user: str) -> str:
    return f"nats_url_{user}"


def _nats_url(env_file: Path, user: str) -> str:
    passwords = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if line)
    return user_url("nats://nats:4222", user, passwords[env_password(user)])


def _database_url(password: str) -> str:
    return f"postgresql://carebridge:{password}@postgres:5432/carebridge"


def main() -> None:
    written = generate(FOLDER)
    print(f"wrote {', '.join(written)} in {FOLDER}" if written else f"{FOLDER} is complete")
    sys.exit(0)


if __name__ == "__main__":
    main()
