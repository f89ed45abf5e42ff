"""Search across an app: the records of every form the viewer may read that match a query, by
form, with a short part of the field that matched.

Each form is searched as its list's search box searches it (``_q``: the full-text index, the
viewer's read scope and hidden fields), so the two never disagree about what a viewer may find.
"""

from __future__ import annotations

from typing import Any

from tangram.engines.forms import Form
from tangram.engines.forms.fields import text
from tangram.engines.forms.search import document_texts, query_tokens, snippet
from tangram.platform import metadata
from tangram.platform.identity.perms import Action, Actor, scope_for
from tangram.platform.kernel.errors import ValidationFailed
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import app_ref
from tangram.platform.records import search
from tangram.platform.records.listing import KEYWORD, MAX_KEYWORD, Filter
from tangram.platform.records.reading import list_records

#: How many records each form's group shows at most.
MAX_LIMIT = 20
#: The longest query (the list's search box takes as much).
MAX_QUERY = MAX_KEYWORD


def _label(form: Form, name: str, lang: str) -> str:
    key, _, column = name.partition(".")
    f = form.by_key[key]
    if not column:
        return text(f.label, lang) or key
    inner = next((c for c in f.fields if c.key == column), None)
    return f"{text(f.label, lang) or key} / {text(inner.label, lang) if inner else column}"


def _refuse(message: str) -> None:
    raise ValidationFailed(
        "The search query is not valid.",
        code="query.invalid",
        errors=[{"path": "q", "code": "search.invalid", "message": message}],
    )


def _item(
    form: Form,
    record_id: int,
    data: dict[str, Any],
    hidden: frozenset[str],
    wanted: list[str],
    lang: str,
) -> dict[str, Any]:
    title_field = form.title_field
    title = data.get(title_field) if title_field and title_field not in hidden else None
    item: dict[str, Any] = {
        "id": record_id,
        "title": None if title in (None, "") else str(title),
        "field": None,
        "field_label": None,
        "snippet": None,
        "highlights": [],
    }
    for name, value in document_texts(form.fields, data).items():
        if name.partition(".")[0] in hidden:
            continue
        folded = value.lower()
        if any(w in folded for w in wanted):
            part, marks = snippet(value, wanted)
            item.update(field=name, field_label=_label(form, name, lang), snippet=part)
            item["highlights"] = marks
            break
    return item


def search_app(
    uow: UnitOfWork, actor: Actor, app_key: str, query: str, *, limit: int = 5, lang: str = "zh-CN"
) -> dict[str, Any]:
    """Records of the app's forms matching ``query`` that the actor may read: one group per form
    with a match (its label, how many match, the newest ``limit``, each with its title and a
    snippet of the first readable field holding a word of the query, with the words' offsets).
    422 for an empty query or one longer than the list's search box takes."""
    words = query.strip()
    zh = lang != "en"
    if not words:
        _refuse("请输入要搜索的内容" if zh else "type something to search for")
    if len(words) > MAX_QUERY:
        _refuse(f"最多 {MAX_QUERY} 个字" if zh else f"at most {MAX_QUERY} characters")
    app_ref(uow, actor, app_key)  # 404 for an app the actor holds no grant in
    limit = max(1, min(limit, MAX_LIMIT))
    wanted = query_tokens(words, search.segmenter())
    published = metadata.published_in(uow, app_key, archived=False)
    groups: list[dict[str, Any]] = []
    for key, body in sorted(published.get("form", {}).items()):
        if scope_for(actor, Action.READ.value, app_key, key) is None:
            continue
        page = list_records(
            uow,
            actor,
            app_key,
            key,
            filters=[Filter(KEYWORD, "eq", words, "q")],
            limit=limit,
            count=True,
        )
        if not page.total:
            continue
        groups.append(
            {
                "form": key,
                "form_label": text(body.get("label"), lang) or key,
                "total": page.total,
                "items": [
                    _item(page.form, r.id, r.data, page.hidden, wanted, lang) for r in page.items
                ],
            }
        )
    return {"query": words, "total": sum(g["total"] for g in groups), "groups": groups}
