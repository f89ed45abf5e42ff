"""Compiled definitions, cached by (app, kind, key, version, checksum): compile once per version."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from tangram.engines.forms import Form, compile_form
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import store

_CACHE_SIZE = 512
#: Where a unit of work remembers what it already looked up.
MEMO = "compiled_forms"
_lock = threading.Lock()
_forms: OrderedDict[tuple[str, str, int, str], Form] = OrderedDict()


def form(
    uow: UnitOfWork, app_key: str, form_key: str, version: int | None = None
) -> tuple[int, Form]:
    """The published form (newest, or ``version``) compiled; raises NotFound when unpublished.

    Remembered for the rest of the unit of work (publishing in it forgets, see
    :func:`forget_in`), so a command that touches a form several
    times asks the store once.
    """
    memo: dict[tuple[str, str, int | None], tuple[int, Form]] = uow.scratch.setdefault(MEMO, {})
    found = memo.get((app_key, form_key, version))
    if found is None:
        found = memo[(app_key, form_key, version)] = _form(uow, app_key, form_key, version)
    return found


def _form(uow: UnitOfWork, app_key: str, form_key: str, version: int | None) -> tuple[int, Form]:
    row_id, number, digest = store.published_ref(uow, app_key, "form", form_key, version)
    cache_key = (app_key, form_key, number, digest)
    with _lock:
        cached = _forms.get(cache_key)
        if cached is not None:
            _forms.move_to_end(cache_key)
            return number, cached
    body = store.version_body(uow, row_id)
    compiled = compile_form(body, forms=store.form_catalog(uow, app_key))
    with _lock:
        _forms[cache_key] = compiled
        while len(_forms) > _CACHE_SIZE:
            _forms.popitem(last=False)
    return number, compiled


#: Where a unit of work remembers compiled definitions (forgotten when it publishes).
MEMOS = (MEMO, "rulebooks", "processes")


def forget_in(uow: UnitOfWork) -> None:
    """Forget what this unit of work remembered of compiled definitions (after a publication)."""
    for name in MEMOS:
        uow.scratch.pop(name, None)


def clear() -> None:
    """Forget every compiled definition (tests, and after a metadata rollback)."""
    with _lock:
        _forms.clear()


def cached_keys() -> list[Any]:
    """What the cache holds (for diagnostics)."""
    with _lock:
        return list(_forms)
