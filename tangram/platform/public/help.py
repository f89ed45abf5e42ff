"""Public help centers: the records of a form with a ``help`` block, readable without signing in.

A form's ``help`` block (checked by the form engine) names the article's title, summary and body
fields, the select fields to browse by (facets) and which records are public (``shown_when``: a
select field holding one of some values, such as a status of published). Nothing else of the
record is ever shown, searched or counted: a word that only a hidden field holds does not find
an article, and a record outside ``shown_when`` answers the same 404 as one that does not exist.

- :func:`centers` — an app's help centers (forms of its with a ``help`` block, published and not
  archived), each with its facets and how many articles each option holds;
- :func:`articles` — one center's articles: by facets, by the words of a query (every word must
  be in a shown field; titles holding them rank first), newest first otherwise, by pages;
- :func:`article` — one article: its title, summary, body (rich text made safe again on the way
  out), facets, how many said it solved their problem, and articles on the same subject;
- :func:`suggestions` — deflection: articles sharing words with what a visitor types into an
  intake page (``public.suggest`` of that form), ranked by the words they share (a title's
  count double), the strongest first;
- :func:`feedback` — "did this solve your problem?": counted per article and where it was
  answered (``article`` or ``intake``: a ticket the article made unnecessary). A visitor is
  known only by a keyed hash of their address and the day: their second answer that day
  replaces the first, and they may answer :data:`FEEDBACK_PER_HOUR` times an hour;
- :func:`feedback_summary` — the counts for the service team (a reader of the form).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import nh3
from sqlalchemy import ColumnElement, Table, and_, case, func, select

from tangram.config import Settings
from tangram.engines.forms import FieldDef, FieldType, Form, HelpCenter
from tangram.engines.forms.fields import text
from tangram.engines.forms.search import query_tokens, snippet, tokens
from tangram.platform.identity.perms import Action, Actor, scope_for
from tangram.platform.kernel.errors import NotFound, ValidationFailed
from tangram.platform.kernel.hooks import Hooks
from tangram.platform.kernel.models import App, HelpFeedback, Record
from tangram.platform.kernel.names import KEY
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import archived_in, compiled, store
from tangram.platform.records import comments, projections, search
from tangram.platform.records.intake import limit_per_hour

#: The longest query of the help center's search box, and of an intake page's typed text.
MAX_QUERY = 100
MAX_SUGGEST_TEXT = 2000
#: Articles on a page of the help center (at most), and suggested on an intake page.
PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
SUGGESTIONS = 5
#: The words of an intake page's text that look for articles: the longest, at most this many.
SUGGEST_WORDS = 12
#: A suggestion shares at least this much with the text (a word in a title counts two).
MIN_SCORE = 2
#: How often one visitor may answer "did this solve your problem?" in an hour.
FEEDBACK_PER_HOUR = 30
#: How a summary reads in lists and suggestions (characters).
SUMMARY_WIDTH = 120
VIA = ("article", "intake")


@dataclass(frozen=True, slots=True)
class Center:
    """One help center: the app, the form and its checked ``help`` block."""

    app: App
    form_key: str
    form: Form
    help: HelpCenter

    def searched(self) -> list[str]:
        """The search index's fields an article is found by: the shown ones."""
        shown = {self.help.title, self.help.body, *self.help.facets}
        if self.help.summary:
            shown.add(self.help.summary)
        return [name for name in search.field_names(self.form.projection) if name in shown]


def _missing() -> NotFound:
    return NotFound("This help center or article does not exist.", code="help.not_found")


def _app(uow: UnitOfWork, app_key: str) -> App:
    if not KEY.fullmatch(app_key):  # no key has any other shape (nor a NUL the database refuses)
        raise _missing()
    app = uow.session.scalar(select(App).where(App.key == app_key))
    if app is None:
        raise _missing()
    return app


def _help_forms(uow: UnitOfWork, app_key: str) -> list[str]:
    """The app's published, not archived forms with a help block, by key (the centers' index:
    it reads every published body, so one-article calls go through :func:`_center`)."""
    published = store.published_in(uow, app_key, archived=False).get("form", {})
    return sorted(key for key, body in published.items() if body.get("help"))


def _center(uow: UnitOfWork, app: App, form_key: str) -> Center:
    """The help center of a form of ``app``: its compiled form (remembered per version) with a
    help block, not archived; 404 ``help.not_found`` otherwise."""
    if not KEY.fullmatch(form_key):
        raise _missing()
    try:
        _, form = compiled.form(uow, app.key, form_key)
    except NotFound:
        raise _missing() from None
    if form.help is None or ("form", form_key) in archived_in(uow, app.key):
        raise _missing()
    return Center(app, form_key, form, form.help)


def center(uow: UnitOfWork, app_key: str, form_key: str) -> Center:
    """The help center of a form (404 ``help.not_found`` when there is none)."""
    return _center(uow, _app(uow, app_key), form_key)


def _main(uow: UnitOfWork, c: Center) -> Table:
    return projections.ready(uow, c.app.id, c.form_key, c.form).main


def _shown(c: Center, main: Table) -> list[ColumnElement[bool]]:
    return [
        main.c._deleted_at.is_(None),
        main.c[c.help.shown_field].in_(c.help.shown_values),
    ]


def _option_label(f: FieldDef, value: Any, lang: str) -> str | None:
    for option in f.options:
        if option.value == value:
            return text(option.label, lang)
    return None


def _facet_view(
    c: Center, counts: Mapping[str, Mapping[Any, int]], lang: str
) -> list[dict[str, Any]]:
    """Each facet with its options in the form's order and the articles counted under each."""
    out = []
    for key in c.help.facets:
        f = c.form.by_key[key]
        held = counts.get(key, {})
        options = [
            {"value": o.value, "label": text(o.label, lang), "count": int(held.get(o.value, 0))}
            for o in f.options
        ]
        out.append({"key": key, "label": text(f.label, lang), "options": options})
    return out


def _facets(
    uow: UnitOfWork, c: Center, main: Table, where: Sequence[ColumnElement[bool]], lang: str
) -> list[dict[str, Any]]:
    """Each facet with how many shown articles matching ``where`` hold each of its options."""
    counts: dict[str, dict[Any, int]] = {}
    for key in c.help.facets:
        column = main.c[key]
        rows = uow.session.execute(
            select(column, func.count()).where(*_shown(c, main), *where).group_by(column)
        ).all()
        counts[key] = {value: int(n) for value, n in rows}
    return _facet_view(c, counts, lang)


def centers(uow: UnitOfWork, app_key: str, *, lang: str) -> dict[str, Any]:
    """An app's help centers (404 when it has none)."""
    app = _app(uow, app_key)
    found = []
    for key in _help_forms(uow, app_key):
        c = _center(uow, app, key)
        main = _main(uow, c)
        total = uow.session.scalar(select(func.count()).where(*_shown(c, main))) or 0
        found.append(
            {
                "form": key,
                "label": text(c.form.label, lang) or key,
                "total": int(total),
                "facets": _facets(uow, c, main, [], lang),
            }
        )
    if not found:
        raise _missing()
    return {"app": app.key, "name": text(app.name, lang) or app.key, "centers": found}


def _plain(c: Center, data: Mapping[str, Any], key: str | None) -> str:
    if key is None:
        return ""
    value = data.get(key)
    if not isinstance(value, str):
        return ""
    if c.form.by_key[key].type is FieldType.RICH_TEXT:
        value = comments.html_text(value)
    return " ".join(value.split())


def _summary(c: Center, data: Mapping[str, Any], words: Sequence[str]) -> dict[str, Any]:
    """The summary field's text (else the body's), around the first word asked for when there
    are words, with their offsets."""
    source = _plain(c, data, c.help.summary) or _plain(c, data, c.help.body)
    part, marks = snippet(source, words, width=SUMMARY_WIDTH)
    return {"summary": part, "highlights": marks}


def _item(
    c: Center,
    record_id: int,
    data: Mapping[str, Any],
    words: Sequence[str],
    lang: str,
    updated_at: Any,
) -> dict[str, Any]:
    return {
        "id": record_id,
        "title": _plain(c, data, c.help.title) or f"#{record_id}",
        **_summary(c, data, words),
        "facets": [
            {
                "key": key,
                "value": data.get(key),
                "label": _option_label(c.form.by_key[key], data.get(key), lang),
            }
            for key in c.help.facets
            if data.get(key) is not None
        ],
        "updated_at": updated_at,
    }


def _documents(uow: UnitOfWork, ids: Iterable[int]) -> dict[int, tuple[dict[str, Any], Any]]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = uow.session.execute(
        select(Record.id, Record.data, Record.updated_at).where(Record.id.in_(wanted))
    ).all()
    return {r.id: (r.data, r.updated_at) for r in rows}


def _facet_filters(c: Center, main: Table, chosen: Mapping[str, str]) -> list[ColumnElement[bool]]:
    problems = []
    out = []
    for key, value in chosen.items():
        f = c.form.by_key.get(key)
        if key not in c.help.facets or f is None:
            problems.append({"path": key, "message": f"{key!r} is not a facet of this help center"})
        elif value not in {o.value for o in f.options}:
            problems.append({"path": key, "message": f"{value!r} is not an option of {key!r}"})
        else:
            out.append(main.c[key] == value)
    if problems:
        raise ValidationFailed("The help center's query has problems.", errors=problems)
    return out


def articles(
    uow: UnitOfWork,
    app_key: str,
    form_key: str,
    *,
    query: str = "",
    facets: Mapping[str, str] | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
    lang: str,
) -> dict[str, Any]:
    """A page of a help center's articles, with the facets' counts under the same query."""
    c = center(uow, app_key, form_key)
    words = query.strip()
    if len(words) > MAX_QUERY:
        raise ValidationFailed(
            "The search text is too long.",
            errors=[{"path": "q", "message": f"at most {MAX_QUERY} characters"}],
        )
    page, size = max(1, page), max(1, min(size, MAX_PAGE_SIZE))
    main = _main(uow, c)
    wanted = query_tokens(words, search.segmenter()) if words else []
    chosen = dict(facets or {})
    where = _facet_filters(c, main, chosen)
    if words:
        ids, total, facet_counts = _found(uow, c, main, wanted, chosen, page, size, lang)
    else:
        total = uow.session.scalar(select(func.count()).where(*_shown(c, main), *where)) or 0
        ids = list(
            uow.session.scalars(
                select(main.c._id)
                .where(*_shown(c, main), *where)
                .order_by(main.c._updated_at.desc(), main.c._id.desc())
                .limit(size)
                .offset((page - 1) * size)
            )
        )
        facet_counts = _facets(uow, c, main, [], lang)
    documents = _documents(uow, ids)
    return {
        "query": words,
        "total": int(total),
        "page": page,
        "size": size,
        "items": [
            _item(c, i, documents[i][0], wanted, lang, documents[i][1])
            for i in ids
            if i in documents
        ],
        "facets": facet_counts,
    }


def _found(
    uow: UnitOfWork,
    c: Center,
    main: Table,
    wanted: list[str],
    chosen: Mapping[str, str],
    page: int,
    size: int,
    lang: str,
) -> tuple[list[int], int, list[dict[str, Any]]]:
    """A search's page: the shown articles holding every word (their ids, times and facets, in
    one query), ranked by how many words their titles hold, then newest first; how many there
    are; and the facets' counts among them (whatever facets are chosen)."""
    if not wanted:
        return [], 0, _facet_view(c, {}, lang)  # only punctuation: nothing matches
    rows = uow.session.execute(
        select(main.c._id, main.c._updated_at, *(main.c[key] for key in c.help.facets)).where(
            *_shown(c, main), search.matches(main.c._id, wanted, c.searched())
        )
    ).all()
    titled: dict[int, set[int]] = {}
    if rows and c.help.title in c.searched():
        dialect = uow.session.get_bind().dialect.name
        in_titles = search.hits(wanted, [c.help.title], dialect).subquery()
        for hit in uow.session.execute(select(in_titles)):
            marks = {i for i in range(len(wanted)) if hit[2 + i]}
            titled.setdefault(hit.record_id, set()).update(marks)
    counts: dict[str, dict[Any, int]] = {key: {} for key in c.help.facets}
    kept = []
    for row in rows:
        values = dict(zip(c.help.facets, row[2:], strict=True))
        for key, value in values.items():
            counts[key][value] = counts[key].get(value, 0) + 1
        if all(values.get(key) == value for key, value in chosen.items()):
            kept.append(row)
    kept.sort(key=lambda r: (-len(titled.get(r._id, ())), -r._updated_at.timestamp(), -r._id))
    start = (page - 1) * size
    return [r._id for r in kept[start : start + size]], len(kept), _facet_view(c, counts, lang)


def _solved_counts(uow: UnitOfWork, ids: Sequence[int]) -> dict[int, dict[str, int]]:
    if not ids:
        return {}
    rows = uow.session.execute(
        select(
            HelpFeedback.record_id,
            func.sum(case((HelpFeedback.solved, 1), else_=0)),
            func.sum(case((HelpFeedback.solved, 0), else_=1)),
            func.sum(case((and_(HelpFeedback.solved, HelpFeedback.via == "intake"), 1), else_=0)),
        )
        .where(HelpFeedback.record_id.in_(list(ids)))
        .group_by(HelpFeedback.record_id)
    ).all()
    return {
        r[0]: {"solved": int(r[1] or 0), "not_solved": int(r[2] or 0), "deflected": int(r[3] or 0)}
        for r in rows
    }


def _counts_of(uow: UnitOfWork, record_id: int) -> dict[str, int]:
    """What visitors answered on one article (zeros when nobody has)."""
    nothing = {"solved": 0, "not_solved": 0, "deflected": 0}
    return _solved_counts(uow, [record_id]).get(record_id, nothing)


def _shown_record(uow: UnitOfWork, c: Center, main: Table, record_id: int) -> None:
    found = uow.session.scalar(select(main.c._id).where(main.c._id == record_id, *_shown(c, main)))
    if found is None:
        raise _missing()


def article(
    uow: UnitOfWork, app_key: str, form_key: str, record_id: int, *, lang: str
) -> dict[str, Any]:
    """One shown article (404 ``help.not_found`` for any other record)."""
    c = center(uow, app_key, form_key)
    main = _main(uow, c)
    _shown_record(uow, c, main, record_id)
    record = uow.session.get(Record, record_id)
    assert record is not None
    data = record.data
    body = data.get(c.help.body)
    rich = c.form.by_key[c.help.body].type is FieldType.RICH_TEXT
    same = [main.c[key] == data[key] for key in c.help.facets if data.get(key) is not None]
    related_ids = list(
        uow.session.scalars(
            select(main.c._id)
            .where(*_shown(c, main), main.c._id != record_id, *same)
            .order_by(main.c._updated_at.desc(), main.c._id.desc())
            .limit(SUGGESTIONS)
        )
    )
    documents = _documents(uow, related_ids)
    return {
        **_item(c, record_id, data, [], lang, record.updated_at),
        "body": (nh3.clean(body) if rich else body) if isinstance(body, str) else "",
        "body_format": "html" if rich else "text",
        "solved": _counts_of(uow, record_id)["solved"],
        "related": [
            _item(c, i, documents[i][0], [], lang, documents[i][1])
            for i in related_ids
            if i in documents
        ],
    }


def _strong_words(typed: str) -> list[str]:
    """The words of an intake page's text worth looking for: two characters or longer, the
    longest first (a common word is short), at most :data:`SUGGEST_WORDS`."""
    every = [w for w in tokens(typed, search.segmenter()) if len(w) > 1]
    return sorted(every, key=len, reverse=True)[:SUGGEST_WORDS]


def suggestions(
    uow: UnitOfWork, app_key: str, form_key: str, typed: str, *, lang: str
) -> list[dict[str, Any]]:
    """The articles that share the most with ``typed`` (at least :data:`MIN_SCORE`), strongest
    first, at most :data:`SUGGESTIONS`. One pass over the search rows holding any of its words
    (:func:`search.hits`) gives, per article, which words each shown field holds; the score
    counts each word once, and once more when the title holds it."""
    c = center(uow, app_key, form_key)
    if len(typed) > MAX_SUGGEST_TEXT:
        raise ValidationFailed(
            "The text is too long.",
            errors=[{"path": "q", "message": f"at most {MAX_SUGGEST_TEXT} characters"}],
        )
    words = _strong_words(typed)
    if not words:
        return []
    main = _main(uow, c)
    dialect = uow.session.get_bind().dialect.name
    found = search.hits(words, c.searched(), dialect).subquery()
    rows = uow.session.execute(
        select(found, main.c._updated_at)
        .join(main, main.c._id == found.c.record_id)
        .where(*_shown(c, main))
    ).all()
    held: dict[int, set[int]] = {}
    titled: dict[int, set[int]] = {}
    newest: dict[int, Any] = {}
    for row in rows:
        marks = {i for i in range(len(words)) if row[2 + i]}
        held.setdefault(row.record_id, set()).update(marks)
        if row.field == c.help.title:
            titled.setdefault(row.record_id, set()).update(marks)
        newest[row.record_id] = row._updated_at
    scores = {i: len(marks) + len(titled.get(i, ())) for i, marks in held.items()}
    ranked = sorted(
        (i for i, score in scores.items() if score >= MIN_SCORE),
        key=lambda i: (-scores[i], -newest[i].timestamp(), -i),
    )[:SUGGESTIONS]
    documents = _documents(uow, ranked)
    return [
        _item(c, i, documents[i][0], words, lang, documents[i][1]) for i in ranked if i in documents
    ]


def _visitor(uow: UnitOfWork, remote_addr: str) -> str:
    day = uow.now.date().isoformat()
    key = uow.settings.secret_key.encode()
    return hmac.new(key, f"help:{remote_addr}:{day}".encode(), hashlib.sha256).hexdigest()


def feedback(
    uow: UnitOfWork,
    app_key: str,
    form_key: str,
    record_id: int,
    *,
    solved: bool,
    via: str,
    remote_addr: str,
) -> dict[str, int]:
    """Count a visitor's answer on an article (their earlier answer of the day replaced); the
    article's counts after it. 429 past :data:`FEEDBACK_PER_HOUR`."""
    if via not in VIA:
        raise ValidationFailed(
            "Unknown place of the answer.",
            errors=[{"path": "via", "message": f"use one of {', '.join(VIA)}"}],
        )
    c = center(uow, app_key, form_key)
    _shown_record(uow, c, _main(uow, c), record_id)
    visitor = _visitor(uow, remote_addr)
    limit_per_hour(
        uow,
        HelpFeedback.created_at,
        HelpFeedback.visitor == visitor,
        max_per_hour=FEEDBACK_PER_HOUR,
        what="answers",
    )
    earlier = uow.session.scalar(
        select(HelpFeedback).where(
            HelpFeedback.record_id == record_id, HelpFeedback.visitor == visitor
        )
    )
    if earlier is None:
        uow.session.add(
            HelpFeedback(
                record_id=record_id,
                solved=solved,
                via=via,
                visitor=visitor,
                created_at=uow.now,
            )
        )
    else:
        earlier.solved, earlier.via, earlier.created_at = solved, via, uow.now
    uow.session.flush()
    return _counts_of(uow, record_id)


def feedback_summary(
    uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, *, lang: str
) -> dict[str, Any]:
    """What visitors answered on each article that has answers, most solved first, and the
    totals (for people who may read the form)."""
    c = center(uow, app_key, form_key)
    if scope_for(actor, Action.READ.value, app_key, form_key) is None:
        raise _missing()
    main = _main(uow, c)
    ids = list(
        uow.session.scalars(
            select(HelpFeedback.record_id)
            .join(main, main.c._id == HelpFeedback.record_id)
            .where(main.c._deleted_at.is_(None))
            .distinct()
        )
    )
    counts = _solved_counts(uow, ids)
    documents = _documents(uow, ids)
    answered = sorted(
        (i for i in ids if i in documents and i in counts),
        key=lambda i: (-counts[i]["solved"], -counts[i]["deflected"], i),
    )
    items = [
        {"id": i, "title": _plain(c, documents[i][0], c.help.title) or f"#{i}", **counts[i]}
        for i in answered
    ]
    totals = {
        name: sum(counts[i][name] for i in answered)
        for name in ("solved", "not_solved", "deflected")
    }
    return {"form": form_key, "label": text(c.form.label, lang), **totals, "items": items}


def advise(
    uow: UnitOfWork, app_key: str, _kind: str, _key: str, body: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Warn when a form's intake page would suggest articles from a form that publishes none:
    not a form of the app yet, or one without a help block (nothing would be suggested)."""
    public = body.get("public")
    suggest = public.get("suggest") if isinstance(public, Mapping) else None
    if not isinstance(suggest, Mapping) or not isinstance(suggest.get("form"), str):
        return []
    target = suggest["form"]
    try:
        center(uow, app_key, target)
    except NotFound:
        pass
    else:
        return []
    return [
        {
            "code": "form.public.suggest_no_help",
            "path": "/public/suggest/form",
            "message": f"form {target!r} has no published help block: the intake page will "
            "suggest no articles until it has one",
        }
    ]


def install(hooks: Hooks, _settings: Settings) -> None:
    """Advise on the forms whose intake pages suggest articles."""
    hooks.checks.advise("form", advise)
