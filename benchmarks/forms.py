"""Form validation and record creation speed, each beside baselines measured in the same run.

Validation: a 20-field ticket form with a 10-row sub-table; valid and invalid documents. The
engine's ``Form.validate`` adds conditional rules, precision checks and message translation on top
of the schema validation, so bare jsonschema-rs and bare jsonschema are its baselines.

Creation: records created one per transaction through the records service on SQLite (permission
check, serial number, defaults and formulas, validation, reference checks, the JSON document, its
projection row and 10 child rows, the audit entry and the domain event), against a bare SQLAlchemy
insert of the same JSON, one per transaction, into a table with the same indexes as ``records``
(in a database file of its own). The two alternate in rounds.

Fair creation: the same records created through the service and by a hand-written baseline that
writes the same rows into the same tables with the raw DB-API connection, in one transaction each:
the serial number, the document, its projection row, its 10 child rows, its search rows (the words
cut by the same tokenizer and dictionary) and the audit entry (queued, as the service writes it). On SQLite, and on PostgreSQL with ``--database-url`` (the database is
emptied first). Prints the service / baseline time ratio and the statements each runs.

    .venv/bin/python benchmarks/forms.py [--documents 5000] [--records 1000] [--measured]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from sandbox import emptied, temporary_platform
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    inspect,
)

from tangram.config import Settings
from tangram.engines.forms import compile_form
from tangram.engines.forms.search import document_tokens
from tangram.platform import metadata, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel import migrate
from tangram.platform.kernel.models import JSONDoc
from tangram.platform.records import search


def label(text: str) -> dict[str, str]:
    return {"zh-CN": text, "en": text}


DEFINITION: dict[str, Any] = {
    "key": "ticket",
    "label": label("ticket"),
    "fields": [
        {"key": "ticket_no", "type": "serial", "label": label("no"), "serial": "SV-{seq:6}"},
        {"key": "title", "type": "text", "label": label("t"), "required": True},
        {"key": "description", "type": "textarea", "label": label("d")},
        {
            "key": "channel",
            "type": "select",
            "label": label("c"),
            "options": [{"value": v} for v in ("phone", "email", "web", "wechat", "app")],
        },
        {
            "key": "issue_type",
            "type": "select",
            "label": label("i"),
            "required": True,
            "options": [
                {"value": v} for v in ("software_bug", "hardware_fault", "usage", "complaint")
            ],
        },
        {
            "key": "urgency",
            "type": "select",
            "label": label("u"),
            "options": [{"value": f"P{n}"} for n in range(1, 5)],
        },
        {
            "key": "product_line",
            "type": "radio",
            "label": label("p"),
            "options": [{"value": v} for v in "ABCDE"],
        },
        {
            "key": "customer",
            "type": "reference",
            "label": label("c"),
            "reference": {"form": "customer"},
        },
        {
            "key": "product",
            "type": "reference",
            "label": label("p"),
            "reference": {"form": "product"},
        },
        {"key": "contact_name", "type": "text", "label": label("n")},
        {"key": "contact_phone", "type": "phone", "label": label("ph")},
        {"key": "contact_email", "type": "email", "label": label("e")},
        {"key": "occurred_at", "type": "datetime", "label": label("o")},
        {"key": "expected_by", "type": "date", "label": label("x")},
        {"key": "assignee", "type": "user", "label": label("a")},
        {"key": "group", "type": "group", "label": label("g")},
        {"key": "reopen_count", "type": "integer", "label": label("r"), "min": 0},
        {"key": "cost", "type": "money", "label": label("m"), "min": 0},
        {"key": "on_site", "type": "checkbox", "label": label("s")},
        {
            "key": "address",
            "type": "text",
            "label": label("ad"),
            "required_when": {"var": "on_site"},
        },
        {
            "key": "measures",
            "type": "sub_table",
            "label": label("m"),
            "max_rows": 20,
            "fields": [
                {"key": "what", "type": "text", "label": label("w"), "required": True},
                {"key": "owner", "type": "user", "label": label("o"), "required": True},
                {"key": "due", "type": "date", "label": label("d")},
                {"key": "verify", "type": "text", "label": label("v")},
                {
                    "key": "status",
                    "type": "select",
                    "label": label("s"),
                    "options": [{"value": v} for v in ("todo", "doing", "done")],
                },
            ],
        },
    ],
}


def valid(n: int) -> dict[str, Any]:
    return {
        "title": f"设备噪音超标 {n}",
        "description": "运行时噪音超过 45 dB",
        "channel": "phone",
        "issue_type": "hardware_fault",
        "urgency": "P2",
        "product_line": "A",
        "customer": 7,
        "product": 3,
        "contact_name": "李雷",
        "contact_phone": "+86 138-0000-0000",
        "contact_email": "li@example.com",
        "occurred_at": "2026-11-20T10:30:00+08:00",
        "expected_by": "2026-11-25",
        "assignee": 4,
        "group": 2,
        "reopen_count": 0,
        "cost": 120.5,
        "on_site": True,
        "address": "上海",
        "measures": [
            {
                "what": f"措施 {i}",
                "owner": 3,
                "due": "2026-11-30",
                "verify": "p95 < 200 ms",
                "status": "todo",
            }
            for i in range(10)
        ],
    }


def invalid(n: int) -> dict[str, Any]:
    doc = valid(n)
    doc.update(urgency="P9", contact_email="nope", cost=-1)
    doc["measures"][3]["owner"] = "x"
    return doc


def timed(fn: Callable[[dict[str, Any]], Any], docs: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for doc in docs:
        fn(doc)
    return time.perf_counter() - start


def rate(fn: Callable[[dict[str, Any]], Any], docs: list[dict[str, Any]]) -> float:
    return len(docs) / timed(fn, docs)


def simple_form(key: str) -> dict[str, Any]:
    return {
        "key": key,
        "label": label(key),
        "fields": [{"key": "name", "type": "text", "label": label("n"), "indexed": True}],
    }


class DriverClock:
    """Time spent inside the database driver (statements and commits) on one engine, and the
    statements run (BEGIN aside): what the database itself costs, apart from Python."""

    def __init__(self, engine: Engine) -> None:
        self.seconds = 0.0
        self.statements = 0
        dialect = engine.dialect
        for name in ("do_execute", "do_executemany", "do_execute_no_params", "do_commit"):
            setattr(dialect, name, self._timed(getattr(dialect, name)))

    def _timed(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args)
            finally:
                self.seconds += time.perf_counter() - start
                if len(args) > 1 and not str(args[1]).startswith("BEGIN"):
                    self.statements += 1

        return run


def creation(n: int, measured: bool = False, rounds: int = 10) -> None:
    """Records per second through the service against bare inserts, each on its own SQLite file.

    The two alternate in ``rounds`` rounds, so that a change in the machine's disk or CPU speed
    during the run weighs on both alike; each file's WAL checkpoints are paid by its own writes.
    """
    with temporary_platform() as platform, temporary_platform() as baseline:
        system = Actor.system("bench")
        with platform.unit_of_work() as uow:
            metadata.create_app(uow, system, key="bench", name=label("bench"))
            for body in (simple_form("customer"), simple_form("product"), DEFINITION):
                metadata.create_definition(uow, system, "bench", "form", body)
                metadata.publish(uow, system, "bench", "form", body["key"])
            if measured:  # a KPI measures tickets: every write marks the days rollups keep
                kpi = {
                    "key": "tickets",
                    "label": label("tickets"),
                    "form": "ticket",
                    "measure": {"type": "count"},
                }
                metadata.create_definition(uow, system, "bench", "kpi", kpi)
                metadata.publish(uow, system, "bench", "kpi", "tickets")
            uow.commit()
        with platform.unit_of_work() as uow:
            for form in ("customer", "product"):
                for i in range(10):
                    records.create_record(uow, system, "bench", form, {"name": f"{form} {i}"})
            uow.commit()
        docs = [valid(i) for i in range(n)]
        for doc in docs:
            doc["customer"], doc["product"] = 7, 13

        def service(doc: dict[str, Any]) -> None:
            with platform.unit_of_work() as uow:
                records.create_record(uow, system, "bench", "ticket", doc)
                uow.commit()

        bare_table = Table(
            "bare_records",
            MetaData(),
            Column("id", Integer, primary_key=True),
            Column("app_id", Integer, nullable=False),
            Column("form_key", String(64), nullable=False),
            Column("form_version", Integer, nullable=False),
            Column("data", JSONDoc, nullable=False),
            Column("owner_id", Integer),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("updated_at", DateTime(timezone=True), nullable=False),
            Column("lock_version", Integer, nullable=False),
            Index("ix_bare_app_form_id", "app_id", "form_key", "id"),
        )
        bare_table.create(baseline.engine)
        now = datetime.now(UTC)

        def bare(doc: dict[str, Any]) -> None:
            with baseline.write_sessions() as session, session.begin():
                session.execute(
                    insert(bare_table).values(
                        app_id=1,
                        form_key="ticket",
                        form_version=1,
                        data=doc,
                        owner_id=None,
                        created_at=now,
                        updated_at=now,
                        lock_version=1,
                    )
                )

        service(docs[0])  # warm the caches (compiled form, projection check)
        bare(docs[0])
        in_service, in_bare = DriverClock(platform.engine), DriverClock(baseline.engine)
        t_bare = t_service = 0.0
        size = -(-n // rounds)
        for start in range(0, n, size):
            chunk = docs[start : start + size]
            t_bare += timed(bare, chunk)
            t_service += timed(service, chunk)
        r_bare, r_service = n / t_bare, n / t_service
    print(
        f"\nrecord creation on SQLite, one transaction each, {n} records in {rounds} alternating"
        " rounds" + (" (a KPI measures the form)" if measured else "")
    )
    print(f"{'bare insert/s':>14} {'service/s':>10} {'service vs bare':>16}")
    print(f"{r_bare:>14,.0f} {r_service:>10,.0f} {r_bare / r_service:>15.2f}x")
    print(f"\n{'per record':<38} {'bare':>8} {'service':>8} {'ratio':>7}")
    rows = (
        ("statements", in_bare.statements / n, in_service.statements / n),
        (
            "µs in the driver (statements, commit)",
            in_bare.seconds / n * 1e6,
            in_service.seconds / n * 1e6,
        ),
        (
            "µs in Python",
            (t_bare - in_bare.seconds) / n * 1e6,
            (t_service - in_service.seconds) / n * 1e6,
        ),
    )
    for name, b, sv in rows:
        print(f"{name:<38} {b:>8,.0f} {sv:>8,.0f} {sv / b:>6.1f}x")


def _publish(platform: Platform, system: Actor) -> None:
    with platform.unit_of_work() as uow:
        metadata.create_app(uow, system, key="bench", name=label("bench"))
        for body in (simple_form("customer"), simple_form("product"), DEFINITION):
            metadata.create_definition(uow, system, "bench", "form", body)
            metadata.publish(uow, system, "bench", "form", body["key"])
        uow.commit()
    with platform.unit_of_work() as uow:
        for form in ("customer", "product"):
            for i in range(10):
                records.create_record(uow, system, "bench", form, {"name": f"{form} {i}"})
        uow.commit()


def fair_creation(url: str | None, n: int, rounds: int = 10) -> None:
    """Records through the service against the same rows written by hand with the raw DB-API."""
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        emptied(url)
        settings = Settings(
            database_url=url,
            instance_path=Path(tmp),
            secret_key="bench",  # noqa: S106 - a throwaway database
            embedded_worker=False,
        )
        platform = Platform.from_settings(settings)
        try:
            migrate.upgrade(platform.engine)
            _fair(platform, n, rounds)
        finally:
            platform.dispose()


def _fair(platform: Platform, n: int, rounds: int) -> None:
    system = Actor.system("bench")
    _publish(platform, system)
    postgres = platform.engine.dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    tables = inspect(platform.engine).get_table_names()
    main_table = next(t for t in tables if t.startswith("rp_") and t.endswith("_ticket"))
    child_table = f"{main_table}__measures"
    found = inspect(platform.engine)
    main_columns = [c["name"] for c in found.get_columns(main_table)]
    child_columns = [c["name"] for c in found.get_columns(child_table) if c["name"] != "id"]

    def statement(table: str, columns: list[str], tail: str = "") -> str:
        names = ", ".join(f'"{c}"' for c in columns)
        return f"INSERT INTO {table} ({names}) VALUES ({', '.join([mark] * len(columns))}){tail}"

    jsonb = "::jsonb" if postgres else ""
    insert_serial = (
        f"INSERT INTO serial_counters (scope, value, updated_at) VALUES ({mark}, 1, {mark}) "
        f"ON CONFLICT (scope) DO UPDATE SET value = serial_counters.value + 1, "
        f"updated_at = excluded.updated_at RETURNING value"
    )
    insert_record = (
        "INSERT INTO records (app_id, form_key, form_version, data, owner_id, group_id, "
        "created_at, updated_at, created_by, updated_by, lock_version) "
        f"VALUES ({mark}, 'ticket', 1, {mark}{jsonb}, NULL, NULL, {mark}, {mark}, NULL, NULL, 1) "
        "RETURNING id"
    )
    insert_main = statement(main_table, main_columns)
    insert_child = statement(child_table, child_columns)
    insert_search = (
        f"INSERT INTO record_search (record_id, field, tokens) VALUES ({mark}, {mark}, {mark})"
    )
    form = compile_form(DEFINITION)
    segment = search.segmenter()
    insert_audit = (
        "INSERT INTO audit_log (at, actor_id, actor, action, object_type, object_id, payload, "
        f"digest, canon) VALUES ({mark}, NULL, 'bench', 'record.created', 'record', {mark}, "
        f"{mark}{jsonb}, {mark}, 3)"
    )
    raw = platform.engine.raw_connection()
    dbapi = raw.driver_connection
    app_id = 1

    def baseline(doc: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        stamp = now if postgres else now.isoformat(sep=" ")
        cursor = dbapi.cursor()  # type: ignore[union-attr]
        if not postgres:
            cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(insert_serial, ("bench/ticket/ticket_no/SV-#", stamp))
        serial = cursor.fetchone()[0]
        document = {**doc, "ticket_no": f"SV-{serial:06d}"}
        cursor.execute(insert_record, (app_id, json.dumps(document), stamp, stamp))
        record_id = cursor.fetchone()[0]
        fixed = {"_id": record_id, "_form_version": 1, "_created_at": stamp, "_updated_at": stamp}
        cursor.execute(insert_main, [fixed.get(c, document.get(c)) for c in main_columns])
        rows = [
            [{"_record": record_id, "_row": i, **row}.get(c) for c in child_columns]
            for i, row in enumerate(document["measures"])
        ]
        cursor.executemany(insert_child, rows)
        words = document_tokens(form.fields, document, segment)
        cursor.executemany(insert_search, [(record_id, k, v) for k, v in words.items()])
        payload = json.dumps(
            {
                "app": "bench",
                "form": "ticket",
                "version": 1,
                "lock_version": 1,
                "changes": {k: [None, v] for k, v in document.items()},
            }
        )
        digest = hashlib.sha256(payload.encode()).hexdigest()
        cursor.execute(insert_audit, (stamp, str(record_id), payload, digest))
        dbapi.commit()  # type: ignore[union-attr]

    docs = [valid(i) for i in range(n)]
    for doc in docs:
        doc["customer"], doc["product"] = 7, 13

    def service(doc: dict[str, Any]) -> None:
        with platform.unit_of_work() as uow:
            records.create_record(uow, system, "bench", "ticket", doc)
            uow.commit()

    service(docs[0])  # warm the caches (compiled form, projection check)
    baseline(docs[0])
    count = DriverClock(platform.engine)
    t_base = t_service = 0.0
    size = -(-n // rounds)
    for start in range(0, n, size):
        chunk = docs[start : start + size]
        t_base += timed(baseline, chunk)
        t_service += timed(service, chunk)
    raw.close()
    print(
        f"\nrecord creation on {platform.engine.dialect.name}, one transaction each, {n} records "
        f"in {rounds} alternating rounds; the baseline writes the same rows with the raw DB-API"
    )
    print(f"{'baseline/s':>11} {'service/s':>10} {'service time / baseline':>24}")
    print(f"{n / t_base:>11,.0f} {n / t_service:>10,.0f} {t_service / t_base:>23.2f}x")
    print(f"statements per record (BEGIN aside): baseline 6, service {count.statements / n:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL for the fair creation (emptied first)"
    )
    parser.add_argument("--fair-only", action="store_true", help="only the fair creation")
    parser.add_argument(
        "--measured",
        action="store_true",
        help="also with a KPI on the ticket form (its writes mark days for rollups)",
    )
    args = parser.parse_args()
    if args.fair_only:
        fair_creation(args.database_url, args.records)
        return
    form = compile_form(DEFINITION)
    fast = jsonschema_rs.validator_for(form.json_schema, validate_formats=True)
    slow = Draft202012Validator(
        form.json_schema, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    print(f"{args.documents} documents each; 20 fields + a 10-row sub-table\n")
    print(
        f"{'documents':<10} {'jsonschema/s':>13} {'jsonschema-rs/s':>16} {'engine/s':>10} "
        f"{'engine vs rs':>13} {'rs vs jsonschema':>17}"
    )
    for name, make in (("valid", valid), ("invalid", invalid)):
        docs = [make(i) for i in range(args.documents)]
        assert bool(form.validate(docs[0])) == (name == "invalid")
        slow_docs = docs[: max(args.documents // 20, 50)]
        r_slow = rate(lambda d: list(slow.iter_errors(d)), slow_docs)
        r_fast = rate(lambda d: list(fast.iter_errors(d)), docs)
        r_engine = rate(form.validate, docs)
        print(
            f"{name:<10} {r_slow:>13,.0f} {r_fast:>16,.0f} {r_engine:>10,.0f} "
            f"{r_fast / r_engine:>12.2f}x {r_fast / r_slow:>16.0f}x"
        )
    creation(args.records)
    if args.measured:
        creation(args.records, measured=True)
    fair_creation(None, args.records)
    if args.database_url:
        fair_creation(args.database_url, args.records)


if __name__ == "__main__":
    main()
