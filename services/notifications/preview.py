"""`make notifications-preview`: every template in every language, as the recipient sees it,
written to a folder (`<kind>.<language>.html` and `.txt`) to read in a browser."""

from __future__ import annotations

import sys
from pathlib import Path

from services.notifications.rendering import Templates


def write_previews(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    templates = Templates(status_url="http://127.0.0.1:3000/status?inquiry={inquiry_id}")
    written = []
    for kind, language, rendered in templates.every_template():
        for suffix, body in (
            ("html", rendered.html),
            ("txt", f"{rendered.subject}\n\n{rendered.text}"),
        ):
            path = folder / f"{kind}.{language}.{suffix}"
            path.write_text(body, encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".notifications-preview")
    print(f"wrote {len(write_previews(target))} files to {target}")  # noqa: T201
