"""Compiled definitions, cached by (app, kind, key, version, checksum): compile once per version."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from tangram.engines.forms import Form, compile_form
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import store as metadata

_CACHE_SIZE = 512
#: Where a unit of work remembers what it already looked up.
MEMO = metadata.MEMOS[0]
_lock = threading.Lock()
_forms: OrderedDict[tuple[str, str, int, str], Form] = OrderedDict()


def form(
    uow: UnitOfWork, app_key: str, form_key: str, version: int | None = None
) -> tuple[int, Form]:
    """The published form (newest, or ``version``) compiled; raises NotFound when unpublished.

    Remembered for the rest of the unit of work (publishing in it forgets, see
    :func:`~tangram.platform.metadata.forget_in`), so a command that touches a form several
    times asks the store once.
    """
    memo: dict[tuple[str, str, int | None], tuple[int, Form]] = uow.scratch.setdefault(MEMO, {})
    found = memo.get((app_key, form_key, version))
    if found is None:
        found = memo[(app_key, form_key, version)] = _form(uow, app_key, form_key, version)
    return found


def _form(uow: UnitOfWork, app_key: str, form_key: str, version: int | None) -> tuple[int, Form]:
    row_id, number, digest = metadata.published_ref(uow, app_key, "form", form_key, version)
    cache_key = (app_key, form_key, number, digest)
    with _lock:
        cached = _forms.get(cache_key)
        if cached is not None:
            _forms.move_to_end(cache_key)
            return number, cached
    body = metadata.version_body(uow, row_id)
    compiled = compile_form(body, forms=metadata.form_catalog(uow, app_key))
    with _lock:
        _forms[cache_key] = compiled
        while len(_forms) > _CACHE_SIZE:
            _forms.popitem(last=False)
    return number, compiled


def clear() -> None:
    """Forget every compiled definition (tests, and after a metadata rollback)."""
    with _lock:
        _forms.clear()


def cached_keys() -> list[Any]:
    """What the cache holds (for diagnostics)."""
    with _lock:
        return list(_forms)
