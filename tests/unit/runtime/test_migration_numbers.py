"""Each migration folder numbers its files once: two files with one number apply in an order
only their names decide, and a reader cannot tell which came first. The two 0004 files of the
runtime were applied everywhere before this test existed; renaming them would apply them again,
so they stay, by name."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
# Both already applied in every database: a rename would re-run them (the runner keys on names).
APPLIED_TWINS = {
    "services/runtime/migrations": {"0004_disclosure_log.sql", "0004_erasable_copies.sql"},
}


def migration_folders() -> list[Path]:
    return sorted(
        folder
        for folder in REPO.glob("services/**/*migrations")
        if folder.is_dir() and any(folder.glob("*.sql"))
    )


def numbers_used_twice(folder: Path) -> dict[str, list[str]]:
    by_number: defaultdict[str, list[str]] = defaultdict(list)
    for file in sorted(folder.glob("*.sql")):
        by_number[file.name.partition("_")[0]].append(file.name)
    return {number: names for number, names in by_number.items() if len(names) > 1}


def test_every_migration_folder_is_checked() -> None:
    found = {folder.relative_to(REPO).as_posix() for folder in migration_folders()}

    assert {
        "services/content/migrations",
        "services/inquiries/migrations",
        "services/logistics/migrations",
        "services/runtime/migrations",
        "services/runtime/access/staff_migrations",
    } <= found


def test_no_two_migrations_in_one_folder_share_a_number() -> None:
    duplicates = {}
    for folder in migration_folders():
        allowed = APPLIED_TWINS.get(folder.relative_to(REPO).as_posix(), set())
        for number, names in numbers_used_twice(folder).items():
            if not set(names) <= allowed:
                duplicates[f"{folder.relative_to(REPO)}/{number}"] = names

    assert duplicates == {}, f"give each a number of its own: {duplicates}"
