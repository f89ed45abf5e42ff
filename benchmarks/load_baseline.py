"""The bare Flask + SQLAlchemy app the load benchmark measures Tangram against.

Each endpoint does by hand the database work of one request type of ``benchmarks/locustfile.py``,
on a copy of the same seeded database, with no metadata, permissions, rules or flows:

- ``POST /records/ticket``: the rows the records service writes for a ticket (the serial number,
  the JSON document, its projection row, a queued audit entry), as ``benchmarks/forms.py``'s
  hand-written baseline writes them; not the flow start, the rules, the SLA rows and the jobs,
  which a bare endpoint knows nothing of;
- ``GET /records/ticket``: the newest 20 tickets (keyset on the id, as Tangram pages);
- ``GET /tasks``: the user's open tasks (newest 20 with their records' data) and the counts of
  open and done ones;
- ``GET /tasks/<id>``: the task and its record;
- ``POST /tasks/<id>/submit``: the response note merged into the record's document, its
  projection column updated under the lock version, an audit entry queued (the task stays open,
  so that the baseline engineers always find work);
- ``GET /cockpit``: the aggregate statements Tangram's cockpit ran when it was opened cold before
  the run (captured by ``load.py``), replayed as they are.

Every request looks its user up by name first (``X-User``), as a session lookup would. Served by
gunicorn with the settings ``tangram serve --processes N`` uses::

    LOAD_BASELINE_DATABASE_URL=... LOAD_BASELINE_COCKPIT=cockpit.pickle \
        gunicorn -k gthread -w 4 --threads 8 'load_baseline:create_app()'
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, request
from sqlalchemy import Connection, create_engine, inspect

APP_KEY = "aftersales"
SERIAL_SCOPE = "aftersales/ticket/ticket_no/baseline"


def create_app() -> Flask:
    """The baseline app on ``LOAD_BASELINE_DATABASE_URL`` (engine created here, after the fork)."""
    engine = create_engine(
        os.environ["LOAD_BASELINE_DATABASE_URL"], pool_size=8, max_overflow=4, pool_pre_ping=False
    )
    cockpit_file = os.environ.get("LOAD_BASELINE_COCKPIT", "")
    cockpit: list[tuple[str, Any]] = (
        pickle.loads(Path(cockpit_file).read_bytes()) if cockpit_file else []  # noqa: S301 - ours
    )
    with engine.connect() as connection:
        app_id = connection.exec_driver_sql(
            "SELECT id FROM apps WHERE key = %(key)s", {"key": APP_KEY}
        ).scalar_one()
    table = f"rp_{app_id}_ticket"
    columns = [c["name"] for c in inspect(engine).get_columns(table)]
    insert_main = (
        f"INSERT INTO {table} ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)}) "
        f"VALUES ({', '.join(f'%({c})s' for c in columns)})"
    )
    app = Flask(__name__)

    def user(connection: Connection) -> int:
        found = connection.exec_driver_sql(
            "SELECT id FROM users WHERE username = %(name)s AND is_active",
            {"name": request.headers.get("X-User", "")},
        ).scalar()
        if found is None:
            abort(401)
        return int(found)

    def audit(connection: Connection, actor: int, action: str, record: int, body: Any) -> None:
        payload = json.dumps(body, ensure_ascii=False, default=str)
        connection.exec_driver_sql(
            "INSERT INTO audit_log (at, actor_id, actor, action, object_type, object_id, payload,"
            " digest, canon) VALUES (%(at)s, %(actor)s, 'baseline', %(action)s, 'record',"
            " %(id)s, %(payload)s::jsonb, %(digest)s, 3)",
            {
                "at": datetime.now(UTC),
                "actor": actor,
                "action": action,
                "id": str(record),
                "payload": payload,
                "digest": hashlib.sha256(payload.encode()).hexdigest(),
            },
        )

    @app.post("/records/ticket")
    def register() -> Any:
        doc = request.get_json()
        now = datetime.now(UTC)
        with engine.begin() as connection:
            actor = user(connection)
            serial = connection.exec_driver_sql(
                "INSERT INTO serial_counters (scope, value, updated_at) VALUES (%(scope)s, 1,"
                " %(now)s) ON CONFLICT (scope) DO UPDATE SET value = serial_counters.value + 1,"
                " updated_at = excluded.updated_at RETURNING value",
                {"scope": SERIAL_SCOPE, "now": now},
            ).scalar_one()
            document = {**doc, "ticket_no": f"BL-{serial:06d}", "status": "new"}
            record_id = connection.exec_driver_sql(
                "INSERT INTO records (app_id, form_key, form_version, data, owner_id, group_id,"
                " created_at, updated_at, created_by, updated_by, lock_version) VALUES"
                " (%(app)s, 'ticket', 1, %(data)s::jsonb, %(actor)s, NULL, %(now)s, %(now)s,"
                " %(actor)s, %(actor)s, 1) RETURNING id",
                {"app": app_id, "data": json.dumps(document), "actor": actor, "now": now},
            ).scalar_one()
            fixed = {"_id": record_id, "_form_version": 1, "_created_at": now, "_updated_at": now}
            connection.exec_driver_sql(
                insert_main, {c: fixed.get(c, document.get(c)) for c in columns}
            )
            changes = {k: [None, v] for k, v in document.items()}
            audit(connection, actor, "record.created", record_id, {"changes": changes})
        return jsonify({"id": record_id, "data": document, "lock_version": 1}), 201

    @app.get("/records/ticket")
    def page() -> Any:
        limit = min(int(request.args.get("limit", 20)), 100)
        with engine.connect() as connection:
            user(connection)
            rows = connection.exec_driver_sql(
                "SELECT id, data, lock_version, created_at, updated_at FROM records WHERE"
                " app_id = %(app)s AND form_key = 'ticket' ORDER BY id DESC LIMIT %(limit)s",
                {"app": app_id, "limit": limit},
            ).all()
        return jsonify({"items": [dict(r._mapping) for r in rows]})

    @app.get("/tasks")
    def inbox() -> Any:
        with engine.connect() as connection:
            actor = user(connection)
            counts = dict(
                connection.exec_driver_sql(
                    "SELECT status, count(*) FROM tasks WHERE assignee_id = %(u)s GROUP BY status",
                    {"u": actor},
                ).all()
            )
            rows = connection.exec_driver_sql(
                "SELECT t.id, t.node, t.record_id, t.created_at, t.due_at, r.data FROM tasks t"
                " JOIN records r ON r.id = t.record_id WHERE t.assignee_id = %(u)s AND"
                " t.status = 'open' ORDER BY t.id DESC LIMIT 20",
                {"u": actor},
            ).all()
            any_task = connection.exec_driver_sql(
                "SELECT max(id) FROM tasks WHERE form_key = 'ticket'"
            ).scalar()
        items = [dict(r._mapping) for r in rows]
        return jsonify({"items": items, "counts": counts, "any_task": any_task})

    @app.get("/tasks/<int:task_id>")
    def task_view(task_id: int) -> Any:
        with engine.connect() as connection:
            user(connection)
            row = connection.exec_driver_sql(
                "SELECT t.id, t.node, t.status, t.record_id, r.data, r.lock_version FROM tasks t"
                " JOIN records r ON r.id = t.record_id WHERE t.id = %(id)s",
                {"id": task_id},
            ).first()
        if row is None:
            abort(404)
        return jsonify(dict(row._mapping))

    @app.post("/tasks/<int:task_id>/submit")
    def submit(task_id: int) -> Any:
        body = request.get_json()
        now = datetime.now(UTC)
        with engine.begin() as connection:
            actor = user(connection)
            record_id = connection.exec_driver_sql(
                "SELECT record_id FROM tasks WHERE id = %(id)s FOR UPDATE", {"id": task_id}
            ).scalar()
            if record_id is None:
                abort(404)
            note = {"response_note": body["response_note"]}
            changed = connection.exec_driver_sql(
                "UPDATE records SET data = data || %(note)s::jsonb, updated_at = %(now)s,"
                " lock_version = lock_version + 1 WHERE id = %(id)s RETURNING lock_version",
                {"note": json.dumps(note), "now": now, "id": record_id},
            ).scalar_one()
            connection.exec_driver_sql(
                f"UPDATE {table} SET response_note = %(note)s, _updated_at = %(now)s"
                " WHERE _id = %(id)s",
                {"note": body["response_note"], "now": now, "id": record_id},
            )
            audit(connection, actor, "record.updated", record_id, {"changes": note})
        return jsonify({"id": task_id, "lock_version": changed})

    @app.get("/cockpit")
    def dashboard() -> Any:
        results = []
        with engine.connect() as connection:
            user(connection)
            for statement, parameters in cockpit:
                results.append(
                    [list(r) for r in connection.exec_driver_sql(statement, parameters).all()]
                )
        return jsonify({"widgets": len(results), "rows": sum(len(r) for r in results)})

    return app
