"""The TypeScript client for sites: generated from the public OpenAPI documents by
openapi-typescript (the version clients/typescript/package-lock.json pins), checked in, and
type-checked by tsc together with the hand-written index.ts that names the types sites use."""

from __future__ import annotations

import subprocess

from tests.unit.contracts.node_tools import CLIENT, ROOT, require_node_tools

PUBLIC_DOCUMENTS = sorted((ROOT / "contracts" / "openapi").glob("*.public.json"))


def test_every_public_document_has_a_generated_client_and_no_other() -> None:
    generated = {p.stem for p in (CLIENT / "src").glob("*.ts")} - {"index"}

    assert generated == {p.name.removesuffix(".public.json") for p in PUBLIC_DOCUMENTS}
    assert {"content", "inquiries"} <= generated


def test_the_generated_client_is_what_the_public_documents_give_now() -> None:
    modules = require_node_tools()
    for document in PUBLIC_DOCUMENTS:
        service = document.name.removesuffix(".public.json")
        fresh = subprocess.run(
            [str(modules / ".bin" / "openapi-typescript"), str(document)],
            cwd=CLIENT,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        checked_in = (CLIENT / "src" / f"{service}.ts").read_text()
        assert fresh == checked_in, (
            f"clients/typescript/src/{service}.ts drifted from {document.name}: "
            "run `make contracts`"
        )


def test_the_client_type_checks() -> None:
    modules = require_node_tools()
    checked = subprocess.run(
        [str(modules / ".bin" / "tsc"), "--noEmit", "-p", str(CLIENT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
