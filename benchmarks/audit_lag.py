"""Record writes with the audit chain off the write path, beside the chain on it, in one run.

``inline`` is the former design, kept here as the baseline: each writer chains its own entries in
its transaction, under the chain's lock (SQLite's write lock, an advisory lock on PostgreSQL).
``queued`` is the current one: writers queue their entries, and one sequencer thread (the one a
worker runs) chains them. Writers are threads with an engine each, as app servers would be; each
creates records through the records service, one per transaction. Printed: records per second of
each design and their ratio, and for ``queued`` the lag from a record's commit to its audit entry
being chained (p50, p95, max).

    .venv/bin/python benchmarks/audit_lag.py [--writers 8] [--records 200] \
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/audit_bench]

A PostgreSQL database given by URL is emptied (schema ``public`` dropped) before each design.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from forms import label, simple_form
from sandbox import emptied
from sqlalchemy import select

from tangram.config import Settings
from tangram.platform import metadata, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel import audit, migrate
from tangram.platform.kernel.models import AuditEntry
from tangram.platform.kernel.uow import UnitOfWork


class InlineUnit(UnitOfWork):
    """The former write path: the writer chains its entries before it commits."""

    def _write_audit(self) -> None:
        super()._write_audit()
        audit.chain_queued(self.session, wait=True, batch=10_000)


class InlinePlatform(Platform):
    """A platform whose units of work chain inline."""

    def unit_of_work(self, *, write: bool = True) -> UnitOfWork:
        return InlineUnit(
            self.write_sessions if write else self.read_sessions,
            self.clock,
            settings=self.settings,
            write=write,
            events=self.hooks.events,
            checks=self.hooks.checks,
            caches=self.caches,
        )


def run(design: str, url: str, tmp: Path, writers: int, each: int) -> dict[str, Any]:
    settings = Settings(
        database_url=url,
        instance_path=tmp,
        secret_key="bench",  # noqa: S106 - a throwaway database
        embedded_worker=False,
    )
    emptied(url)
    kind = InlinePlatform if design == "inline" else Platform
    setup = kind.from_settings(settings)
    migrate.upgrade(setup.engine)
    system = Actor.system("bench")
    with setup.unit_of_work() as uow:
        metadata.create_app(uow, system, key="bench", name=label("bench"))
        metadata.create_definition(uow, system, "bench", "form", simple_form("note"))
        metadata.publish(uow, system, "bench", "form", "note")
        uow.commit()
    setup.chain_audit()
    committed: dict[int, float] = {}
    chained: dict[int, float] = {}

    def note(ids: Sequence[int]) -> None:
        now = time.perf_counter()
        for i in ids:
            chained[i] = now

    platforms = [kind.from_settings(settings) for _ in range(writers)]
    barrier = threading.Barrier(writers + 1)

    def write(p: Platform, n: int) -> None:
        barrier.wait()
        for i in range(each):
            with p.unit_of_work() as uow:
                written = records.create_record(uow, system, "bench", "note", {"name": f"{n}-{i}"})
                uow.commit()
            committed[written.record.id] = time.perf_counter()
            p.caches.audit_queued.clear()  # the sequencer below is another process's

    sequencer_platform = Platform.from_settings(settings)
    stop = threading.Event()
    sequencer = None
    if design == "queued":
        sequencer = sequencer_platform.audit_sequencer(on_chained=note).start(stop)
    threads = [threading.Thread(target=write, args=(p, n)) for n, p in enumerate(platforms)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if sequencer is not None:
        deadline = time.perf_counter() + 30
        while len(chained) < len(committed) and time.perf_counter() < deadline:
            time.sleep(0.01)
        stop.set()
        sequencer.join()
    with setup.unit_of_work(write=False) as uow:
        entry_of = {
            int(object_id): entry_id
            for entry_id, object_id in uow.session.execute(
                select(AuditEntry.id, AuditEntry.object_id).where(
                    AuditEntry.object_type == "record", AuditEntry.action == "record.created"
                )
            )
        }
    setup.chain_audit()
    with setup.unit_of_work(write=False) as uow:
        verdict = audit.verify(uow.session, key="bench")
    lags = sorted(
        chained[entry_of[rid]] - at for rid, at in committed.items() if entry_of[rid] in chained
    )
    for p in [*platforms, setup, sequencer_platform]:
        p.dispose()
    return {
        "rate": len(committed) / elapsed,
        "lags": lags,
        "ok": verdict.ok and verdict.checked > len(committed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--records", type=int, default=200, help="records per writer")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        results = {}
        for design in ("inline", "queued"):
            if url.startswith("sqlite"):
                Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            results[design] = run(design, url, Path(tmp), args.writers, args.records)
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    print(f"{dialect}: {args.writers} writers x {args.records} records, one per transaction")
    for design, result in results.items():
        print(f"  {design:7} {result['rate']:8.0f} records/s   chain verifies: {result['ok']}")
    ratio = results["queued"]["rate"] / results["inline"]["rate"]
    print(f"  queued / inline throughput: {ratio:.2f}x")
    lags = results["queued"]["lags"]
    if lags:
        p50 = statistics.median(lags) * 1000
        p95 = lags[int(len(lags) * 0.95) - 1] * 1000
        print(
            f"  commit -> chained lag: p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
            f"max {lags[-1] * 1000:.0f} ms over {len(lags)} entries"
        )


if __name__ == "__main__":
    main()
