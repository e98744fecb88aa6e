"""The benchmarks of `make bench`, run at a toy size. CI does not run `make bench`, so a
benchmark that stopped working (the logistics one did, once bookings needed a key ring) would
be found only by the next person measuring. The figures here mean nothing; a table printed whole
means every path it measures still runs end to end on real servers."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.perf import content_bench, inquiries_bench, logistics_bench, runtime_bench
from tests.perf.servers import Servers

needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (Debian: apt-get install wrk)"
)


@pytest.fixture
def toy_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_bench, "EVENTS", 40)
    monkeypatch.setattr(runtime_bench, "LATENCY_EVENTS", 20)
    monkeypatch.setattr(runtime_bench, "LATENCY_RATE", 200)
    monkeypatch.setattr(logistics_bench, "INQUIRIES", 4)
    monkeypatch.setattr(logistics_bench, "LATENCY_INQUIRIES", 3)
    monkeypatch.setattr(content_bench, "DURATION", "1s")
    monkeypatch.setattr(content_bench, "SECONDS", 1.0)
    monkeypatch.setattr(content_bench, "ROUNDS", 1)
    monkeypatch.setattr(content_bench, "DOCUMENTS", 24)
    monkeypatch.setattr(content_bench, "PUBLISHES", 3)
    monkeypatch.setattr(inquiries_bench, "SECONDS", 1.0)
    # The logistics benchmark quietens the whole process's logging, which would outlast it.
    monkeypatch.setattr(logistics_bench, "configure_logging", lambda **_: None)


def figures(out: str, label: str) -> list[float]:
    """The numbers on the one line of `out` that starts with `label` (after the label)."""
    lines = [line for line in out.splitlines() if line.strip().startswith(label)]
    assert len(lines) == 1, f"{label!r} not printed once:\n{out}"
    rest = lines[0].strip()[len(label) :]
    return [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", rest)]


def assert_measured(rate: float, p50: float, p99: float) -> None:
    """A row of a path that ran: some rate, and latencies in order."""
    assert rate > 0
    assert 0 < p50 <= p99


async def test_the_runtime_benchmark_prints_every_row(
    toy_size: None, database_url: str, nats_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await runtime_bench.run(database_url, nats_url)

    out = capsys.readouterr().out
    for label in (
        "ceiling: JetStream publish+ack, sequential",
        "ceiling: JetStream publish+ack, pipelined x256",
        "outbox relay drain (batch 256)",
        "inbox: consume + apply + record, 1 tx/event",
    ):
        (rate,) = figures(out, label)
        assert rate > 0
    p50, p99 = figures(out, "commit -> stream at 200/s (NOTIFY)")
    assert 0 < p50 <= p99


async def test_the_logistics_benchmark_books_and_confirms_every_booking(
    toy_size: None, postgres_admin_url: str, nats_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await logistics_bench.run(postgres_admin_url, nats_url)

    out = capsys.readouterr().out
    assert_measured(*figures(out, "confirmed event -> booking confirmed, burst"))
    offer = figures(out, "event -> offer at")
    confirmed = figures(out, "event -> booking confirmed at")
    # The steady rate, then p50 and p99; an offer comes before its booking is confirmed.
    assert 0 < offer[1] <= offer[2]
    assert offer[1] < confirmed[1]


@needs_wrk
async def test_the_content_benchmark_reads_pages_revalidates_and_searches_a_catalogue(
    toy_size: None, database_url: str, nats_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # wrk's failed answers stop the benchmark, so a 304 path that answered 4xx would fail here.
    await content_bench.run(Servers(database_url, nats_url))

    out = capsys.readouterr().out
    for label in (
        "ceiling: bare ASGI app, same bytes (200)",
        "content service, cached condition (200)",
        "content service, cached condition, br (200)",
        "content service, If-None-Match (304)",
        "content service, cached first list page (200)",
        "content service, cached search page (200)",
    ):
        rate, p50, p99, _, cpu, _ = figures(out, label)
        assert_measured(rate, p50, p99)
        assert cpu > 0
    decoded, on_the_wire = figures(out, "br:")
    assert on_the_wire * 4 < decoded
    published, *_ = figures(out, "catalogue:")
    assert published == 24
    # (publishes): p50 <ms>, p99 <ms>
    _, _, p50, _, p99 = figures(out, "publish -> visible on the cached replica")
    assert 0 < p50 <= p99
    synced, *_ = figures(out, "sync full pass (uncached):")
    assert synced >= 24
    for label in (
        "first list page, uncached",
        "first list page, cached",
        "search rare word, uncached",
        "search typo (insuficiency, en), uncached",
    ):
        assert_measured(*figures(out, label))


@needs_wrk
async def test_the_inquiries_benchmark_creates_inquiries_over_http(
    toy_size: None, database_url: str, nats_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await inquiries_bench.run(Servers(database_url, nats_url))

    out = capsys.readouterr().out
    for label in (
        "ceiling: bare asyncpg INSERT of the row",
        "POST /v1/inquiries, no Idempotency-Key",
        "POST /v1/inquiries, fresh Idempotency-Key",
    ):
        rate, p50, p99, _ = figures(out, label)
        assert_measured(rate, p50, p99)
    (created,) = figures(out, "(")
    assert created > 0
