"""Write docs/operations/configuration.md from the settings Structs.

Run as `python -m deploy.settings_reference` (`make docs-config`).

The variables, defaults and accepted values come from the Structs themselves (msgspec names
each field's variable and knows its constraints); only the sentence saying what a setting is for
is kept here. A setting without a sentence, or a sentence for a setting that no longer exists,
stops the generator, so the page cannot fall behind the code; tests/unit/test_settings_reference.py
fails when the checked-in page differs from what this writes.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable
from pathlib import Path

import msgspec
from msgspec import inspect

from services.console.app import ConsoleSettings
from services.partner.app import PartnerSettings
from services.runtime.core.settings import ServiceSettings
from services.runtime.service.definition import ServiceDefinition

PAGE = Path(__file__).resolve().parents[1] / "docs" / "operations" / "configuration.md"
SERVICES = ("content", "inquiries", "logistics", "support", "notifications")

# What each variable is for, by variable name; a name shared by services and the reference
# partner means the same thing in both.
DESCRIPTIONS: dict[str, str] = {
    "DATABASE_URL": "the PostgreSQL server and database the service migrates and uses",
    "NATS_URL": "one NATS server, or the nodes of a cluster separated by commas; the client "
    "fails over between them",
    "HOST": "listen address",
    "PORT": "listen port",
    "LOG_LEVEL": "the least severe log level written",
    "LOG_FORMAT": "`console` on a terminal and `json` otherwise when `auto`",
    "ACCESS_LOG": "one log line per HTTP request (method, route template, status, duration_ms, "
    "bytes, request_id, trace_id; never bodies, tokens or query values); `false`: none",
    "ACCESS_LOG_SAMPLE_CACHED": "share (0 to 1) of cached reads answered by the fast path "
    "(content) that get an access log line; 0: none, 1: all",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "an OTLP/HTTP collector's base URL: spans of HTTP requests, "
    "published and handled events go to `<url>/v1/traces` (OpenTelemetry's `OTEL_BSP_*` and "
    "`OTEL_EXPORTER_OTLP_HEADERS` apply); empty: none are exported, the trace context is still "
    "passed on",
    "NATS_NAMESPACE": "prefix for every subject (`ns.content.…`) and stream (`ns_CONTENT`): "
    "isolates tenants or test runs sharing one NATS",
    "NATS_TLS_CA_FILE": "the CA that signed the NATS servers' certificates, when not a public "
    "one (`tls://` URLs); a missing file stops the start",
    "DB_POOL_MIN": "connections the asyncpg pool keeps open",
    "DB_POOL_MAX": (
        "connections the asyncpg pool opens at most (at least `DB_POOL_MIN`); more than the "
        "database's cores only queue in its scheduler instead of the pool"
    ),
    "RELAY_BATCH_SIZE": "outbox rows published per transaction",
    "RELAY_POLL_INTERVAL": "seconds between outbox polls when no NOTIFY arrives",
    "CONSUMER_BATCH_SIZE": "messages fetched per pull",
    "CONSUMER_MAX_DELIVER": "deliveries before a failing message becomes a dead letter",
    "CONSUMER_ACK_WAIT": "seconds before JetStream redelivers an unacknowledged message",
    "SHUTDOWN_GRACE": "seconds the service waits for its loops to finish on SIGTERM",
    "SHUTDOWN_DELAY": "seconds between SIGTERM and closing the listener, while "
    "`/health/ready` answers 503 and everything else is served (5 in `deploy/`)",
    "NATS_STREAM_REPLICAS": "copies of each stream (3 on a NATS cluster); an existing stream "
    "is never lowered",
    "NATS_STREAM_MAX_BYTES": "bytes each stream may hold, reserved by JetStream (0: bounded by "
    "the server's storage); a full stream refuses new messages, which wait in the outbox",
    "VISITOR_RATE_LIMIT": "requests a minute per client address with one publishable key, "
    "besides the key's own limit; 0 for none",
    "ANONYMOUS_RATE_LIMIT": "requests a minute per client address without an API key; 0 for "
    "no limit",
    "API_KEY_REFRESH": "seconds a replica uses its snapshot of API keys before reading them "
    "again: how long a new or revoked key takes to count",
    "STAFF_TOKEN_TTL_DAYS": "days a staff token lives when issued (`make token`) or rotated "
    "without a lifetime of its own; expired tokens are refused with a 401 that says so",
    "REQUEST_MAX_BODY": "largest request body in bytes; larger is a 413",
    "STAFF_RATE_LIMIT": "requests a minute per staff token (a bucket of its own, never the "
    "anonymous one of its address); 0 for no limit",
    "PATIENT_RATE_LIMIT": "requests a minute per patient access token (one inquiry); 0 for no "
    "limit",
    "AUTH_FAILURE_RATE_LIMIT": "requests a minute per client address whose bearer tokens were "
    "refused (401, or 404 for a patient's token): past it, that address's token requests get "
    "429; 0 for no limit",
    "TRUSTED_PROXIES": "CIDRs or addresses, comma-separated, of the proxies in front (an "
    "ingress, a CDN): only a request whose socket peer is one of them has its forwarding header "
    "read, and the right-most address no trusted proxy wrote is the client. Empty: the socket "
    "peer is the client",
    "FORWARDED_HEADER": "which header the trusted proxies write: x-forwarded-for or forwarded "
    "(RFC 7239); the other is never read",
    "METRICS_PORT": "port of the metrics listener (GET /metrics only); unset: the API port + "
    "1000; 0: none. The API port never serves /metrics",
    "DEAD_LETTER_MAX_PAYLOAD": "bytes of a message a dead letter keeps; a larger one is stored "
    "truncated with its size and SHA-256, and cannot be replayed",
    # content
    "ALTCHA_HMAC_KEY": "signs the proof-of-work challenges of browser submissions; replicas "
    "must share one (empty: random per process)",
    "ALTCHA_COST": "PBKDF2 iterations of one attempt at a proof-of-work challenge (a browser "
    "makes about 256 attempts)",
    "ALTCHA_TTL": "seconds a proof-of-work challenge may be solved and sent",
    "BROWSER_SUBMISSIONS_PER_VISITOR": "inquiries an hour one visitor may submit with a site's "
    "publishable key",
    "PREVIEW_SECRET": "signs preview links; replicas must share one (empty: random per process)",
    "PREVIEW_TTL": "seconds a preview link stays valid",
    "SCHEDULE_INTERVAL": "seconds between checks for due scheduled publications",
    "CONTENT_CACHE_BYTES": (
        "bytes of encoded answers (documents, lists, search and sync pages, in every content "
        "coding) kept in memory per replica; the entries read longest ago go first"
    ),
    "CONTENT_REQUIRE_REVIEW": (
        "a condition or treatment is published only with a medical reviewer's sign-off of the "
        "revision (a 409 otherwise); `make run` sets `false` for its unreviewed sample content"
    ),
    # inquiries
    "INQUIRIES_ENCRYPTION_KEYS": "named AES-256 keys, `k1:<base64url>,k2:<base64url>`, that "
    "seal and open patient data (`make run` generates one)",
    "INQUIRIES_ACTIVE_KEY": "id of the key that seals new data (empty: the last key listed)",
    "INQUIRIES_RETENTION_DAYS": "days after a case closed before its personal data is purged",
    "INQUIRIES_FREE_TEXT_RETENTION_DAYS": "days after a case closed before its notes and "
    "free-text reasons are wiped",
    "INQUIRIES_BILLING_RETENTION_YEARS": "years after the end of the year of erasure that a "
    "billing stub is kept",
    "INQUIRIES_RETENTION_INTERVAL": "seconds between retention runs, shared by the replicas "
    "(the schedule is in PostgreSQL)",
    "OFFER_EXPIRY_INTERVAL": "seconds between checks for treatment offers past their validity",
    "LOGISTICS_EXPORT_TIMEOUT": "seconds an export waits for logistics', support's and "
    "notifications' parts (asked at once) before answering 503",
    # logistics
    "LOGISTICS_ENCRYPTION_KEYS": "named AES-256 keys, logistics' own, that seal and open "
    "travellers' booking details (`make run` generates one)",
    "LOGISTICS_ACTIVE_KEY": "id of the key that seals new booking details (empty: the last "
    "key listed)",
    "OFFER_TIMEOUT": "seconds a partner has to accept or decline an offer before it goes to "
    "the next",
    "DEADLINE_INTERVAL": "seconds between scans for unanswered offers",
    "DEADLINE_BATCH": "due offers claimed per transaction",
    # notifications
    "NOTIFICATIONS_ENCRYPTION_KEYS": "named AES-256 keys, notifications' own, that seal the "
    "providers' answers (which may quote an address) (`make run` generates one)",
    "NOTIFICATIONS_ACTIVE_KEY": "id of the key that seals new values (empty: the last key listed)",
    "NOTIFICATIONS_ONCALL_EMAIL": "where staff alerts go: unassigned bookings, partner "
    "incidents, messages that failed",
    "NOTIFICATIONS_STATUS_URL": "the patient's status page, `{inquiry_id}` replaced; never "
    "carries the access token",
    "NOTIFICATIONS_SUPPORT_URL": "where the patient reads a support case with their token, "
    "`{inquiry_id}` and `{case_id}` replaced (the link of a support reply); never carries the "
    "access token",
    "NOTIFICATIONS_STAFF_LANGUAGE": "language of the staff alerts",
    "NOTIFICATIONS_SMTP_HOST": "the SMTP server messages are sent through",
    "NOTIFICATIONS_SMTP_PORT": "its port (465 with `tls`, 587 with `starttls`)",
    "NOTIFICATIONS_SMTP_SECURITY": "`tls` (implicit), `starttls`, or `none` (a local catcher only)",
    "NOTIFICATIONS_SMTP_CA_FILE": "PEM CA certificates that sign the SMTP server's certificate "
    "(a private CA), trusted instead of the system's (empty: the system's); the host name is "
    "verified either way",
    "NOTIFICATIONS_BOUNCE_ADDRESS": "the return path's base, `bounces@domain`: each message goes "
    "out with `bounces+<notification id>@domain` (VERP) so a later bounce names it (empty: the "
    "sender's address, no bounce tracking)",
    "NOTIFICATIONS_BOUNCE_HOST": "address the bounce listener binds",
    "NOTIFICATIONS_BOUNCE_PORT": "port of the SMTP listener that takes delivery-status reports "
    "(RFC 3464) the MX relays for the bounce address (0: off)",
    "NOTIFICATIONS_SMTP_USERNAME": "login at the SMTP server (empty: none)",
    "NOTIFICATIONS_SMTP_PASSWORD": "its password; never logged",
    "NOTIFICATIONS_SMTP_TIMEOUT": "seconds an SMTP exchange may take",
    "NOTIFICATIONS_SENDER": "the From of every message, `Name <address>`; its domain ends "
    "each Message-ID",
    "NOTIFICATIONS_REPLY_TO": "the Reply-To of every message (empty: none)",
    "NOTIFICATIONS_SEND_INTERVAL": "seconds between scans for due messages",
    "NOTIFICATIONS_SEND_BATCH": "due messages claimed at once",
    "NOTIFICATIONS_RETRY_BASE": "seconds before the first retry after a provider error; doubling",
    "NOTIFICATIONS_RETRY_CAP": "longest wait between retries, in seconds",
    "NOTIFICATIONS_MAX_ATTEMPTS": "attempts before a message fails for good and on-call is told",
    "NOTIFICATIONS_LEASE": "seconds a replica holds a message it is sending (longer than the "
    "SMTP timeout); a crash hands it on after",
    "NOTIFICATIONS_CONTACT_TIMEOUT": "seconds to wait for inquiries' answer with a patient's "
    "contact",
    "CONTENT_ENCRYPTION_KEYS": "content's key ring (`id:key,…`, each 32 bytes base64url), "
    "sealing sites' webhook signing secrets; unset, sites cannot register webhooks",
    "SITE_WEBHOOK_ALLOW_PRIVATE": "`true` lets sites' webhook URLs use http:// and private or "
    "loopback addresses (the local stack, tests); never in production",
    "PARTNER_WEBHOOK_ALLOW_PRIVATE": "`true` lets webhook partners' URLs use http:// and "
    "private or loopback addresses (the local stack, tests); never in production",
    "PARTNER_WEBHOOK_TIMEOUT": "seconds one webhook delivery attempt may take, connecting and "
    "answering",
    "PARTNER_WEBHOOK_RETRY_FIRST": "seconds before a failed webhook is tried again the first time; "
    "doubling (with jitter) up to PARTNER_WEBHOOK_RETRY_CAP, until the offer's deadline",
    "PARTNER_WEBHOOK_RETRY_CAP": "the longest wait, in seconds, between two attempts of a webhook",
    "PARTNER_WEBHOOK_BREAKER_FAILURES": "consecutive failed attempts that open a webhook "
    "partner's circuit breaker",
    "PARTNER_WEBHOOK_BREAKER_COOLDOWN": "seconds an open circuit breaker holds a partner's "
    "webhooks back before one attempt goes through",
    "PARTNER_WEBHOOK_INTERVAL": "seconds between two looks for webhooks due to be sent",
    "PARTNER_WEBHOOK_NOTICE_WINDOW": "seconds a withdrawal or erasure notice to a webhook partner "
    "is retried (an offer: until its deadline)",
    "PARTNER_CREDENTIAL_OVERLAP": "seconds a webhook partner's old signing secret and token keep "
    "working after a rotation",
    "PARTNER_REPLY_RATE_LIMIT": "replies a minute each partner may have applied; the excess "
    "is handed back to come again later, and dead-lettered if still over after many attempts; "
    "0 for no limit",
    "NOTIFICATIONS_SMS": "SMS to patients who agreed to it: `none` (email only), `api` (a "
    "provider's HTTP API shaped like Twilio's Messages API) or `sink` (JSON files: the local "
    "stack)",
    "NOTIFICATIONS_SMS_URL": "the SMS API's base URL; messages are posted to "
    "`/2010-04-01/Accounts/{account}/Messages.json`",
    "NOTIFICATIONS_SMS_ACCOUNT": "the SMS API account (the basic-auth user and part of the path)",
    "NOTIFICATIONS_SMS_KEY": "the SMS API key (the basic-auth password); never logged",
    "NOTIFICATIONS_SMS_SENDER": "the SMS `From`: a number in E.164 or an alphanumeric sender id",
    "NOTIFICATIONS_SMS_DIR": "where the `sink` writes each SMS as a JSON file",
    # support
    "SUPPORT_ENCRYPTION_KEYS": "named AES-256 keys, support's own, that seal the cases' "
    "threads: `k1:<base64url 32 bytes>,k2:…`; every key still needed to read old rows; never "
    "logged",
    "CONSOLE_ENCRYPTION_KEYS": "named AES-256 keys, the console's own, that seal each "
    "session's staff token at rest: `k1:<base64url 32 bytes>,k2:…`; never logged",
    "CONSOLE_ACTIVE_KEY": "id of the key that seals new sessions (empty: the last key listed)",
    "CONSOLE_CONTENT_URL": "base URL of the content API the console calls",
    "CONSOLE_INQUIRIES_URL": "base URL of the inquiries API the console calls",
    "CONSOLE_LOGISTICS_URL": "base URL of the logistics API the console calls",
    "CONSOLE_SUPPORT_URL": "base URL of the support API the console calls",
    "CONSOLE_NOTIFICATIONS_URL": "base URL of the notifications API the console calls",
    "CONSOLE_IDLE_TIMEOUT": "seconds a console session lives without a request",
    "CONSOLE_ABSOLUTE_TIMEOUT": "seconds a console session lives at most, however busy",
    "CONSOLE_INSECURE_COOKIES": "`true` only on plain http (the local stack sets it): the "
    "session cookie then lacks `Secure`",
    "CONSOLE_API_TIMEOUT": "seconds the console waits for an API's answer",
    "SUPPORT_ACTIVE_KEY": "id of the key that seals new values (empty: the last key listed)",
    "SUPPORT_EMERGENCY_NUMBER": "the number the first answer to a medical case tells the "
    "patient to call (112 answers across the EU)",
    "SUPPORT_CLINIC_PHONE": "the clinic's line added to that answer (empty: not told)",
    "SUPPORT_ESCALATION_INTERVAL": "longest sleep of the escalation loop; it wakes at the next "
    "acknowledge deadline, and at least this often for cases opened meanwhile",
    "SUPPORT_ESCALATION_BATCH": "due cases escalated in one transaction",
    "SUPPORT_TOKEN_CHECK_TIMEOUT": "seconds to wait for inquiries' answer whether a patient's "
    "access token opens their inquiry (503 after)",
    "SUPPORT_FIGURES_INTERVAL": "seconds between readings of the desk's figures (p50, p95, "
    "breaches) for /metrics",
    # the reference partner
    "PARTNER_ID": "the partner's id in the registry: its subjects and its durable (`partner-{id}`)",
    "PARTNER_KINDS": "comma-separated kinds it serves; an offer of another kind is declined "
    "`not_qualified`",
    "NATS_INBOX_PREFIX": "where replies to the partner arrive; with restricted credentials "
    "`_INBOX_{id}`",
    "PARTNER_CONSUMER": "`create`: make (or update) its durable consumer; `bind`: only read the "
    "one Carebridge made",
    "ACCEPT_RATE": "share of offers accepted; the rest are declined `no_capacity`",
    "REPLY_DELAY": "seconds before answering an offer (shorter than `ACK_WAIT`)",
    "STEP_DELAY": "seconds between status updates",
    "RANDOM_SEED": "makes each offer's accept or decline draw reproducible",
    "BATCH_SIZE": "offers fetched per pull",
    "ACK_WAIT": "seconds before JetStream redelivers an unanswered offer",
}

INTRO = """\
Each process reads its settings from the environment once, at start. Any setting can come from
a file instead, named by `<NAME>_FILE` (`INQUIRIES_ENCRYPTION_KEYS_FILE=/run/secrets/keys`, as
Docker and Kubernetes mount secrets); the plain variable wins when both are set. An invalid value
stops the process with exit status 2 and one line naming the variable, such as
`configuration error: PORT is invalid: Expected int, got str`."""


def render() -> str:
    common = _variables(ServiceSettings)
    definitions = _definitions()
    ports = ", ".join(f"{d.default_port} ({d.name})" for d in definitions)
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by `make docs-config` (python -m deploy.settings_reference) from the",
        "     settings Structs: edit those, or the descriptions in deploy/settings_reference -->",
        "",
        INTRO,
        "",
        "## Every service",
        "",
        *_table(ServiceSettings, common, {"PORT": ports, **_own_defaults(definitions, common)}),
    ]
    for definition in definitions:
        settings = definition.settings_type
        own = [f for f in msgspec.structs.fields(settings) if f.encode_name not in common]
        lines += ["", f"## {definition.name}", ""]
        if own:
            lines += [f"Besides those of every service, `{definition.name}` reads:", ""]
            lines += _table(settings, {f.encode_name for f in own}, {})
        else:
            lines.append(f"`{definition.name}` reads only the settings of every service.")
    own = [f for f in msgspec.structs.fields(ConsoleSettings) if f.encode_name not in common]
    lines += [
        "",
        "## console",
        "",
        "The operator console (`python -m services.console`, port 8000) uses of the settings "
        "of every service those that apply to a web client with a database of sessions "
        "(`DATABASE_URL`, `HOST`, `PORT`, `LOG_*`, `DB_POOL_*`; no NATS). Besides, it reads:",
        "",
        *_table(ConsoleSettings, {f.encode_name for f in own}, {}),
    ]
    lines += [
        "",
        "## The reference partner",
        "",
        "`python -m services.partner` (see [Partners](../partners.md)) reads:",
        "",
        *_table(PartnerSettings, _variables(PartnerSettings), {}),
    ]
    return "\n".join(lines) + "\n"


def _definitions() -> list[ServiceDefinition]:
    """Each service's definition: its settings class and default port, as the service runs."""
    return [importlib.import_module(f"services.{name}.app").DEFINITION for name in SERVICES]


def _own_defaults(definitions: list[ServiceDefinition], common: set[str]) -> dict[str, str]:
    """The settings of every service whose default some service sets otherwise: each default,
    with the services that have it."""
    base = _defaults(ServiceSettings)
    services = {d.name: _defaults(d.settings_type) for d in definitions}
    differing: dict[str, str] = {}
    for name in sorted(common - {"PORT"}):
        others = [f"{own[name]} ({service})" for service, own in services.items()
                  if own[name] != base[name]]  # fmt: skip
        if others:
            differing[name] = ", ".join([base[name], *others])
    return differing


def _defaults(settings: type[msgspec.Struct]) -> dict[str, str]:
    return {field.encode_name: _default(field) for field in _fields(settings)}


def _fields(settings: type[msgspec.Struct]) -> tuple[inspect.Field, ...]:
    info = inspect.type_info(settings)
    assert isinstance(info, inspect.StructType)  # noqa: S101 (a settings class is a Struct)
    return info.fields


def _variables(settings: type[msgspec.Struct]) -> set[str]:
    return {f.encode_name for f in msgspec.structs.fields(settings)}


def _table(
    settings: type[msgspec.Struct], names: Iterable[str], defaults: dict[str, str]
) -> list[str]:
    wanted = set(names)
    rows = ["| variable | default | accepts | what it is for |", "| --- | --- | --- | --- |"]
    for field in _fields(settings):
        if field.encode_name not in wanted:
            continue
        default = defaults.get(field.encode_name) or _default(field)
        accepts = _accepts(field.type)
        rows.append(
            f"| `{field.encode_name}` | {default} | {accepts} | {_description(field.encode_name)} |"
        )
    return rows


def _description(variable: str) -> str:
    try:
        return DESCRIPTIONS[variable]
    except KeyError:
        raise SystemExit(
            f"settings_reference: {variable} has no description; add one to DESCRIPTIONS"
        ) from None


def _default(field: inspect.Field) -> str:
    if field.required:
        return "required"
    value = field.default
    if value is None:
        return "none"
    if value == "":
        return "empty"
    return f"`{value}`"


def _accepts(t: inspect.Type) -> str:
    match t:
        case inspect.LiteralType(values=values):
            accepts = ", ".join(f"`{v}`" for v in values)
        case inspect.IntType() | inspect.FloatType():
            accepts = _bounds("integer" if isinstance(t, inspect.IntType) else "number", t)
        case inspect.StrType(pattern=str() as pattern):
            # The site's Markdown keeps a pipe inside a code span in its table cell.
            accepts = f"text matching `{pattern}`"
        case inspect.StrType():
            accepts = "text"
        case inspect.UnionType(types=types):
            accepts = " or ".join(_accepts(member) for member in types)
        case inspect.NoneType():
            accepts = "unset"
        case _:
            accepts = type(t).__name__
    return accepts


def _bounds(noun: str, t: inspect.IntType | inspect.FloatType) -> str:
    low = f"> {t.gt}" if t.gt is not None else f"≥ {t.ge}" if t.ge is not None else ""
    high = f"< {t.lt}" if t.lt is not None else f"≤ {t.le}" if t.le is not None else ""
    return " ".join(part for part in (noun, low, "and" if low and high else "", high) if part)


def _check_descriptions() -> None:
    known = _variables(ServiceSettings) | _variables(PartnerSettings) | _variables(ConsoleSettings)
    for definition in _definitions():
        known |= _variables(definition.settings_type)
    if stale := sorted(DESCRIPTIONS.keys() - known):
        raise SystemExit(f"settings_reference: no setting is named {', '.join(stale)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is out of date")
    args = parser.parse_args(argv)
    _check_descriptions()
    page = render()
    if args.check:
        if not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != page:
            print(f"{PAGE} is out of date: run make docs-config", file=sys.stderr)
            return 1
        return 0
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(Path.cwd()) if PAGE.is_relative_to(Path.cwd()) else PAGE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
