"""Running a rule set on a record: what its expressions see (the record, its references, KPIs, the
calendar), the loop guard, and the audit entry of every rule that fired or failed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import select

from tangram.config import Settings
from tangram.engines.forms import FieldType
from tangram.engines.logic import EvalContext
from tangram.engines.rules import (
    Calendar,
    Effect,
    Rulebook,
    RuleEvent,
    RuleSet,
)
from tangram.platform.kernel.models import Record
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.reports import kpis
from tangram.platform.rules.effects import apply_effects

#: How deep effects may trigger further rules inside one command.
MAX_DEPTH = 5


_DEPTH = "rule_depth"


_CHAIN = "rule_chain"


def calendar_of(book: Rulebook, form_key: str) -> Calendar | None:
    """The business calendar of a form: its first SLA policy's, else the app's only one."""
    policies = book.slas.get(form_key, ())
    if policies:
        return policies[0].calendar
    if len(book.calendars) == 1:
        return next(iter(book.calendars.values()))
    return None


class References(dict[str, Any]):
    """``$ref``: the records a record's reference fields point at, by field, loaded (one query)
    the first time an expression reads one. A ``dict``, so expressions walk into it as into any
    record data."""

    def __init__(self, uow: UnitOfWork, app_key: str, record: Record) -> None:
        super().__init__()
        self._uow = uow
        self._app = app_key
        self._record = record
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        _, form = compiled.form(self._uow, self._app, self._record.form_key)
        wanted = {
            f.key: self._record.data.get(f.key)
            for f in form.fields
            if f.type is FieldType.REFERENCE and isinstance(self._record.data.get(f.key), int)
        }
        if not wanted:
            return
        found = {
            r.id: r
            for r in self._uow.session.scalars(
                select(Record).where(
                    Record.id.in_(sorted(set(wanted.values()))), Record.deleted_at.is_(None)
                )
            )
        }
        self.update(
            {key: {**found[rid].data, "_id": rid} for key, rid in wanted.items() if rid in found}
        )

    def get(self, key: str, default: Any = None) -> Any:
        self._load()
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self._load()
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._load()
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self._load()
        return super().__iter__()

    def __len__(self) -> int:
        self._load()
        return super().__len__()


def evaluation(
    uow: UnitOfWork,
    book: Rulebook,
    record: Record,
    actor_id: int | None,
) -> tuple[dict[str, Any], EvalContext]:
    """What a rule's expressions see of ``record``, and the context they run in (the clock,
    the acting user, the form's business calendar, the app's KPIs)."""
    variables = {
        "$now": uow.now.isoformat(),
        "$user": actor_id,
        "$app": book.app,
        # The record with its id and form (``{"var": "$record._id"}`` links a created record).
        "$record": {**record.data, "_id": record.id, "_form": record.form_key},
        "$ref": References(uow, book.app, record),
    }
    return variables, EvalContext(
        now=uow.now,
        user=actor_id,
        calendar=calendar_of(book, record.form_key),
        kpis=kpis.RuleKpis(uow, book.app),
    )


def run_rules(
    uow: UnitOfWork,
    settings: Settings,
    book: Rulebook,
    record: Record,
    rule_set: RuleSet,
    event: RuleEvent,
    *,
    old: Mapping[str, Any] | None = None,
    actor_id: int | None = None,
) -> None:
    """Evaluate ``rule_set`` for ``event`` on ``record`` and apply what it decides."""
    depth = uow.memo.rule_depth
    chain = uow.memo.rule_chain
    variables, context = evaluation(uow, book, record, actor_id)
    result = rule_set.run(event, record.data, old=old, variables=variables, context=context)
    acting = [t for t in result.traces if t.matched or t.error]
    if not acting:
        return
    if depth >= MAX_DEPTH:
        uow.audit(
            None,
            "rules",
            "rule.loop",
            "record",
            record.id,
            {
                "event": event.name,
                "chain": chain[-2 * MAX_DEPTH :],
                "stopped": [t.rule for t in acting],
                "detail": f"rules kept triggering each other; stopped after {MAX_DEPTH} levels",
            },
        )
        return
    by_rule: dict[str, list[Effect]] = {}
    for effect in result.effects:
        by_rule.setdefault(effect.rule, []).append(effect)
    entries: list[tuple[str, dict[str, Any]]] = []
    for trace in acting:
        chain.append(trace.rule)
        read = _read(book, trace.rule, record.data)
        entry: dict[str, Any] = {
            "app": book.app,
            "form": record.form_key,
            "rule": trace.rule,
            "version": book.versions.get(trace.rule),
            "event": event.name,
            "because": ", ".join(f"{k} = {v}" for k, v in read),
            "read": _plain(dict(read)),
            "values": _plain(trace.values),
        }
        if trace.error:
            entry["error"] = trace.error
        entries.append((trace.rule, entry))
    uow.memo.rule_depth = depth + 1
    try:
        outcomes = iter(
            apply_effects(
                uow,
                settings,
                book,
                record,
                [(book.label(key), by_rule.get(key, [])) for key, e in entries if "error" not in e],
            )
        )
    finally:
        uow.memo.rule_depth = depth
    for key, entry in entries:
        if "error" in entry:
            uow.audit(None, book.label(key), "rule.failed", "record", record.id, entry)
            continue
        outcome = next(outcomes)
        entry["effects"] = outcome.done
        entry["did"] = outcome.did
        if outcome.written:
            entry["set"] = dict(list(outcome.written.items())[:50])
        if outcome.failed:
            entry["failed"] = outcome.failed
        uow.audit(None, book.label(key), "rule.fired", "record", record.id, entry)


def _reads(expression: Any) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for op, args in node.items():
                if op == "var":
                    path = args[0] if isinstance(args, list) and args else args
                    if isinstance(path, str) and path and not path.startswith("$"):
                        found.append(path)
                else:
                    walk(args)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(expression)
    return list(dict.fromkeys(found))


def _read(book: Rulebook, key: str, data: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The fields the rule decided on (its condition's, its decision tables' inputs) and their
    values now: why it fired."""
    body = book.bodies.get(key, {})
    paths = _reads(body.get("condition"))
    for action in body.get("actions", []):
        table = book.tables.get(str(action.get("table"))) if isinstance(action, Mapping) else None
        if table is not None:
            paths += [
                p for p in _reads(book.bodies.get(table.key, {}).get("inputs")) if p not in paths
            ]
            paths += [k for k in table.inputs if k not in paths and k in data]
    shown = []
    for path in paths:
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        shown.append((path, value))
    return shown


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for path, value in list(values.items())[:50]:
        out[path] = (
            value if isinstance(value, str | int | float | bool | type(None)) else str(value)
        )
    return out


def live_record(uow: UnitOfWork, record_id: int) -> Record | None:
    record = uow.session.get(Record, record_id)
    return record if record is not None and record.deleted_at is None else None
