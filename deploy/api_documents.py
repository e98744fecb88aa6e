"""`python -m deploy.api_documents [--check]`, behind `make contracts`: writes every published
API document (the message contracts of `contracts.generate` and each service's OpenAPI document),
or with --check fails when a checked-in document is not what the code says.

Here and not in `contracts` or `services.runtime`, because only deploy may import every service."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from litestar import Litestar

from contracts.generate import SCHEMAS_DIR, render_documents, render_json
from services.content import app as content
from services.inquiries import app as inquiries
from services.logistics import app as logistics
from services.notifications import app as notifications
from services.runtime.access import staff
from services.runtime.core.settings import load_settings
from services.runtime.http.api_audiences import AUDIENCES, part
from services.runtime.privacy.crypto import KeyRing
from services.runtime.service.definition import ServiceDefinition
from services.support import app as support

ROOT = Path(__file__).resolve().parents[1]
OPENAPI_DIR = Path("contracts/openapi")
SERVICES: tuple[ServiceDefinition, ...] = (
    content.DEFINITION,
    inquiries.DEFINITION,
    logistics.DEFINITION,
    support.DEFINITION,
    notifications.DEFINITION,
)
# Each service's own app factory: it adds what the shared runtime does not know about.
FACTORIES: dict[str, Callable[[Any], Litestar]] = {
    "content": content.create_app,
    "inquiries": inquiries.create_app,
    "logistics": logistics.create_app,
    "support": support.create_app,
    "notifications": notifications.create_app,
}
# Everything in these directories is generated, so a file the code no longer renders is stale.
GENERATED_DIRS = (SCHEMAS_DIR, OPENAPI_DIR)
# Building an app only parses the URL; nothing connects before the lifespan starts.
_OFFLINE_ENVIRON = {
    "DATABASE_URL": "postgresql://localhost/openapi",
    "INQUIRIES_ENCRYPTION_KEYS": KeyRing.generate_setting(),
    "LOGISTICS_ENCRYPTION_KEYS": KeyRing.generate_setting(),
    "SUPPORT_ENCRYPTION_KEYS": KeyRing.generate_setting(),
    "NOTIFICATIONS_ENCRYPTION_KEYS": KeyRing.generate_setting(),
    "NOTIFICATIONS_ONCALL_EMAIL": "oncall@carebridge.example",
}


def render_all() -> dict[Path, str]:
    """Every generated document, keyed by its path relative to the repository root."""
    return {**render_documents(), **render_openapi_documents()}


def render_openapi_documents() -> dict[Path, str]:
    """Each service's whole document, and its parts for sites (`<name>.public.json`, when it
    has public routes) and for staff (`<name>.staff.json`)."""
    documents = {}
    for definition in SERVICES:
        whole = openapi_document(definition)
        documents[OPENAPI_DIR / f"{definition.name}.json"] = render_json(whole)
        for audience in AUDIENCES:
            cut = part(whole, audience, staff.SECURITY_SCHEME)
            if cut["paths"]:
                path = OPENAPI_DIR / f"{definition.name}.{audience}.json"
                documents[path] = render_json(cut)
    return documents


def openapi_document(definition: ServiceDefinition) -> dict[str, Any]:
    return offline_app(definition).openapi_schema.to_schema()


def offline_app(definition: ServiceDefinition) -> Litestar:
    """The service's app as its factory builds it, with settings that connect to nothing (it is
    never started): for what an app declares, its document and its metrics."""
    settings = load_settings(
        definition.settings_type, environ=_OFFLINE_ENVIRON, port=definition.default_port
    )
    return FACTORIES[definition.name](settings)


def drift(root: Path, documents: dict[Path, str]) -> list[str]:
    """One line per checked-in document that is missing, differs or is stale; empty if none."""
    problems = []
    for path, text in sorted(documents.items()):
        on_disk = _read(root / path)
        if on_disk is None:
            problems.append(f"missing  {path}")
        elif on_disk != text:
            problems.append(f"differs  {path}")
    problems.extend(f"stale    {path}" for path in stale_files(root, documents))
    return problems


def stale_files(root: Path, documents: dict[Path, str]) -> list[Path]:
    present = {
        path.relative_to(root)
        for directory in GENERATED_DIRS
        if (root / directory).is_dir()
        for path in (root / directory).iterdir()
        if path.is_file()
    }
    return sorted(present - documents.keys())


def write(root: Path, documents: dict[Path, str]) -> None:
    """Writes only what changed, so unchanged documents keep their timestamps."""
    changed = [path for path, text in sorted(documents.items()) if _read(root / path) != text]
    for path in changed:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(documents[path], encoding="utf-8")
        print(f"wrote {path}")
    stale = stale_files(root, documents)
    for path in stale:
        (root / path).unlink()
        print(f"deleted stale {path}")
    if not changed and not stale:
        print(f"{len(documents)} API documents already up to date")


def check(root: Path, documents: dict[Path, str]) -> int:
    problems = drift(root, documents)
    for problem in problems:
        print(problem)
    if problems:
        print("API documents are out of date with the code: run `make contracts` and commit.")
        return 1
    print(f"{len(documents)} API documents up to date")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.api_documents", description=__doc__)
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if a document is missing, differs or is stale",
    )
    args = parser.parse_args(argv)
    documents = render_all()
    if args.check:
        return check(ROOT, documents)
    write(ROOT, documents)
    return 0


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


if __name__ == "__main__":
    raise SystemExit(main())
