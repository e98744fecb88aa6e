"""The example site (examples/site/) as a third-party site would host it: static files on an
origin of their own, talking to the public APIs from the browser. `make run` serves it on
SITE_PORT (3000 by default) from a thread of the runner, as the SMTP catcher runs.

The pages know nothing of this stack: they read `/config.json`, which the runner writes into
the data folder (the APIs' URLs and the site's publishable key) and this server hands out as
if it were a file of the site; a developer who copies the site writes their own."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from deploy.stack.files import REPO, write_private_json

SITE_ROOT = REPO / "examples" / "site"
SITE_PORT_VARIABLE = "SITE_PORT"
DEFAULT_SITE_PORT = 3000
CONFIG_PATH = "/config.json"


def site_origin(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def patient_links(port: int) -> dict[str, str]:
    """Where the emails to patients point: this site's status and support pages, on the port
    it listens on (a developer's own NOTIFICATIONS_* settings win)."""
    origin = site_origin(port)
    return {
        "NOTIFICATIONS_STATUS_URL": f"{origin}/status?inquiry={{inquiry_id}}",
        "NOTIFICATIONS_SUPPORT_URL": f"{origin}/support?inquiry={{inquiry_id}}&case={{case_id}}",
    }


def site_config(services: Mapping[str, str], publishable_key: str) -> dict[str, Any]:
    """What the pages need to call the APIs: where they are and the key a browser may hold."""
    return {
        "content": services["content"],
        "inquiries": services["inquiries"],
        "support": services["support"],
        "publishable_key": publishable_key,
        "locales": ["en", "de", "uk", "ru", "ar"],
    }


class _SiteFiles(SimpleHTTPRequestHandler):
    """The site's files, and config.json from the data folder. Never cached: a developer edits
    the files while the stack runs, and config.json changes with every start."""

    config_file: Path

    def do_GET(self) -> None:
        path, mark, query = self.path.partition("?")
        if path == CONFIG_PATH:
            self._send_config()
            return
        # Clean URLs, as static hosts serve them: /status is status.html. The links patients
        # get by email (NOTIFICATIONS_STATUS_URL, NOTIFICATIONS_SUPPORT_URL) are such URLs.
        if path not in ("", "/") and "." not in path.rsplit("/", 1)[-1]:
            page = Path(self.directory) / f"{path.strip('/')}.html"
            if page.resolve().parent == Path(self.directory).resolve() and page.is_file():
                self.path = f"{path.rstrip('/')}.html{mark}{query}"
        super().do_GET()

    def _send_config(self) -> None:
        try:
            body = self.config_file.read_bytes()
        except FileNotFoundError:
            self.send_error(HTTPStatus.SERVICE_UNAVAILABLE, "the stack is not ready yet")
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the console shows the services' lines, not every asset fetched."""


class SiteServer:
    """The static server on 127.0.0.1:`port`; `stop()` ends it."""

    def __init__(self, port: int, config_file: Path, root: Path = SITE_ROOT) -> None:
        handler = type("SiteFiles", (_SiteFiles,), {"config_file": config_file})
        self.config_file = config_file
        self.server = ThreadingHTTPServer(
            ("127.0.0.1", port), partial(handler, directory=str(root))
        )
        self.server.daemon_threads = True
        self.url = site_origin(port)
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="example-site", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def publish(self, config: dict[str, Any]) -> None:
        """Write the pages' config.json (it names a key, so only its owner may read the file)."""
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        write_private_json(self.config_file, config)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.config_file.unlink(missing_ok=True)
