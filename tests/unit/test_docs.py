"""The documentation builds as a site with nothing broken, the README stays a front page, and
neither links out of the repository. No servers needed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").rglob("*.md"))
# Hosts a URL may name in the docs: the local stack's, shown in commands, and the reserved
# `.example` names of RFC 2606, which never resolve. Anything else would be a link out.
LOCAL = re.compile(r"^(localhost|127\.0\.0\.1|[a-z0-9.-]+\.example)(:\d+)?$")
URL = re.compile(r"https?://([^/\s\"'`)>\]]+)")


def test_the_site_builds_strictly_so_a_broken_link_or_a_page_outside_the_nav_fails(
    tmp_path: Path,
) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
        timeout=90,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "architecture.html").is_file()


def test_the_built_site_asks_no_other_host_for_its_assets(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
        timeout=90,
        check=True,
    )
    tags = re.compile(r"<(?:link|script|img)\b[^>]*\b(?:href|src)=\"(https?:)?//[^\"]*\"")
    remote = {
        f"{page.relative_to(tmp_path)}: {match.group(0)}"
        for page in tmp_path.rglob("*.html")
        for match in tags.finditer(page.read_text(encoding="utf-8"))
    }
    assert not remote


def test_the_readme_is_a_front_page_of_at_most_200_lines() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


def test_the_readme_and_docs_link_nowhere_outside_the_repository() -> None:
    outside = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in [README, *PAGES]
        for match in URL.finditer(path.read_text(encoding="utf-8"))
        if not LOCAL.match(match.group(1))
    ]
    assert not outside


def test_the_readme_links_only_to_files_that_exist() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text(encoding="utf-8"))
    missing = [link for link in links if not (ROOT / link).exists()]
    assert links
    assert not missing
