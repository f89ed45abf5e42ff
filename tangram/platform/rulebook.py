"""An app's rules, compiled: calendars, decision tables, SLA policies and rule sets per form.

The rule engine is pure; this module feeds it the published definitions of one app and caches the
result per process. A cheap query of the published versions (rules, calendars, forms, flows) tells
whether the cached book is still current, so a definition published by another process is seen by
the next event.

Definitions of kind ``rule`` come in three types: ``rule`` (the default), ``decision_table`` and
``sla``. Compilation order follows their references: calendars, then decision tables, then SLA
policies and rules. :func:`check` compiles the book as it would be after a publication and refuses
it with every problem and its path; the published book therefore always compiles.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.rules import (
    Calendar,
    DecisionTable,
    Rule,
    RuleSet,
    SlaPolicy,
    compile_calendar,
    compile_decision_table,
    compile_rule,
    compile_sla,
)
from tangram.platform import metadata
from tangram.platform.errors import ValidationFailed
from tangram.platform.models import App, Definition, DefinitionVersion, Group, Role
from tangram.platform.uow import UnitOfWork

log = logging.getLogger(__name__)

_CACHE = "rulebooks"
#: The app metadata tag each cached book was last checked under.
_TAGS = "rulebook_tags"
_lock = threading.Lock()

#: (kind, key, version) of every published definition a book depends on.
Fingerprint = tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class Source:
    """A published (or about to be published) definition the book is compiled from."""

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


def compile_book(
    app_key: str,
    sources: Sequence[Source],
    *,
    forms: Mapping[str, Sequence[str]],
    flows: frozenset[str],
    fingerprint: Fingerprint = (),
) -> tuple[Rulebook, list[Diagnostic]]:
    """Compile every calendar and rule-kind definition; problems are paths under
    ``/<kind>s/<key>`` and leave the definition out of the book."""
    problems: list[Diagnostic] = []
    form_keys = frozenset(forms)

    def fields_of(body: Mapping[str, Any], where: str) -> frozenset[str] | None:
        form = body.get("form")
        if form is None:
            return None
        if form not in forms:
            problems.append(Diagnostic(f"{where}/form", "rule.form", f"no published form {form!r}"))
            return None
        return frozenset(forms[form])

    def attempt(where: str, build: Any) -> Any:
        try:
            return build()
        except DefinitionError as exc:
            problems.extend(
                Diagnostic(f"{where}{d.path}", d.code, d.message) for d in exc.diagnostics
            )
            return None

    calendars: dict[str, Calendar] = {}
    for s in sources:
        if s.kind == "calendar":
            compiled = attempt(f"/calendars/{s.key}", lambda s=s: compile_calendar(s.body))
            if compiled is not None:
                calendars[s.key] = compiled
    rule_sources = [s for s in sources if s.kind == "rule"]
    tables: dict[str, DecisionTable] = {}
    for s in rule_sources:
        if s.body.get("type") == "decision_table":
            where = f"/rules/{s.key}"
            fields = fields_of(s.body, where)
            table = attempt(where, lambda s=s, f=fields: compile_decision_table(s.body, fields=f))
            if table is not None:
                tables[s.key] = table
    slas: dict[str, list[SlaPolicy]] = {}
    rules: dict[str, Rule] = {}
    form_of: dict[str, str] = {}
    for s in rule_sources:
        kind = s.body.get("type", "rule")
        if kind == "decision_table" or s.body.get("enabled", True) is False:
            continue
        where = f"/rules/{s.key}"
        fields = fields_of(s.body, where)
        if fields is None:
            if "form" not in s.body:
                problems.append(Diagnostic(f"{where}/form", "rule.form", "name the form"))
            continue
        common = {"fields": fields, "tables": tables, "forms": form_keys, "flows": flows}
        if kind == "sla":
            policy = attempt(
                where, lambda s=s, c=common: compile_sla(s.body, calendars=calendars, **c)
            )
            if policy is not None:
                slas.setdefault(str(s.body["form"]), []).append(policy)
        else:
            rule = attempt(where, lambda s=s, c=common: compile_rule(s.body, **c))
            trigger = s.body.get("trigger") or {}
            if (
                rule is not None
                and rule.trigger == "timer"
                and trigger.get("business")
                and str(trigger.get("calendar")) not in calendars
            ):
                problems.append(
                    Diagnostic(
                        f"{where}/trigger/calendar",
                        "rule.calendar",
                        "a timer in business time names its calendar; known: "
                        + (", ".join(sorted(calendars)) or "none"),
                    )
                )
                rule = None
            if rule is not None:
                rules[s.key] = rule
                form_of[s.key] = str(s.body["form"])
    by_form: dict[str, list[Rule]] = {}
    for key, rule in rules.items():
        by_form.setdefault(form_of[key], []).append(rule)
    book = Rulebook(
        app=app_key,
        fingerprint=fingerprint,
        calendars=calendars,
        tables=tables,
        rule_sets={
            form: RuleSet(tuple(sorted(found, key=lambda r: (-r.priority, r.key))))
            for form, found in by_form.items()
        },
        rules=rules,
        form_of=form_of,
        slas={form: tuple(found) for form, found in slas.items()},
        versions={s.key: s.version for s in rule_sources},
        bodies={s.key: s.body for s in rule_sources},
    )
    return book, problems


_PUBLISHED = (
    select(Definition.kind, Definition.key, Definition.published_version)
    .join(App, App.id == Definition.app_id)
    .where(
        Definition.published_version.is_not(None),
        Definition.kind.in_(("rule", "calendar", "form", "flow")),
    )
)


def _fingerprint(uow: UnitOfWork, app_key: str) -> Fingerprint:
    rows = uow.session.execute(_PUBLISHED.where(App.key == app_key))
    return tuple(sorted((str(k), str(key), int(v or 0)) for k, key, v in rows))


def _sources(uow: UnitOfWork, app_key: str, kinds: Sequence[str]) -> list[Source]:
    rows = uow.session.execute(
        select(Definition.kind, Definition.key, DefinitionVersion.version, DefinitionVersion.body)
        .join(App, App.id == Definition.app_id)
        .join(DefinitionVersion, DefinitionVersion.definition_id == Definition.id)
        .where(
            App.key == app_key,
            Definition.kind.in_(tuple(kinds)),
            DefinitionVersion.version == Definition.published_version,
        )
        .order_by(Definition.kind, Definition.key)
    )
    return [Source(kind, key, version, body) for kind, key, version, body in rows]


def _catalog(sources: Sequence[Source]) -> tuple[dict[str, list[str]], frozenset[str]]:
    forms = {
        s.key: [str(f.get("key")) for f in s.body.get("fields", [])]
        for s in sources
        if s.kind == "form"
    }
    flows = frozenset(s.key for s in sources if s.kind == "flow")
    return forms, flows


def load(uow: UnitOfWork, app_key: str) -> Rulebook:
    """The app's current book (compiled again only when a definition it depends on changed);
    checked once per unit of work."""
    memo: dict[str, Rulebook] = uow.scratch.setdefault("rulebooks", {})
    if app_key in memo:
        return memo[app_key]
    memo[app_key] = book = _load(uow, app_key)
    return book


def _load(uow: UnitOfWork, app_key: str) -> Rulebook:
    books: dict[str, Rulebook] = uow.shared.setdefault(_CACHE, {})
    tags: dict[str, str] = uow.shared.setdefault(_TAGS, {})
    tag = metadata.app_tag(uow, app_key)
    with _lock:
        cached = books.get(app_key)
        if cached is not None and tag is not None and tags.get(app_key) == tag:
            return cached  # nothing was published since the book was checked
    fingerprint = _fingerprint(uow, app_key)
    if cached is not None and cached.fingerprint == fingerprint:
        with _lock:
            if tag is not None:
                tags[app_key] = tag
        return cached
    if not any(kind in ("rule", "calendar") for kind, _k, _v in fingerprint):
        book = Rulebook(app=app_key, fingerprint=fingerprint)
    else:
        sources = _sources(uow, app_key, ("rule", "calendar", "form", "flow"))
        forms, flows = _catalog(sources)
        book, problems = compile_book(
            app_key, sources, forms=forms, flows=flows, fingerprint=fingerprint
        )
        for problem in problems:  # publication checks make this rare (e.g. a lost flow)
            log.warning("app %s: %s: %s", app_key, problem.path, problem.message)
    with _lock:
        books[app_key] = book
        if tag is not None:
            tags[app_key] = tag
        else:
            tags.pop(app_key, None)
    return book


def _replaced(
    uow: UnitOfWork, app_key: str, kind: str, key: str, body: Mapping[str, Any]
) -> tuple[Rulebook, list[Diagnostic], list[Source]]:
    """The app's book compiled with ``body`` in place of the published (``kind``, ``key``)."""
    sources = [
        s
        for s in _sources(uow, app_key, ("rule", "calendar", "form", "flow"))
        if (s.kind, s.key) != (kind, key)
    ]
    sources.append(Source(kind, key, 0, body))
    forms, flows = _catalog(sources)
    book, problems = compile_book(app_key, sources, forms=forms, flows=flows)
    return book, problems, sources


def check(uow: UnitOfWork, app_key: str, kind: str, key: str, body: Mapping[str, Any]) -> None:
    """Refuse a publication that would leave any calendar or rule of the app broken.

    ``body`` replaces the published version of (``kind``, ``key``); a form whose new version drops
    a field a rule reads is refused here too, with the rule's path.
    """
    _book, problems, sources = _replaced(uow, app_key, kind, key, body)
    problems += _directory_problems(uow, [s for s in sources if s.kind == "rule"])
    if problems:
        raise ValidationFailed.from_diagnostics(
            f"The {kind} cannot be published: {len(problems)} problem(s) in the app's rules.",
            problems,
            code="definition.invalid",
        )


def _directory_problems(uow: UnitOfWork, sources: Sequence[Source]) -> list[Diagnostic]:
    """Groups and roles that rules name (directly or as decision-table outputs) must exist."""
    tables = {s.key: s.body for s in sources if s.body.get("type") == "decision_table"}
    wanted: list[tuple[str, str, str]] = []  # (path, kind, key)

    def recipients(raw: Any, path: str) -> None:
        items = raw if isinstance(raw, list) else [raw]
        for i, item in enumerate(items):
            where = f"{path}/{i}" if isinstance(raw, list) else path
            if isinstance(item, Mapping):
                for kind in ("group", "role"):
                    if isinstance(item.get(kind), str):
                        wanted.append((f"{where}/{kind}", kind, item[kind]))

    def actions(raw: Any, path: str) -> None:
        for i, action in enumerate(raw if isinstance(raw, list) else []):
            if not isinstance(action, Mapping):
                continue
            where = f"{path}/{i}"
            recipients(action.get("to"), f"{where}/to")
            table = tables.get(str(action.get("table")))
            kind = action.get("as", "group")
            if table is not None and kind in ("group", "role"):
                outputs = [c.get("key") for c in table.get("outputs", [])]
                if action.get("output") in outputs:
                    column = outputs.index(action["output"])
                    for r, row in enumerate(table.get("rules", [])):
                        then = row.get("then") if isinstance(row, Mapping) else None
                        if (
                            isinstance(then, list)
                            and len(then) > column
                            and isinstance(then[column], str)
                        ):
                            wanted.append(
                                (
                                    f"/rules/{table['key']}/rules/{r}/then/{column}",
                                    str(kind),
                                    then[column],
                                )
                            )

    for s in sources:
        base = f"/rules/{s.key}"
        actions(s.body.get("actions"), f"{base}/actions")
        actions(s.body.get("on_warn"), f"{base}/on_warn")
        for i, level in enumerate(s.body.get("escalation") or []):
            if isinstance(level, Mapping):
                actions(level.get("actions"), f"{base}/escalation/{i}/actions")
    if not wanted:
        return []
    groups = set(uow.session.scalars(select(Group.key)))
    roles = set(uow.session.scalars(select(Role.key)))
    known = {"group": groups, "role": roles}
    return [
        Diagnostic(path, f"rule.{kind}", f"there is no {kind} {key!r}")
        for path, kind, key in dict.fromkeys(wanted)
        if key not in known[kind]
    ]


def compile_draft(
    uow: UnitOfWork, app_key: str, key: str, body: Mapping[str, Any]
) -> tuple[Rulebook, Rulebook]:
    """The published book and the book with ``body`` in place of rule ``key`` (for what-if)."""
    published = load(uow, app_key)
    draft, problems, _sources_used = _replaced(uow, app_key, "rule", key, body)
    if problems:
        raise ValidationFailed.from_diagnostics(
            f"The draft of rule {key!r} does not compile: {len(problems)} problem(s).",
            problems,
            code="definition.invalid",
        )
    return published, draft
