"""A record's related records: the records of every form that references it (reverse references) —
a customer's tickets and callbacks, a product's tickets — with their counts and the newest few.

The generic piece behind a 360° view: any app's forms that name another form in a reference field
make their records appear on that form's record pages. What the viewer may read decides what they
see, as everywhere: forms they hold no read grant on are left out, their row-level scope counts,
and a reference field their roles hide is not followed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from tangram.engines.forms import FieldType, Form
from tangram.engines.forms.fields import text
from tangram.platform import metadata
from tangram.platform.identity.perms import Action, Actor, hidden_fields, scope_for
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.records import exports
from tangram.platform.records.listing import Filter
from tangram.platform.records.reading import list_records
from tangram.platform.records.service import get_record

#: How many of the newest related records come with each group.
NEWEST = 5


def _title(data: dict[str, Any], field: str | None, hidden: frozenset[str]) -> str | None:
    value = data.get(field) if field and field not in hidden else None
    return None if value in (None, "") else str(value)


#: How many summary fields a form may show beside its records' titles in related lists.
MAX_SUMMARY = 6


def _shown(form: Form, key: str, value: Any, lang: str, zone: ZoneInfo) -> str | None:
    """A summary value as text, as exports write it: an option's label, yes or no, a local
    date and time."""
    if value in (None, ""):
        return None
    return str(exports.cell(form.by_key[key], value, lang, {}, zone))


def summary_fields(body: Mapping[str, Any], form: Form, hidden: frozenset[str]) -> list[str]:
    """The scalar fields a form shows beside its records' titles in related lists (its
    ``options.summary_fields``), less those the viewer may not read."""
    wanted: Sequence[Any] = (body.get("options") or {}).get("summary_fields") or []
    return [
        k
        for k in wanted[:MAX_SUMMARY]
        if isinstance(k, str)
        and k in form.by_key
        and k not in hidden
        and form.by_key[k].type not in (FieldType.SUB_TABLE, FieldType.RICH_TEXT)
    ]


def related(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    record_id: int,
    *,
    lang: str = "zh-CN",
    newest: int = NEWEST,
) -> list[dict[str, Any]]:
    """One group per (form, reference field) that points at ``form_key``, in form order: the
    form and field with their labels, how many of its live records the actor may read name this
    record there, and the newest ``newest`` of them (id, title, creation time, and the values of
    the form's summary fields as text: a ticket's status, satisfaction and SLA). 404 when the
    actor may not read the record itself."""
    get_record(uow, actor, app_key, form_key, record_id)
    published = metadata.published_in(uow, app_key, archived=False)
    groups: list[dict[str, Any]] = []
    for key, body in sorted(published.get("form", {}).items()):
        pointing = [
            f
            for f in body.get("fields", [])
            if f.get("type") == "reference" and (f.get("reference") or {}).get("form") == form_key
        ]
        if not pointing or scope_for(actor, Action.READ.value, app_key, key) is None:
            continue
        hidden = hidden_fields(actor, app_key, key)
        title_field = (body.get("options") or {}).get("title_field")
        _, form = compiled.form(uow, app_key, key)
        shown = summary_fields(body, form, hidden)
        for f in pointing:
            if f["key"] in hidden:
                continue
            page = list_records(
                uow,
                actor,
                app_key,
                key,
                filters=[Filter(f["key"], "eq", str(record_id), f["key"])],
                limit=newest,
                count=True,
            )
            groups.append(
                {
                    "form": key,
                    "form_label": text(body.get("label"), lang) or key,
                    "field": f["key"],
                    "field_label": text(f.get("label"), lang) or f["key"],
                    "total": page.total or 0,
                    "columns": [
                        {"field": k, "label": text(form.by_key[k].label, lang) or k} for k in shown
                    ],
                    "items": [
                        {
                            "id": r.id,
                            "title": _title(r.data, title_field, hidden),
                            "created_at": r.created_at,
                            "summary": {
                                k: _shown(form, k, r.data.get(k), lang, uow.zone) for k in shown
                            },
                        }
                        for r in page.items
                    ],
                }
            )
    return groups
