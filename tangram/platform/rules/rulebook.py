"""An app's rule book (:func:`tangram.engines.rules.compile_book`) fed and cached.

The rule engine compiles; this module feeds it the published definitions of one app that are not
archived and caches the result per process. A cheap query of the published versions (rules, calendars, forms, flows)
tells whether the cached book is still current, so a definition published by another process is
seen by the next event. :func:`check` compiles the book as it would be after a publication and
refuses it with every problem and its path; the published book therefore always compiles.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from tangram.engines.common import Diagnostic
from tangram.engines.rules import (
    BOOK_KINDS,
    BookSource,
    Fingerprint,
    Rulebook,
    catalog,
    compile_book,
    named_recipients,
)
from tangram.platform import metadata
from tangram.platform.kernel.errors import ValidationFailed
from tangram.platform.kernel.models import App, Definition, DefinitionVersion, Group, Role
from tangram.platform.kernel.uow import UnitOfWork

log = logging.getLogger(__name__)

#: The kinds whose publication can break an app's rule book (so :func:`check` runs for them).
CHECKED_KINDS = BOOK_KINDS


_PUBLISHED = (
    select(Definition.kind, Definition.key, Definition.published_version)
    .join(App, App.id == Definition.app_id)
    .where(
        Definition.published_version.is_not(None),
        Definition.archived_at.is_(None),
        Definition.kind.in_(CHECKED_KINDS),
    )
)


def _fingerprint(uow: UnitOfWork, app_key: str) -> Fingerprint:
    rows = uow.session.execute(_PUBLISHED.where(App.key == app_key))
    return tuple(sorted((str(k), str(key), int(v or 0)) for k, key, v in rows))


def _sources(uow: UnitOfWork, app_key: str, kinds: Sequence[str]) -> list[BookSource]:
    rows = uow.session.execute(
        select(Definition.kind, Definition.key, DefinitionVersion.version, DefinitionVersion.body)
        .join(App, App.id == Definition.app_id)
        .join(DefinitionVersion, DefinitionVersion.definition_id == Definition.id)
        .where(
            App.key == app_key,
            Definition.kind.in_(tuple(kinds)),
            Definition.archived_at.is_(None),
            DefinitionVersion.version == Definition.published_version,
        )
        .order_by(Definition.kind, Definition.key)
    )
    return [BookSource(kind, key, version, body) for kind, key, version, body in rows]


def load(uow: UnitOfWork, app_key: str) -> Rulebook:
    """The app's current book (compiled again only when a definition it depends on changed);
    checked once per unit of work."""
    memo = uow.memo.rulebooks
    if app_key in memo:
        return memo[app_key]
    memo[app_key] = book = _load(uow, app_key)
    return book


def _load(uow: UnitOfWork, app_key: str) -> Rulebook:
    books = uow.caches.rulebooks
    tag = metadata.app_tag(uow, app_key)
    cached = books.get(app_key)
    if cached is not None and tag is not None and cached[0] == tag:
        return cached[1]  # nothing was published since the book was checked
    fingerprint = _fingerprint(uow, app_key)
    if cached is not None and cached[1].fingerprint == fingerprint:
        return books.put(app_key, (tag, cached[1]))[1]
    if not any(kind in ("rule", "calendar") for kind, _k, _v in fingerprint):
        book = Rulebook(app=app_key, fingerprint=fingerprint)
    else:
        sources = _sources(uow, app_key, CHECKED_KINDS)
        forms, flows = catalog(sources)
        book, problems = compile_book(
            app_key, sources, forms=forms, flows=flows, fingerprint=fingerprint
        )
        for problem in problems:  # publication checks make this rare (e.g. a lost flow)
            log.warning("app %s: %s: %s", app_key, problem.path, problem.message)
    return books.put(app_key, (tag, book))[1]


def _replaced(
    uow: UnitOfWork, app_key: str, kind: str, key: str, body: Mapping[str, Any]
) -> tuple[Rulebook, list[Diagnostic], list[BookSource]]:
    """The app's book compiled with ``body`` in place of the published (``kind``, ``key``)."""
    sources = [s for s in _sources(uow, app_key, CHECKED_KINDS) if (s.kind, s.key) != (kind, key)]
    sources.append(BookSource(kind, key, 0, body))
    forms, flows = catalog(sources)
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
        raise ValidationFailed(
            f"The {kind} cannot be published: {len(problems)} problem(s) in the app's rules.",
            code="definition.invalid",
            errors=[located(p) for p in problems],
        )


def located(problem: Diagnostic) -> dict[str, str]:
    """A problem of the book (its path is ``/rules/<key>/…`` or ``/calendars/<key>/…``) with
    the definition it is in, ``definition`` (``rule/dispatch``), and the JSON pointer inside that
    definition, ``pointer``: the problem may lie in another definition than the one published
    (a decision table naming a group that does not exist, read by the rule being published)."""
    out = problem.as_dict()
    parts = [*problem.path.split("/", 3), "", "", ""]
    kind = {"rules": "rule", "calendars": "calendar"}.get(parts[1])
    if not parts[0] and kind is not None and parts[2]:
        out["definition"] = f"{kind}/{parts[2]}"
        out["pointer"] = f"/{parts[3]}" if parts[3] else ""
    return out


def _directory_problems(uow: UnitOfWork, sources: Sequence[BookSource]) -> list[Diagnostic]:
    """Groups and roles that rules name (directly or as decision-table outputs) must exist."""
    wanted = named_recipients(sources)
    if not wanted:
        return []
    known = {
        "group": set(uow.session.scalars(select(Group.key))),
        "role": set(uow.session.scalars(select(Role.key))),
    }
    return [
        Diagnostic(path, f"rule.{kind}", f"there is no {kind} {key!r}")
        for path, kind, key in wanted
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
