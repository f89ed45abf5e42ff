"""Applying rule effects, each type by a handler of its own, inside the unit of work of the event:

- ``set_fields``, ``score``, ``assign`` and ``escalate`` write through :func:`records.system_update`, so the
  record is validated, projected, audited and raises ``record.updated`` (further rules may run, up
  to :data:`~tangram.platform.rules.evaluation.MAX_DEPTH` levels); the writes of one event are
  merged into one update;
- ``notify`` writes in-app notifications (and queues mail when a server is configured);
- ``create_record`` creates through the records service; ``comment`` adds a timeline entry;
- ``webhook`` queues a signed delivery (:mod:`~tangram.platform.outbound.webhooks`);
- ``start_flow`` publishes ``flow.start_requested`` for the flow engine;
- ``send_survey`` creates a single-use survey link to the record and mails it when it can
  (:mod:`~tangram.platform.records.surveys`).

An effect that cannot be applied (an invalid value, nobody to assign, a refused webhook target)
does not undo the user's write: it is recorded as failed, beside the effects that worked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tangram.config import Settings
from tangram.engines.forms import FieldType, Form
from tangram.engines.forms.fields import text
from tangram.engines.rules import (
    Effect,
    Rulebook,
)
from tangram.platform import records
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.errors import TangramError
from tangram.platform.kernel.events import Event
from tangram.platform.kernel.models import Group, Record, User
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.outbound import mail, notify, webhooks
from tangram.platform.records import projections, surveys
from tangram.platform.rules import assignment


class EffectFailed(ValueError):
    """An effect that could not be applied (the message says why)."""


def system_actor(label: str) -> Actor:
    """The actor rules write as (named by the rule or policy, with every right)."""
    return Actor(user_id=None, username=label[:200], is_admin=True, via="system")


@dataclass
class Outcome:
    """What one rule's (or one SLA step's) effects did, as sentences for the timeline."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    #: The field values its writes set (the timeline names them by label, in the reader's words).
    written: dict[str, Any] = field(default_factory=dict)
    #: What each effect that worked did, as facts the timeline words in the reader's language:
    #: ``{"type": "notify", "users": [3, 5]}``, ``{"type": "assign", "field": "assignee",
    #: "value": 7, "strategy": "least_open", "open": 2}``, ``{"type": "create_record", "form":
    #: "plan", "record": 12}``, ...
    did: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Write:
    """Field values an effect wants written (merged with the others of the same event)."""

    values: Mapping[str, Any]
    text: str


_EXPECTED = (
    TangramError,
    assignment.Unresolvable,
    webhooks.TargetRefused,
    EffectFailed,
    surveys.SurveyRefused,
)


def apply_effects(
    uow: UnitOfWork,
    settings: Settings,
    book: Rulebook,
    record: Record,
    groups: Sequence[tuple[str, Sequence[Effect]]],
) -> list[Outcome]:
    """Apply the effects of several sources (rules) in order, one outcome per source.

    Each effect sees the record as the effects before it left it: a notification to the
    assignee goes to whom the assignment before it picked. Field writes of all sources are
    merged into one validated update of the record (one ``record.updated`` event); if it is
    refused, each source's write is tried on its own so that only the invalid ones fail.
    """
    outcomes: list[Outcome] = []
    writes: list[tuple[Outcome, str, _Write, str]] = []
    working = dict(record.data)
    facts: dict[int, dict[str, Any]] = {}
    for source, effects in groups:
        outcome = Outcome()
        outcomes.append(outcome)
        for effect in effects:
            fact: dict[str, Any] = {"type": effect.type}
            try:
                result = _apply(uow, settings, book, record, working, effect, source, fact)
            except _EXPECTED as exc:
                outcome.failed.append(f"{effect.type}: {reason(exc)}")
                continue
            if isinstance(result, _Write):
                writes.append((outcome, effect.type, result, source))
                working.update(result.values)
                outcome.written.update(result.values)
                facts[id(result)] = fact
            outcome.done.append(result.text if isinstance(result, _Write) else result)
            outcome.did.append(fact)
    if not writes:
        return outcomes
    merged: dict[str, Any] = {}
    for _outcome, _kind, write, _source in writes:
        merged.update(write.values)
    sources = list(dict.fromkeys(source for *_rest, source in writes))
    try:
        set_fields(uow, book, record, merged, ", ".join(sources))
    except TangramError:
        for outcome, kind, write, source in writes:
            try:
                set_fields(uow, book, record, write.values, source)
            except TangramError as exc:
                outcome.done.remove(write.text)
                outcome.did.remove(facts[id(write)])
                outcome.failed.append(f"{kind}: {reason(exc)}")
                for key in write.values:
                    outcome.written.pop(key, None)
    return outcomes


def reason(exc: Exception) -> str:
    """Why an effect failed, in one line (a refused write's first problems with their paths)."""
    if isinstance(exc, TangramError):
        problems = "; ".join(f"{e.get('path')}: {e.get('message')}" for e in (exc.errors or [])[:5])
        return f"{exc.detail} {problems}".strip()
    return str(exc)


def set_fields(
    uow: UnitOfWork, book: Rulebook, record: Record, values: Mapping[str, Any], source: str
) -> list[str]:
    """Write ``values`` to the record as ``source`` (validated, projected, audited, and raising
    ``record.updated``); returns what changed, as sentences."""
    written = records.system_update(
        uow, system_actor(source), book.app, record.form_key, record, dict(values)
    )
    return [f"{k} ← {v[1]!r}" for k, v in written.changes.items()]


def _shown(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} ← {v!r}" for k, v in values.items())


@dataclass(frozen=True)
class _Target:
    """Where one effect lands: the record (and its form) a rule acted on, and who acts."""

    uow: UnitOfWork
    settings: Settings
    book: Rulebook
    record: Record
    #: The record's document as the effects before this one left it.
    data: Mapping[str, Any]
    form: Form
    source: str
    #: What the effect did, for the timeline (the handler fills it in).
    fact: dict[str, Any]


def _set_fields(t: _Target, effect: Effect) -> _Write:
    values = effect.params["values"]
    return _Write(dict(values), "set " + _shown(values))


def _score(t: _Target, effect: Effect) -> _Write:
    values = effect.params["values"]
    said = next((v for k, v in values.items() if isinstance(v, str)), None)
    return _Write(dict(values), said or "scored " + _shown(values))


def _create_record(t: _Target, effect: Effect) -> str:
    p = effect.params
    written = records.create_record(
        t.uow, system_actor(t.source), t.book.app, str(p["form"]), p["values"]
    )
    t.fact.update(form=str(p["form"]), record=written.record.id)
    return f"created {p['form']} #{written.record.id}"


def _comment(t: _Target, effect: Effect) -> str:
    payload = {"text": effect.params["text"]}
    t.uow.audit(None, t.source, "record.commented", "record", t.record.id, payload)
    return "commented"


def _webhook(t: _Target, effect: Effect) -> str:
    p = effect.params
    job = webhooks.enqueue(
        t.uow,
        t.settings,
        app_key=t.book.app,
        url=str(p["url"]),
        event=str(p["event"]),
        source=t.source,
        record={"id": t.record.id, "form": t.record.form_key},
        data=p["data"],
    )
    t.fact.update(event=str(p["event"]))
    return f"webhook to {p['url']} queued (job {job})"


def _start_flow(t: _Target, effect: Effect) -> str:
    flow = effect.params["flow"]
    record = t.record
    t.uow.publish(
        Event(
            "flow.start_requested",
            t.book.app,
            record.form_key,
            record.id,
            None,
            {"flow": flow, "source": t.source},
        )
    )
    t.fact.update(flow=str(flow))
    return f"start of flow {flow} requested"


def _send_survey(t: _Target, effect: Effect) -> str:
    p = effect.params
    sent = surveys.send(
        t.uow,
        t.settings,
        t.book.app,
        t.record,
        t.data,
        form_key=str(p["form"]),
        link_field=str(p["link_field"]),
        expires_in_days=int(p["expires_in_days"]),
        source=t.source,
        to_field=p.get("to_field"),
        answered_field=p.get("answered_field"),
    )
    t.fact.update(form=str(p["form"]), link=sent.link.id, mailed=sent.mailed)
    return f"survey {p['form']} sent" + (" by e-mail" if sent.mailed else "")


def _apply(
    uow: UnitOfWork,
    settings: Settings,
    book: Rulebook,
    record: Record,
    data: Mapping[str, Any],
    effect: Effect,
    source: str,
    fact: dict[str, Any],
) -> str | _Write:
    handler = _HANDLERS.get(effect.type)
    if handler is None:
        raise EffectFailed(f"unknown effect {effect.type!r}")
    _, form = compiled.form(uow, book.app, record.form_key)
    return handler(_Target(uow, settings, book, record, data, form, source, fact), effect)


def _assign(t: _Target, effect: Effect) -> _Write:
    uow, book, record, form, p, rule = t.uow, t.book, t.record, t.form, effect.params, effect.rule
    key = str(p["field"])
    field = form.by_key.get(key)
    if field is None:
        raise EffectFailed(f"form {record.form_key!r} has no field {key!r}")
    recipients = list(p.get("recipients") or [])
    if not recipients:
        raise EffectFailed("the rule named nobody (the decision table gave no result)")
    if field.type is FieldType.GROUP:
        group = assignment.group_of(uow, recipients, t.data)
        t.fact.update(field=key, value=group.id)
        return _Write({key: group.id}, f"{key} ← group {group.key}")
    if field.type is not FieldType.USER:
        raise EffectFailed(f"field {key!r} holds neither a user nor a group")
    tables = projections.ready(uow, record.app_id, record.form_key, form)
    candidates = assignment.users_of(uow, recipients, form, t.data)
    pool = ",".join(f"{k}:{v}" for r in recipients for k, v in r.items())
    chosen, why = assignment.choose(
        uow,
        pool_key=f"{book.app}:{rule}:{key}:{pool}"[:300],
        strategy=str(p.get("strategy", "fixed")),
        candidates=candidates,
        t=tables,
        field=key,
        skill=p.get("skill"),
        closed=list(p.get("closed") or []),
    )
    t.fact.update(field=key, value=chosen.id, strategy=str(p.get("strategy", "fixed")), why=why)
    return _Write({key: chosen.id}, f"{key} ← {chosen.display_name} ({why} in {pool})")


def _notify(t: _Target, effect: Effect) -> str:
    uow, settings, book, record, form, p = (
        t.uow,
        t.settings,
        t.book,
        t.record,
        t.form,
        effect.params,
    )
    recipients = list(p.get("recipients") or [])
    addresses = [
        str(t.data[str(r["email_field"])])
        for r in recipients
        if "email_field" in r and t.data.get(str(r["email_field"]))
    ]
    named = [r for r in recipients if "email_field" not in r]
    if addresses and not (p.get("channel") == "email" and mail.enabled(settings)):
        raise EffectFailed(
            "e-mail to an address needs the email channel and a mail server (TANGRAM_SMTP_URL)"
        )
    for address in addresses:
        mail.enqueue(uow, to=address, subject=str(p["title"]), html=str(p["body"]))
    users = assignment.users_of(uow, named, form, t.data) if named else []
    if not users and not addresses:
        raise EffectFailed("nobody to notify")
    link = {"app": book.app, "form": record.form_key, "record": record.id}
    mailed = len(addresses)
    for user in users:
        if p.get("channel") == "email" and mail.enabled(settings) and user.email:
            mail.enqueue(uow, to=user.email, subject=str(p["title"]), html=str(p["body"]))
            mailed += 1
        else:
            notify.notify(
                uow, user.id, kind="rule", title=str(p["title"]), body=str(p["body"]), payload=link
            )
    t.fact.update(users=[u.id for u in users], addresses=len(addresses), mailed=mailed)
    shown = [*addresses, *(u.display_name for u in users)]
    names = ", ".join(shown[:5]) + (" …" if len(shown) > 5 else "")
    return f"notified {names}" + (f" ({mailed} by e-mail)" if mailed else "")


def _escalate(t: _Target, effect: Effect) -> str | _Write:
    uow, book, record, form, p, source = t.uow, t.book, t.record, t.form, effect.params, t.source
    parts = []
    values: dict[str, Any] = {}
    if "escalation_level" in form.by_key:
        level = int(t.data.get("escalation_level") or 0) + int(p["levels"])
        values["escalation_level"] = level
        t.fact["level"] = level
        parts.append(f"escalation level {level}")
    if p.get("notify") == "group_manager":
        group_field = next((f.key for f in form.fields if f.type is FieldType.GROUP), None)
        group_id = t.data.get(group_field) if group_field else None
        group = uow.session.get(Group, group_id if group_id is not None else record.group_id or 0)
        if group is None or group.manager_id is None:
            raise EffectFailed("the record's group has no manager to notify")
        manager = uow.session.get(User, group.manager_id)
        assert manager is not None
        english = manager.locale == "en"
        what = f"{text(form.label, 'en' if english else 'zh-CN') or form.key} #{record.id}"
        held = t.data.get(form.title_field or "")
        what += f" {held}" if held not in (None, "") else ""
        notify.notify(
            uow,
            manager.id,
            kind="escalation",
            title=f"Escalated: {what}" if english else f"已升级：{what}",
            body=f"Escalated by {source}." if english else f"由 {source} 升级。",
            payload={"app": book.app, "form": record.form_key, "record": record.id},
        )
        t.fact["manager"] = manager.id
        parts.append(f"notified {manager.display_name} (manager of {group.key})")
    said = ", ".join(parts) or "escalated"
    return _Write(values, said) if values else said


#: What applies each type of effect: it returns the sentence for the timeline, or the field
#: values to write (merged with the other writes of the same event).
_HANDLERS: dict[str, Callable[[_Target, Effect], str | _Write]] = {
    "set_fields": _set_fields,
    "assign": _assign,
    "notify": _notify,
    "create_record": _create_record,
    "comment": _comment,
    "webhook": _webhook,
    "start_flow": _start_flow,
    "escalate": _escalate,
    "send_survey": _send_survey,
    "score": _score,
}
