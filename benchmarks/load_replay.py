"""The load benchmark's second baseline: Tangram's own statements, replayed by a bare Flask app.

``benchmarks/load_baseline.py`` does by hand the essential rows of each request type (5
statements for a registration, against Tangram's 40 or so: no rules, flow, SLA, jobs, search
words or notifications). This app does *the same database work* as Tangram instead: before the
run, ``load.py`` makes each request type once through Tangram in its own process (after a first
time that warms Tangram's caches) and records every statement that request sent to PostgreSQL,
with its parameters, on which pooled connection, and where each transaction committed
(:class:`Recorder`). Each endpoint here replays its request type's script on a copy of the same
database: the same statements with the same parameters, the same checkouts from a pool (with
the same ping) and the same commits, with none of Tangram's Python around them. The answer is
the rows the statements read, as JSON.

What a write creates must be new each time: the ids that ``INSERT … RETURNING`` and
``nextval`` handed out, and the serial number's value, are taken from what the replayed
statement returned and put where the recorded script used the recorded ones (as integers, and as
digits inside text: an audit entry's object id, a job's payload, a ticket number). To tell them
from any other number, ``load.py`` moves the copy's sequences and serial counters far beyond
anything the seed wrote before recording (:func:`spread_generators`): a generated value is then a
number of nine or ten digits that nothing else in a request carries.

The registrations, the inbox, the task view and the task submit are recorded once per quality
engineer: a registration as one dispatched to that engineer (``load.py`` registers until each has
had one), the other three as that engineer working that ticket (its record, flow instance and
task). The replay spreads its registrations over the engineers in turn, as the package's
least-open dispatch spreads Tangram's, so each engineer's inbox holds about as many tasks as in
Tangram's run (recorded for one engineer only, every replayed task went to that one inbox, which
grew to over a thousand tasks in a run and made the replayed inbox slower than Tangram's). Each
replayed registration leaves its generated values waiting for its engineer (a token
registration's translated to the cookie registration's of the same engineer, statement by
statement), on one :class:`Board` for all the replay's processes
(served by ``load.py`` through a ``multiprocessing`` manager, ``LOAD_REPLAY_BOARD``), as
Tangram's tasks are in its database for all of its processes: locust keeps each client on one
process, and an engineer must find their tickets wherever they were registered. That engineer's
inbox answer (``X-User`` names the engineer, as locust sends it to the baselines) hands one of
theirs out under a task number, and the view and the submit of that number act on that ticket's
task with its engineer's recordings, as an engineer acts on a new ticket. When none waits, the
inbox answers no task and the engineer does nothing more, as in Tangram; a number another
process handed out answers 404.

Served by gunicorn with the settings ``tangram serve --processes N`` uses::

    LOAD_REPLAY_DATABASE_URL=... LOAD_REPLAY_SCRIPTS=scripts.pickle LOAD_REPLAY_BOARD=board \\
        gunicorn -k gthread -w 4 --threads 8 'load_replay:create_app()'

With ``LOAD_REPLAY_ANSWERED`` set, each process adds what it answered, by request type, to that
file as it exits (a line of JSON), for ``load.py``'s check.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import pickle
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.managers import BaseManager
from pathlib import Path
from typing import Any

import orjson
from flask import Flask, Response, request
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.pool import Pool

#: Values a sequence or a serial counter handed out after :func:`spread_generators`.
GENERATED = 100_000_000
#: Where the spread sequences start (``id`` columns are 32-bit integers: room for 100).
_SEQUENCES_FROM = 1_000_000_000
_SEQUENCE_STRIDE = 10_000_000
#: What the spread serial counters add to their value.
_SERIALS_BY = 500_000_000
#: A generated value written in text (nine or ten digits, no more).
_DIGITS = re.compile(r"(?<!\d)\d{9,10}(?!\d)")
#: Statements whose returned values may be generated.
_WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|WITH)\b|\bnextval\(", re.IGNORECASE)


@dataclass
class Step:
    """One thing a request did with the database, in order."""

    kind: str  # checkout, exec, commit, rollback, checkin
    connection: int  # which pooled connection (numbered in the order the script took them)
    statement: str = ""
    parameters: Any = None
    many: bool = False
    returned: list[tuple[Any, ...]] | None = None  # what a write returned (generated values)
    autocommit: bool = False  # checkout: a connection in autocommit (the serial numbers' pool)
    remap: bool = False  # exec: its parameters carry generated values


@dataclass
class Script:
    """A request type's statements as Tangram sent them."""

    steps: list[Step] = field(default_factory=list)
    #: a token registration: its generated values as the cookie registration's (whose ticket
    #: a submit acts on), when both generate them by the same statements in the same order
    as_cookie: dict[int, int] = field(default_factory=dict)
    #: the quality engineer a registration was dispatched to, or who read the inbox, viewed or
    #: submitted the task ("": a request type recorded once, for everyone)
    engineer: str = ""

    def statements(self) -> int:
        return sum(1 for s in self.steps if s.kind == "exec")

    def generated(self) -> list[int]:
        """The generated values the script's writes returned, in order."""
        return [value for _, value in self._generating()]

    def _generating(self) -> list[tuple[str, int]]:
        return [
            (step.statement, value)
            for step in self.steps
            for row in step.returned or ()
            for value in row
            if _generated(value)
        ]

    def align(self, cookie: Script) -> None:
        """Note which of ``cookie``'s generated values each of this script's stands for."""
        mine, theirs = self._generating(), cookie._generating()
        if [s for s, _ in mine] == [s for s, _ in theirs]:
            self.as_cookie = {a: b for (_, a), (_, b) in zip(mine, theirs, strict=True)}


def _generated(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= GENERATED


# --- recording (in load.py's process, around Tangram's test client) ----------------------------


class Recorder:
    """Records what this thread's requests do with any engine, from :meth:`start` to
    :meth:`stop`."""

    def __init__(self) -> None:
        self.script: Script | None = None
        self.thread = 0
        self.numbers: dict[int, int] = {}
        self.listeners: list[tuple[Any, str, Any]] = [
            (Engine, "before_cursor_execute", self._before),
            (Engine, "after_cursor_execute", self._after),
            (Engine, "commit", self._commit),
            (Engine, "rollback", self._rollback),
            (Pool, "checkout", self._checkout),
            (Pool, "checkin", self._checkin),
        ]
        for target, name, listener in self.listeners:
            event.listen(target, name, listener)

    def close(self) -> None:
        for target, name, listener in self.listeners:
            event.remove(target, name, listener)

    def start(self) -> None:
        self.script, self.thread, self.numbers = Script(), threading.get_ident(), {}

    def stop(self) -> Script:
        script, self.script = self.script, None
        assert script is not None
        return script

    def _on(self) -> Script | None:
        return self.script if threading.get_ident() == self.thread else None

    def _number(self, dbapi_connection: Any) -> int:
        return self.numbers.setdefault(id(dbapi_connection), len(self.numbers))

    def _checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if (script := self._on()) is not None:
            script.steps.append(
                Step(
                    "checkout",
                    self._number(dbapi_connection),
                    autocommit=bool(dbapi_connection.autocommit),
                )
            )

    def _checkin(self, dbapi_connection: Any, _record: Any) -> None:
        if (script := self._on()) is not None and id(dbapi_connection) in self.numbers:
            script.steps.append(Step("checkin", self._number(dbapi_connection)))

    def _before(
        self,
        connection: Connection,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        many: bool,
    ) -> None:
        if (script := self._on()) is not None:
            number = self._number(connection.connection.dbapi_connection)
            script.steps.append(Step("exec", number, statement, _plain(parameters), many))

    def _after(
        self,
        _connection: Connection,
        cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        many: bool,
    ) -> None:
        script = self._on()
        if script is None or many or cursor.description is None or not _WRITES.search(statement):
            return
        rows = cursor.fetchall()
        cursor.scroll(0, "absolute")  # the rows stay for SQLAlchemy to read
        script.steps[-1].returned = [tuple(r) for r in rows]

    def _commit(self, connection: Connection) -> None:
        if (script := self._on()) is not None:
            script.steps.append(
                Step("commit", self._number(connection.connection.dbapi_connection))
            )

    def _rollback(self, connection: Connection) -> None:
        if (script := self._on()) is not None:
            script.steps.append(
                Step("rollback", self._number(connection.connection.dbapi_connection))
            )


def _plain(value: Any) -> Any:
    """Parameters as plain values that pickle: psycopg's JSON wrappers as their JSON text (a
    string reaches PostgreSQL untyped and is read as the column's type)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    obj = getattr(value, "obj", None)
    if obj is not None and type(value).__module__.startswith("psycopg"):
        dumps = getattr(value, "dumps", None) or json.dumps
        return dumps(obj)
    return value


def mark_remaps(script: Script, generated: list[int]) -> None:
    """Flag the steps whose parameters carry one of ``generated`` (the script's own, and for a
    submit the registration's): only they are rewritten when replayed."""
    values = set(generated)

    def carries(value: Any) -> bool:
        if isinstance(value, dict):
            return any(carries(v) for v in value.values())
        if isinstance(value, list | tuple):
            return any(carries(v) for v in value)
        if isinstance(value, str):
            return any(int(digits) in values for digits in _DIGITS.findall(value))
        return isinstance(value, int) and value in values

    for step in script.steps:
        step.remap = step.kind == "exec" and carries(step.parameters)


def spread_generators(connection: Connection) -> None:
    """Move every sequence and serial counter of the database far beyond what it handed out,
    each sequence to a range of its own: a generated value is then unmistakable."""
    sequences = connection.execute(
        text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1")
    ).scalars()
    for n, name in enumerate(sequences):
        connection.execute(
            text("SELECT setval(:name, :value)"),
            {"name": name, "value": _SEQUENCES_FROM + n * _SEQUENCE_STRIDE},
        )
    connection.execute(text("UPDATE serial_counters SET value = value + :by"), {"by": _SERIALS_BY})


# --- replaying (the gunicorn app) --------------------------------------------------------------


@dataclass
class Ticket:
    """A replayed registration waiting for its engineer: the cookie registration's generated
    values as this replay's."""

    engineer: str
    mapping: dict[int, int]


class Board:
    """The replayed tickets that their engineer has not taken yet, by engineer."""

    def __init__(self) -> None:
        self.waiting: dict[str, deque[Ticket]] = {}
        self.lock = threading.Lock()

    def put(self, ticket: Ticket) -> None:
        with self.lock:
            self.waiting.setdefault(ticket.engineer, deque(maxlen=1000)).append(ticket)

    def take(self, engineer: str = "") -> Ticket | None:
        """The oldest ticket waiting for ``engineer`` (for anyone, without one), or None."""
        with self.lock:
            queues = [self.waiting.get(engineer)] if engineer else list(self.waiting.values())
            queue = next((q for q in queues if q), None)
            return queue.popleft() if queue is not None else None


#: The board that ``load.py``'s manager serves (in the manager's own process).
_BOARD = Board()


def _board() -> Board:
    return _BOARD


class BoardManager(BaseManager):
    """Serves one :class:`Board` to the replay's processes (``board()`` returns a proxy)."""


BoardManager.register("board", callable=_board)
#: Not a secret: the manager listens on a socket in the benchmark's own scratch folder.
BOARD_KEY = b"load-replay"


class Replayer:
    """Replays scripts on an engine; remembers the registrations' generated values for submits.

    ``scripts`` holds each request type's recordings: one per quality engineer for the
    registrations, the inbox, the task view and the task submit, one for the rest. The tickets
    waiting for their engineers are on ``board`` (one of this process's own without one)."""

    def __init__(
        self, url: str, scripts: dict[str, list[Script]], board: Board | None = None
    ) -> None:
        # as Tangram's engines (tangram.platform.kernel.db): the main pool pinged at checkout,
        # the serial numbers' small pool in autocommit and not pinged, JSON read by orjson
        self.engine = create_engine(url, pool_pre_ping=True, json_deserializer=orjson.loads)
        self.autocommit = create_engine(
            url,
            pool_size=2,
            max_overflow=6,
            isolation_level="AUTOCOMMIT",
            json_deserializer=orjson.loads,
        )
        self.scripts = scripts
        #: per request type, its recordings by engineer
        self.engineers = {
            name: {s.engineer: s for s in recorded if s.engineer}
            for name, recorded in scripts.items()
        }
        #: per request type, whose recording the next request without an engineer replays
        self.turns = {name: itertools.count() for name in scripts}
        self.board = board or Board()
        #: tickets an engineer's inbox showed, by the task number the answer gave
        self.taken: dict[int, Ticket] = {}
        self.numbers = itertools.count(1)
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    def script(self, name: str, engineer: str = "") -> Script:
        """``name``'s recording for ``engineer``; without one (or for a request type recorded
        once), the recordings in turn."""
        if engineer and (script := self.engineers[name].get(engineer)):
            return script
        recorded = self.scripts[name]
        return recorded[next(self.turns[name]) % len(recorded)]

    def replay(
        self, name: str, ticket: Ticket | None = None, engineer: str = ""
    ) -> list[list[Any]]:
        """Run ``name``'s script (``ticket``'s engineer's, with the ticket's generated values for
        its own; else ``engineer``'s); the rows its statements read."""
        script = self.script(name, ticket.engineer if ticket else engineer)
        mapping = dict(ticket.mapping) if ticket else {}
        rows = self._run(script, mapping)
        waiting: Ticket | None = None
        if name == "register ticket":
            waiting = Ticket(script.engineer, mapping)
        elif name == "register ticket (token)" and (aligned := script.as_cookie):
            cookie = {aligned[a]: b for a, b in mapping.items() if a in aligned}
            waiting = Ticket(script.engineer, cookie)
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1
        if waiting is not None:
            self.board.put(waiting)
        return rows

    def write_counts(self, path: Path) -> None:
        """Add what this process answered to ``path`` (a line of JSON), for ``load.py``'s check."""
        with self.lock, path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(self.counts) + "\n")

    def take(self, engineer: str = "") -> int | None:
        """A ticket waiting for ``engineer`` (for anyone, without one): the number its task goes
        by in this process, or None."""
        ticket = self.board.take(engineer)
        if ticket is None:
            return None
        with self.lock:
            number = next(self.numbers)
            self.taken[number] = ticket
        return number

    def _run(self, script: Script, mapping: dict[int, int]) -> list[list[Any]]:
        connections: dict[int, Connection] = {}
        read: list[list[Any]] = []
        try:
            for step in script.steps:
                if step.kind == "checkout":
                    engine = self.autocommit if step.autocommit else self.engine
                    connections[step.connection] = engine.connect()
                elif step.kind == "exec":
                    parameters = (
                        _remapped(step.parameters, mapping) if step.remap else step.parameters
                    )
                    result = connections[step.connection].exec_driver_sql(
                        step.statement, parameters
                    )
                    if result.returns_rows:
                        rows = result.all()
                        read.extend(list(r) for r in rows)
                        for old, new in zip(step.returned or (), rows, strict=False):
                            for a, b in zip(old, new, strict=False):
                                if _generated(a):
                                    mapping[a] = b
                elif step.kind == "commit":
                    connections[step.connection].commit()
                elif step.kind == "rollback":
                    connections[step.connection].rollback()
                elif step.kind == "checkin":
                    connections.pop(step.connection).close()
        finally:
            for connection in connections.values():
                connection.close()
        return read


def _remapped(value: Any, mapping: dict[int, int]) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return mapping.get(value, value)
    if isinstance(value, str):
        if not mapping:
            return value
        return _DIGITS.sub(lambda m: str(mapping.get(int(m[0]), m[0])), value)
    if isinstance(value, dict):
        return {k: _remapped(v, mapping) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_remapped(v, mapping) for v in value)
    return value


def create_app() -> Flask:
    """The replay app on ``LOAD_REPLAY_DATABASE_URL`` with ``LOAD_REPLAY_SCRIPTS`` (a pickle
    that ``load.py`` wrote). Routes and answers as ``load_baseline``'s, which locust calls."""
    scripts: dict[str, list[Script]] = pickle.loads(  # noqa: S301 - written by load.py for this run
        Path(os.environ["LOAD_REPLAY_SCRIPTS"]).read_bytes()
    )
    board: Board | None = None
    if address := os.environ.get("LOAD_REPLAY_BOARD"):
        manager = BoardManager(address=address, authkey=BOARD_KEY)
        manager.connect()
        board = manager.board()  # type: ignore[attr-defined]
    replayer = Replayer(os.environ["LOAD_REPLAY_DATABASE_URL"], scripts, board)
    if answered := os.environ.get("LOAD_REPLAY_ANSWERED"):
        atexit.register(replayer.write_counts, Path(answered))
    app = Flask(__name__)

    def answer(
        name: str,
        status: int = 200,
        ticket: Ticket | None = None,
        engineer: str = "",
        **extra: Any,
    ) -> Response:
        rows = replayer.replay(name, ticket, engineer)
        body = json.dumps({"rows": rows, **extra}, default=str, ensure_ascii=False)
        return Response(body, status=status, mimetype="application/json")

    def no_task() -> Response:
        body = json.dumps({"title": "no such task in this process"})
        return Response(body, status=404, mimetype="application/problem+json")

    @app.post("/records/ticket")
    def register() -> Response:
        token = request.headers.get("Authorization", "").startswith("Bearer ")
        return answer("register ticket (token)" if token else "register ticket", 201)

    @app.get("/records/ticket")
    def page() -> Response:
        return answer("list tickets")

    @app.get("/tasks")
    def inbox() -> Response:
        engineer = request.headers.get("X-User", "")
        number = replayer.take(engineer)
        items = [{"id": number}] if number else []
        return answer("inbox", engineer=engineer, items=items, any_task=number)

    @app.get("/tasks/<int:task_id>")
    def task_view(task_id: int) -> Response:
        ticket = replayer.taken.get(task_id)
        return answer("task view", ticket=ticket, lock_version=1) if ticket else no_task()

    @app.post("/tasks/<int:task_id>/submit")
    def submit(task_id: int) -> Response:
        ticket = replayer.taken.pop(task_id, None)
        return answer("task submit", ticket=ticket) if ticket else no_task()

    @app.get("/cockpit")
    def dashboard() -> Response:
        return answer("cockpit")

    return app
