"""`run`: bring the stack up step by step, stay in the foreground, take it down in order."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any, NoReturn

from deploy.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    ManagedProcess,
    ServerError,
    free_port,
    reserve,
    start_nats,
    start_postgres,
)
from deploy.nats_auth import SECRETS_KEY as NATS_SECRETS
from deploy.nats_auth import registered_partners
from deploy.stack import infra
from deploy.stack.access import NatsAccess, prepare_authorization
from deploy.stack.console import Console
from deploy.stack.errors import StackError
from deploy.stack.files import StackPaths, read_json, write_private_json
from deploy.stack.mail import start_catcher
from deploy.stack.partners import (
    HTTP_PARTNER,
    LOCAL_PARTNERS,
    http_partner_environment,
    register_http_partner,
    register_partners,
)
from deploy.stack.seed import LOCAL_SITE, SERVICE_ENV, SeedContext, seed
from deploy.stack.services import ChildProcess, ServiceProcess, wait_until_ready
from deploy.stack.site import SiteServer, patient_links, site_config, site_origin
from services.content.app import DEFINITION as CONTENT
from services.inquiries.app import DEFINITION as INQUIRIES
from services.logistics.app import DEFINITION as LOGISTICS
from services.notifications.app import DEFINITION as NOTIFICATIONS
from services.support.app import DEFINITION as SUPPORT

DEFINITIONS = (CONTENT, INQUIRIES, LOGISTICS, SUPPORT, NOTIFICATIONS)
SERVICE_NAMES = tuple(d.name for d in DEFINITIONS)
PARTNER_NAMES = tuple(p.id for p in LOCAL_PARTNERS)
# Everything whose output the console relays, each under its name.
SOURCES = (*SERVICE_NAMES, *PARTNER_NAMES, HTTP_PARTNER.id)
# Where secrets.json and stack.json keep the webhook partners' credentials.
HTTP_PARTNERS = "http_partners"


class Shutdown:
    """The first SIGINT/SIGTERM cancels the runner, whose cleanup then stops everything in order.
    Later signals only say so: a second Ctrl-C must not abandon a cleanup half done."""

    def __init__(self, console: Console) -> None:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("Shutdown belongs to the runner's task; create it there")
        self.console = console
        self.task = task
        self.signal: signal.Signals | None = None
        self.underway = False

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)

    def begin(self) -> None:
        if not self.underway:
            self.underway = True
            self.console.say("stopping…")

    def _on_signal(self, sig: signal.Signals) -> None:
        if self.underway:
            self.console.say("already stopping…")
            return
        self.signal = sig
        self.begin()
        self.task.cancel()


async def run_stack(paths: StackPaths, console: Console, env: Mapping[str, str]) -> int:
    """Run until a signal (exit status 0) or until any part fails (1). Call with the lock held."""
    started = time.monotonic()
    config = infra.StackConfig.from_env(env, DEFINITIONS)
    config.check_service_ports()
    reserve(config.named_ports())
    stack = Stack(paths, console, config, env)
    shutdown = Shutdown(console)
    shutdown.install()
    exit_code = 0
    async with AsyncExitStack() as resources:
        try:
            await stack.start(resources, started)
            await stack.watch()
        except asyncio.CancelledError:
            if shutdown.signal is None:
                raise
            shutdown.task.uncancel()
        except (StackError, ServerError) as exc:
            console.error(str(exc))
            exit_code = 1
        finally:
            shutdown.begin()
    console.say("stopped")
    return exit_code


class Stack:
    def __init__(
        self,
        paths: StackPaths,
        console: Console,
        config: infra.StackConfig,
        env: Mapping[str, str],
    ) -> None:
        self.paths = paths
        self.console = console
        self.config = config
        self.env = env
        self.servers: list[ManagedProcess] = []
        self.services: list[ServiceProcess] = []
        self.partners: list[ChildProcess] = []
        self.mail: dict[str, str] = {}
        self.sms: dict[str, str] = {}
        self.site: SiteServer | None = None
        # The operator console: a client of the services' APIs, started once they answer.
        self.console_app: ServiceProcess | None = None

    async def start(self, resources: AsyncExitStack, started: float) -> None:
        # Any stack.json now is a leftover of a runner that was killed; it describes nothing.
        self.paths.manifest.unlink(missing_ok=True)
        database_url = await self._postgres(resources)
        # Before NATS: its config names every partner in logistics' registry.
        await infra.migrate(database_url, DEFINITIONS)
        self.console.say("migrations applied")
        nats = await self._nats(resources, database_url)
        await infra.provision_streams(
            nats.admin_url,
            self.config.nats_namespace,
            self.config.nats_stream_replicas,
            partner_consumers=nats.partner_urls if nats.partner_consumer == "bind" else (),
        )
        self.console.say("streams provisioned")
        stored = await self._seed(database_url)
        # Service secrets go to the services' environment; stack.json lists only credentials
        # people and scripts act with.
        service_env = stored.get(SERVICE_ENV, {})
        credentials: dict[str, Any] = {
            k: v for k, v in stored.items() if k not in (SERVICE_ENV, NATS_SECRETS)
        }
        credentials["partners"] = nats.partner_credentials()
        catcher = start_catcher(self.paths.root / "mail")
        resources.callback(catcher.stop)
        self.mail = {"smtp": f"smtp://127.0.0.1:{catcher.port}", "dir": ".stack/mail"}
        self.sms = {"dir": ".stack/sms"}
        service_env = {
            # SMS to patients who agreed to it, as JSON files beside the mail.
            "NOTIFICATIONS_SMS": "sink",
            "NOTIFICATIONS_SMS_DIR": str(self.paths.root / "sms"),
            "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            "NOTIFICATIONS_SMTP_PORT": str(catcher.port),
            "NOTIFICATIONS_SMTP_SECURITY": "none",
            "NOTIFICATIONS_ONCALL_EMAIL": "oncall@carebridge.example",
            # The seed is unreviewed sample content, published so sites can be built against
            # it; it reads `unreviewed`. Everywhere else a medical page needs a sign-off.
            "CONTENT_REQUIRE_REVIEW": "false",
            # The local HTTP partner and sites' webhooks listen on 127.0.0.1.
            "PARTNER_WEBHOOK_ALLOW_PRIVATE": "true",
            "SITE_WEBHOOK_ALLOW_PRIVATE": "true",
            # The links in patients' emails open the example site's pages.
            **patient_links(self.config.site_port),
            **service_env,
        }
        resources.push_async_callback(self._stop_services)
        await self._start_services(database_url, nats, service_env)
        self.console.say("waiting for the services to be ready…")
        await wait_until_ready(self.services)
        await self._start_partners(nats, credentials)
        self._start_site(resources, credentials)
        await self._start_console(database_url, service_env)
        self._publish(resources, database_url, nats.admin_url, credentials)
        self._banner(database_url, nats.admin_url, time.monotonic() - started)

    async def watch(self) -> NoReturn:
        """A half stack is worse than none: any part dying ends the run."""
        while True:
            for service in (*self.services, *self.partners, *self._console_list()):
                if service.exited():
                    raise await service.failure(f"stopped unexpectedly ({service.describe_exit()})")
            for server in self.servers:
                if not server.running():
                    raise StackError(
                        f"{server.name} exited unexpectedly; the end of {server.log_path}:\n"
                        + server.log_tail()
                    )
            await asyncio.sleep(0.5)

    async def _postgres(self, resources: AsyncExitStack) -> str:
        if self.config.external_database_url is not None:
            self.console.say(
                f"using PostgreSQL at {infra.display_url(self.config.external_database_url)}"
            )
            return self.config.external_database_url
        server = infra.start_embedded_postgres(self.paths, self.config.postgres_port, self.console)
        self._keep(resources, server, "PostgreSQL")
        url = await infra.ensure_database(server)
        self.console.say(f"database {infra.DATABASE} ready")
        return url

    async def _nats(self, resources: AsyncExitStack, database_url: str) -> NatsAccess:
        external = self.config.external_nats_url
        if external is not None:
            self.console.say(f"using NATS at {infra.display_url(external)}")
            return NatsAccess.open(external, SERVICE_NAMES, PARTNER_NAMES)
        partners = sorted({*PARTNER_NAMES, *await registered_partners(database_url)})
        stored = read_json(self.paths.secrets) or {}
        secrets = {**stored}
        passwords = prepare_authorization(
            secrets,
            partners,
            self.config.nats_namespace,
            self.paths.nats_config,
            self.paths.nats_pid,
        )
        if secrets != stored:
            write_private_json(self.paths.secrets, secrets)
            self.console.say(f"NATS passwords saved in {self.paths.secrets}")
        server = infra.start_embedded_nats(self.paths, self.config.nats_port, self.console)
        self._keep(resources, server, "NATS")
        return NatsAccess.with_passwords(server.url, passwords, partners)

    def _keep(self, resources: AsyncExitStack, server: ManagedProcess, label: str) -> None:
        """Watch `server` while running and stop it on the way out (after what starts later),
        or whichever took its place after a restart."""
        place = len(self.servers)
        self.servers.append(server)

        def stop() -> None:
            self.console.say(f"stopping {label}…")
            self.servers[place].stop()

        resources.callback(stop)

    def stop_server(self, name: str) -> None:
        """Stop the embedded server `name` ("postgres" or "nats"), as an operator's restart or a
        crash would; `start_server` brings it back on the same port and data."""
        self.servers[self._server_place(name)].stop()

    def start_server(self, name: str) -> ManagedProcess:
        """Start again the embedded server `name` that `stop_server` stopped; the services
        reconnect by themselves."""
        place = self._server_place(name)
        server = self.servers[place]
        if server.running():
            raise StackError(f"{name} is running; stop it first")
        if isinstance(server, EmbeddedPostgres):
            started: ManagedProcess = start_postgres(self.paths.postgres, server.port)
        elif isinstance(server, EmbeddedNats):
            started = start_nats(self.paths.nats, server.port, config=self.paths.nats_config)
        else:
            raise StackError(f"{name} is not a server this stack can start")
        self.servers[place] = started
        return started

    def _server_place(self, name: str) -> int:
        place = next((i for i, s in enumerate(self.servers) if s.name == name), None)
        if place is None:
            raise StackError(f"no embedded server {name!r} in this stack")
        return place

    async def _seed(self, database_url: str) -> dict[str, Any]:
        stored = read_json(self.paths.secrets) or {}
        context = SeedContext(
            database_url=database_url,
            secrets={**stored},
            site_origins=(site_origin(self.config.site_port),),
        )
        await seed(context, self.console)
        if context.secrets != stored:
            write_private_json(self.paths.secrets, context.secrets)
            self.console.say(f"credentials saved in {self.paths.secrets}")
        return context.secrets

    async def _start_services(
        self, database_url: str, nats: NatsAccess, service_env: Mapping[str, str]
    ) -> None:
        env = {
            **service_env,
            **self.env,
            "DATABASE_URL": database_url,
            "LOG_FORMAT": "console" if self.console.is_terminal else "json",
            "PYTHONUNBUFFERED": "1",
        }
        for definition in DEFINITIONS:
            port = self.config.service_ports[definition.name]
            self.console.say(f"starting {definition.name} on 127.0.0.1:{port}…")
            own = {**env, "NATS_URL": nats.service_urls[definition.name]}
            self.services.append(
                await ServiceProcess.serve(definition.name, port, own, self.console)
            )

    async def _start_partners(self, nats: NatsAccess, credentials: dict[str, Any]) -> None:
        """Register the reference partners in logistics (now that it answers), then start
        them; offers sent before a partner listens wait for it in the PARTNERS stream."""
        logistics = next(s for s in self.services if s.name == LOGISTICS.name)
        await register_partners(logistics.url, credentials["staff"]["coordinator"], LOCAL_PARTNERS)
        self.console.say(f"registered {len(LOCAL_PARTNERS)} reference partners in logistics")
        base = {
            **self.env,
            "LOG_FORMAT": "console" if self.console.is_terminal else "json",
            "PYTHONUNBUFFERED": "1",
        }
        for partner in LOCAL_PARTNERS:
            env = partner.environment(
                base, nats.partner_environment(partner.id), self.config.nats_namespace
            )
            self.console.say(f"starting partner {partner.id} ({', '.join(partner.kinds)})…")
            self.partners.append(
                await ChildProcess.start(partner.id, "services.partner", env, self.console)
            )
        await self._start_http_partner(logistics.url, base, credentials)

    async def _start_http_partner(
        self, logistics_url: str, base: Mapping[str, str], credentials: dict[str, Any]
    ) -> None:
        """The reference partner on the webhook channel, its credentials kept in secrets.json
        (answered once by logistics) and listed in stack.json."""
        stored = read_json(self.paths.secrets) or {}
        known: dict[str, Any] | None = stored.get(HTTP_PARTNERS, {}).get(HTTP_PARTNER.id)
        # The same port on every start (kept with the credentials), so the registry's URL and
        # stack.json stay as they were.
        port = int(known["port"]) if known and "port" in known else free_port()
        url = f"http://127.0.0.1:{port}/carebridge"
        issued = await register_http_partner(
            logistics_url, credentials["staff"]["coordinator"], HTTP_PARTNER, url, known
        )
        kept = {"signing_secret": issued["signing_secret"], "token": issued["token"], "port": port}
        if kept != known:
            stored.setdefault(HTTP_PARTNERS, {})[HTTP_PARTNER.id] = kept
            write_private_json(self.paths.secrets, stored)
        credentials[HTTP_PARTNERS] = {HTTP_PARTNER.id: {"url": url, **issued}}
        env = http_partner_environment(
            HTTP_PARTNER, base, issued, logistics_url=logistics_url, port=port
        )
        self.console.say(f"starting partner {HTTP_PARTNER.id} (transfer, webhooks on {url})…")
        self.partners.append(
            await ChildProcess.start(HTTP_PARTNER.id, "services.partner", env, self.console)
        )

    def _console_list(self) -> tuple[ServiceProcess, ...]:
        return (self.console_app,) if self.console_app is not None else ()

    async def _start_console(self, database_url: str, service_env: Mapping[str, str]) -> None:
        """The operator console on CONSOLE_PORT, a client of the services' APIs (plain http
        locally, so its cookie is not Secure), with its own key ring from secrets.json."""
        port = self.config.console_port
        self.console.say(f"starting console on 127.0.0.1:{port}…")
        env = {
            "CONSOLE_ENCRYPTION_KEYS": service_env["CONSOLE_ENCRYPTION_KEYS"],
            **self.env,
            "DATABASE_URL": database_url,
            "LOG_FORMAT": "console" if self.console.is_terminal else "json",
            "PYTHONUNBUFFERED": "1",
            "CONSOLE_INSECURE_COOKIES": self.env.get("CONSOLE_INSECURE_COOKIES", "true"),
            **{f"CONSOLE_{s.name.upper()}_URL": s.url for s in self.services},
        }
        self.console_app = await ServiceProcess.serve("console", port, env, self.console)
        await wait_until_ready([self.console_app])

    def _start_site(self, resources: AsyncExitStack, credentials: dict[str, Any]) -> None:
        """The example site, once the APIs it calls answer, with the key the stack issued it."""
        try:
            site = SiteServer(self.config.site_port, self.paths.root / "site" / "config.json")
        except OSError as exc:
            raise StackError(
                f"the example site cannot listen on port {self.config.site_port} ({exc}); "
                "set SITE_PORT to a free port"
            ) from exc
        services = {s.name: s.url for s in self.services}
        site.publish(site_config(services, credentials["publishable_keys"][LOCAL_SITE]))
        site.start()
        resources.callback(site.stop)
        self.site = site

    async def _stop_services(self) -> None:
        children = (*self._console_list(), *self.partners, *self.services)
        await asyncio.gather(*(child.stop() for child in children))
        if self.services:
            self.console.say("services and partners stopped")

    def _publish(
        self,
        resources: AsyncExitStack,
        database_url: str,
        nats_url: str,
        credentials: dict[str, Any],
    ) -> None:
        manifest = {
            "services": {s.name: s.url for s in self.services},
            "site": self.site.url if self.site else None,
            "console": self.console_app.url if self.console_app else None,
            "metrics": {s.name: s.metrics_url for s in self.services},
            "database_url": database_url,
            "nats_url": nats_url,
            "mail": self.mail,
            "sms": self.sms,
            "credentials": credentials,
            "partners": {p.id: {"name": p.name, "kinds": list(p.kinds)} for p in LOCAL_PARTNERS},
            "pid": os.getpid(),
            "started_at": datetime.now(UTC).isoformat(),
        }
        write_private_json(self.paths.manifest, manifest)
        # Registered last, so it goes first: a stack that is stopping is no longer usable.
        resources.callback(self.paths.manifest.unlink, missing_ok=True)

    def _banner(self, database_url: str, nats_url: str, elapsed: float) -> None:
        say = self.console.say
        width = max(len(name) for name in (*SERVICE_NAMES, "PostgreSQL"))
        say(f"ready in {elapsed:.1f}s")
        for service in self.services:
            say(
                f"  {service.name:<{width}}  {service.url}   API docs: {service.url}/schema"
                f"   metrics: {service.metrics_url or 'off'}"
            )
        if self.console_app is not None:
            say(f"  {'console':<{width}}  {self.console_app.url}   the operator console")
        if self.site is not None:
            say(f"  {'site':<{width}}  {self.site.url}   the example site (examples/site/)")
        say(f"  {'PostgreSQL':<{width}}  {infra.display_url(database_url)}")
        say(f"  {'NATS':<{width}}  {infra.display_url(nats_url)}")
        for partner in LOCAL_PARTNERS:
            say(f"  partner {partner.id}: {', '.join(partner.kinds)}")
        say(f"  partner {HTTP_PARTNER.id}: transfer, over webhooks and the reply API")
        say(f"  URLs, staff tokens and partner credentials: {self.paths.manifest}")
        say("  press Ctrl-C to stop")
