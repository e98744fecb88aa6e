"""The example site's code (examples/site/site.js, plain JavaScript with JSDoc) names the
generated client's types for what the APIs answer; tsc checks it against them, so a change of
the public contract that breaks the site fails here rather than in a reader's browser."""

from __future__ import annotations

import subprocess

from tests.unit.contracts.node_tools import ROOT, require_node_tools

SITE = ROOT / "examples" / "site"


def test_the_example_site_type_checks_against_the_generated_client() -> None:
    modules = require_node_tools()
    source = (SITE / "site.js").read_text()
    assert 'import("../../clients/typescript/src/index.js")' in source
    checked = subprocess.run(
        [str(modules / ".bin" / "tsc"), "-p", str(SITE)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
