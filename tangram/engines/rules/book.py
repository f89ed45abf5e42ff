"""An app's rule book: its calendars, decision tables, SLA policies and rule sets, compiled together.

Definitions of kind ``rule`` come in three types: ``rule`` (the default), ``decision_table`` and
``sla``. Compilation order follows their references: calendars, then decision tables, then SLA
policies and rules. Problems are reported with paths under ``/<kind>s/<key>``, and a definition
with a problem is left out of the book (the platform refuses to publish such a book).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.rules.calendar import Calendar, compile_calendar
from tangram.engines.rules.decision import DecisionTable, compile_decision_table
from tangram.engines.rules.rule import Rule, RuleSet, compile_rule
from tangram.engines.rules.sla import SlaPolicy, compile_sla

#: (kind, key, version) of every published definition a book depends on.
Fingerprint = tuple[tuple[str, str, int], ...]
#: The kinds a book is compiled from (and whose publication can break it).
BOOK_KINDS = ("rule", "calendar", "form", "flow")

T = TypeVar("T")


@dataclass(frozen=True)
class BookSource:
    """A published (or about to be published) definition a book is compiled from."""

    kind: str
    key: str
    version: int
    body: Mapping[str, Any]


@dataclass(frozen=True)
class Rulebook:
    """Everything the platform needs to run an app's rules."""

    app: str
    fingerprint: Fingerprint = ()
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    tables: Mapping[str, DecisionTable] = field(default_factory=dict)
    #: Rule sets by form key (enabled rules only).
    rule_sets: Mapping[str, RuleSet] = field(default_factory=dict)
    #: Every compiled rule by key, and the form it belongs to.
    rules: Mapping[str, Rule] = field(default_factory=dict)
    form_of: Mapping[str, str] = field(default_factory=dict)
    #: SLA policies by form key.
    slas: Mapping[str, tuple[SlaPolicy, ...]] = field(default_factory=dict)
    #: Published version of each rule-kind definition (for traces: "rule dispatch v3").
    versions: Mapping[str, int] = field(default_factory=dict)
    #: Definition bodies by key (the simulator compares drafts with them).
    bodies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def label(self, key: str) -> str:
        """How traces and the audit log name a rule: ``rule dispatch v3``."""
        version = self.versions.get(key)
        return f"rule {key}" + (f" v{version}" if version else "")


def catalog(sources: Sequence[BookSource]) -> tuple[dict[str, list[str]], frozenset[str]]:
    """The field keys of every form among ``sources``, and the keys of their flows."""
    forms = {
        s.key: [str(f.get("key")) for f in s.body.get("fields", [])]
        for s in sources
        if s.kind == "form"
    }
    flows = frozenset(s.key for s in sources if s.kind == "flow")
    return forms, flows


@dataclass
class _Compiler:
    """One compilation of a book: what it has built so far and the problems it met."""

    forms: Mapping[str, Sequence[str]]
    flows: frozenset[str]
    problems: list[Diagnostic] = field(default_factory=list)
    calendars: dict[str, Calendar] = field(default_factory=dict)
    tables: dict[str, DecisionTable] = field(default_factory=dict)
    slas: dict[str, list[SlaPolicy]] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    form_of: dict[str, str] = field(default_factory=dict)

    def attempt(self, where: str, build: Callable[[], T]) -> T | None:
        """``build()``, or ``None`` with its problems noted under ``where``."""
        try:
            return build()
        except DefinitionError as exc:
            self.problems.extend(
                Diagnostic(f"{where}{d.path}", d.code, d.message) for d in exc.diagnostics
            )
            return None

    def fields_of(self, body: Mapping[str, Any], where: str) -> frozenset[str] | None:
        """The fields of the form a rule names (``None``: it names none, or an unknown one)."""
        form = body.get("form")
        if form is None:
            return None
        if form not in self.forms:
            self.problems.append(
                Diagnostic(f"{where}/form", "rule.form", f"no published form {form!r}")
            )
            return None
        return frozenset(self.forms[form])

    def calendar(self, s: BookSource) -> None:
        compiled = self.attempt(f"/calendars/{s.key}", lambda: compile_calendar(s.body))
        if compiled is not None:
            self.calendars[s.key] = compiled

    def table(self, s: BookSource) -> None:
        where = f"/rules/{s.key}"
        fields = self.fields_of(s.body, where)
        table = self.attempt(where, lambda: compile_decision_table(s.body, fields=fields))
        if table is not None:
            self.tables[s.key] = table

    def rule_or_policy(self, s: BookSource) -> None:
        where = f"/rules/{s.key}"
        fields = self.fields_of(s.body, where)
        if fields is None:
            if "form" not in s.body:
                self.problems.append(Diagnostic(f"{where}/form", "rule.form", "name the form"))
            return
        common: dict[str, Any] = {
            "fields": fields,
            "tables": self.tables,
            "forms": frozenset(self.forms),
            "flows": self.flows,
        }
        if s.body.get("type", "rule") == "sla":
            policy = self.attempt(
                where, lambda: compile_sla(s.body, calendars=self.calendars, **common)
            )
            if policy is not None:
                self.slas.setdefault(str(s.body["form"]), []).append(policy)
            return
        rule = self.attempt(where, lambda: compile_rule(s.body, **common))
        if rule is not None and not self._calendar_known(rule, s.body, where):
            rule = None
        if rule is not None:
            self.rules[s.key] = rule
            self.form_of[s.key] = str(s.body["form"])

    def _calendar_known(self, rule: Rule, body: Mapping[str, Any], where: str) -> bool:
        """A timer in business time must name a calendar of the book."""
        trigger = body.get("trigger") or {}
        if rule.trigger != "timer" or not trigger.get("business"):
            return True
        if str(trigger.get("calendar")) in self.calendars:
            return True
        self.problems.append(
            Diagnostic(
                f"{where}/trigger/calendar",
                "rule.calendar",
                "a timer in business time names its calendar; known: "
                + (", ".join(sorted(self.calendars)) or "none"),
            )
        )
        return False

    def rule_sets(self) -> dict[str, RuleSet]:
        """Enabled rules by form, highest priority first (then by key)."""
        by_form: dict[str, list[Rule]] = {}
        for key, rule in self.rules.items():
            by_form.setdefault(self.form_of[key], []).append(rule)
        return {
            form: RuleSet(tuple(sorted(found, key=lambda r: (-r.priority, r.key))))
            for form, found in by_form.items()
        }


def compile_book(
    app_key: str,
    sources: Sequence[BookSource],
    *,
    forms: Mapping[str, Sequence[str]],
    flows: frozenset[str],
    fingerprint: Fingerprint = (),
) -> tuple[Rulebook, list[Diagnostic]]:
    """Compile every calendar and rule-kind definition; problems are paths under
    ``/<kind>s/<key>`` and leave the definition out of the book."""
    c = _Compiler(forms, flows)
    for s in sources:
        if s.kind == "calendar":
            c.calendar(s)
    rule_sources = [s for s in sources if s.kind == "rule"]
    for s in rule_sources:
        if s.body.get("type") == "decision_table":
            c.table(s)
    for s in rule_sources:
        if s.body.get("type") != "decision_table" and s.body.get("enabled", True) is not False:
            c.rule_or_policy(s)
    book = Rulebook(
        app=app_key,
        fingerprint=fingerprint,
        calendars=c.calendars,
        tables=c.tables,
        rule_sets=c.rule_sets(),
        rules=c.rules,
        form_of=c.form_of,
        slas={form: tuple(found) for form, found in c.slas.items()},
        versions={s.key: s.version for s in rule_sources},
        bodies={s.key: s.body for s in rule_sources},
    )
    return book, c.problems


def named_recipients(sources: Sequence[BookSource]) -> list[tuple[str, str, str]]:
    """Every group and role the rules name, directly or as decision-table outputs they assign
    from: ``(path, "group" | "role", key)`` in order of appearance, without repeats."""
    tables = {s.key: s.body for s in sources if s.body.get("type") == "decision_table"}
    wanted: list[tuple[str, str, str]] = []
    for s in sources:
        base = f"/rules/{s.key}"
        wanted += _in_actions(s.body.get("actions"), f"{base}/actions", tables)
        wanted += _in_actions(s.body.get("on_warn"), f"{base}/on_warn", tables)
        for i, level in enumerate(s.body.get("escalation") or []):
            if isinstance(level, Mapping):
                wanted += _in_actions(
                    level.get("actions"), f"{base}/escalation/{i}/actions", tables
                )
    return list(dict.fromkeys(wanted))


def _in_recipients(raw: Any, path: str) -> list[tuple[str, str, str]]:
    items = raw if isinstance(raw, list) else [raw]
    found = []
    for i, item in enumerate(items):
        where = f"{path}/{i}" if isinstance(raw, list) else path
        if isinstance(item, Mapping):
            found += [
                (f"{where}/{kind}", kind, item[kind])
                for kind in ("group", "role")
                if isinstance(item.get(kind), str)
            ]
    return found


def _in_actions(
    raw: Any, path: str, tables: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, str, str]]:
    found = []
    for i, action in enumerate(raw if isinstance(raw, list) else []):
        if isinstance(action, Mapping):
            found += _in_recipients(action.get("to"), f"{path}/{i}/to")
            found += _table_outputs(action, tables)
    return found


def _table_outputs(
    action: Mapping[str, Any], tables: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, str, str]]:
    """The groups or roles a decision table hands an assignment from (its output column)."""
    table = tables.get(str(action.get("table")))
    kind = action.get("as", "group")
    if table is None or kind not in ("group", "role"):
        return []
    outputs = [c.get("key") for c in table.get("outputs", [])]
    if action.get("output") not in outputs:
        return []
    column = outputs.index(action["output"])
    found = []
    for r, row in enumerate(table.get("rules", [])):
        then = row.get("then") if isinstance(row, Mapping) else None
        if isinstance(then, list) and len(then) > column and isinstance(then[column], str):
            found.append(
                (f"/rules/{table['key']}/rules/{r}/then/{column}", str(kind), then[column])
            )
    return found
