"""The local stack's SMTP catcher: a real SMTP server (aiosmtpd) on loopback that keeps every
message it is given as an `.eml` file, for a developer to open (`make mail` lists them)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from deploy.embedded import free_port


class MailDrop:
    """aiosmtpd's handler: each accepted message becomes `<time>-<id>.eml` in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def start_catcher(folder: Path) -> Controller:
    """Started in the runner's process, on a thread of its own; `stop()` ends it."""
    controller = Controller(MailDrop(folder), hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


def latest(folder: Path, count: int = 20) -> list[Path]:
    return sorted(folder.glob("*.eml"))[-count:]


def main() -> None:
    """`make mail`: the latest messages caught, newest last: time, recipient, subject; then
    the latest SMS the notifications sink wrote (.stack/sms/)."""
    import json  # noqa: PLC0415
    from email import message_from_bytes, policy  # noqa: PLC0415

    folder = Path(".stack/mail")
    files = latest(folder)
    if not files:
        print(f"no messages in {folder}")
    for path in files:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        print(f"{path.name}  to {message['To']}  {message['Subject']}")
    texts = sorted(Path(".stack/sms").glob("*.json"), key=lambda p: p.stat().st_mtime)[-20:]
    for path in texts:
        sms = json.loads(path.read_text("utf-8"))
        print(f"sms {sms['at'][:19]}  to {sms['to']}  {sms['body'][:70]}")


if __name__ == "__main__":
    main()
