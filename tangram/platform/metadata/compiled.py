"""Compiled forms: compiled once per published version in a platform (keyed by checksum) and looked
up once per unit of work."""

from __future__ import annotations

from tangram.engines.forms import Form, compile_form
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import store


def form(
    uow: UnitOfWork, app_key: str, form_key: str, version: int | None = None
) -> tuple[int, Form]:
    """The published form (newest, or ``version``) compiled; raises NotFound when unpublished.

    Remembered for the rest of the unit of work (a publication in it forgets), so a command that
    touches a form several times asks the store once.
    """
    memo = uow.memo.forms
    found = memo.get((app_key, form_key, version))
    if found is None:
        found = memo[(app_key, form_key, version)] = _form(uow, app_key, form_key, version)
    return found


def _form(uow: UnitOfWork, app_key: str, form_key: str, version: int | None) -> tuple[int, Form]:
    row_id, number, digest = store.published_ref(uow, app_key, "form", form_key, version)
    cache_key = (app_key, form_key, number, digest)
    cached = uow.caches.forms.get(cache_key)
    if cached is not None:
        return number, cached
    body = store.version_body(uow, row_id)
    compiled = compile_form(body, forms=store.form_catalog(uow, app_key))
    return number, uow.caches.forms.put(cache_key, compiled)
