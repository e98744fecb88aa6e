"""`python -m deploy.compose_secrets`: the secrets deploy/compose.yaml mounts, written once into
deploy/secrets/ (git-ignored); existing ones are kept, so running it again changes nothing."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from services.runtime.privacy.crypto import KeyRing

FOLDER = Path(__file__).parent / "secrets"


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
        "preview_secret": lambda: secrets.token_urlsafe(32),
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


def _database_url(password: str) -> str:
    return f"postgresql://carebridge:{password}@postgres:5432/carebridge"


def main() -> None:
    written = generate(FOLDER)
    print(f"wrote {', '.join(written)} in {FOLDER}" if written else f"{FOLDER} is complete")
    sys.exit(0)


if __name__ == "__main__":
    main()
