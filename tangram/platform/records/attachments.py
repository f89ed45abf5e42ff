"""Attachments: uploads with size and type limits, stored by SHA-256, linked to the records using them.

A file is uploaded first (``store``) and gets an id; a record write then refers to it by that id in
an attachment, attachments or signature field. The write checks that the caller may use the file
(their own upload not yet used elsewhere, or already this record's) and the field's ``accept`` and
``max_size``, replaces the value with the stored facts (name, size, type, SHA-256) and links the
file to the record, whose read permission then guards the download.

Types are decided from the file name's extension against an allow-list, and image, PDF and
archive types must also carry their format's signature bytes: the type a client declares is not
trusted. Bytes go to the installation's file store (``tangram.platform.kernel.files``: the
folder ``<instance>/files`` or an S3-compatible bucket) under their SHA-256, so identical files
are stored once; the store receives the bytes as they are checked and keeps them under their
digest only once every check passed, so a refused or half-received upload leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select

from tangram.engines.forms import FILE_TYPES, FieldDef, FieldError, FieldType, Form, map_values
from tangram.engines.forms.messages import message
from tangram.platform.identity.perms import Action, Actor, check_record, scope_for
from tangram.platform.kernel.errors import (
    NotFound,
    PermissionDenied,
    TangramError,
    ValidationFailed,
)
from tangram.platform.kernel.files import FileStore, StoredFile
from tangram.platform.kernel.models import Attachment, Record
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import AppRef, compiled, get_app

CHUNK = 64 * 1024
#: Extension → content type of every file type accepted (no HTML, SVG or scripts: they run).
TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".json": "application/json",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".zip": "application/zip",
    ".mp4": "video/mp4",
}
#: Leading bytes each of these types must start with.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
    "application/zip": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (b"PK\x03\x04",),
}
#: Types a browser may show inline; everything else downloads.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})


class TooLarge(TangramError):
    """The upload is bigger than allowed."""

    status = 413
    title = "Payload too large"
    default_code = "attachment.too_large"


def _invalid(detail: str, code: str) -> ValidationFailed:
    return ValidationFailed(detail, code=code, errors=[{"path": "file", "message": detail}])


def content_type_of(name: str) -> str:
    """The content type of an accepted file name (422 when its extension is not accepted)."""
    ext = Path(name).suffix.lower()
    found = TYPES.get(ext)
    if found is None:
        raise _invalid(
            f"Files of type {ext or '(no extension)'!r} are not accepted; use one of "
            + ", ".join(sorted(TYPES)),
            "attachment.type_refused",
        )
    return found


def accepts(f: FieldDef, name: str, content_type: str) -> bool:
    """Whether a file field's ``accept`` list (``image/*``, ``application/pdf``, ``.pdf``) allows it."""
    if f.type is FieldType.SIGNATURE and not f.accept:
        return content_type.startswith("image/")
    if not f.accept:
        return True
    ext = Path(name).suffix.lower()
    for pattern in f.accept:
        pattern = pattern.strip().lower()
        if pattern.startswith(".") and pattern == ext:
            return True
        if pattern.endswith("/*") and content_type.startswith(pattern[:-1]):
            return True
        if pattern == content_type:
            return True
    return False


def clean_name(name: str) -> str:
    """A file name without folders, quotes or control characters (422 when nothing usable is
    left)."""
    base = Path(name.replace("\\", "/")).name.strip()
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?')
    if not cleaned or cleaned in {".", ".."}:
        raise _invalid("The file has no usable name.", "attachment.bad_name")
    return cleaned[:255]


def _field(form: Form, field_key: str | None) -> FieldDef | None:
    if field_key is None:
        return None
    for f in form.fields:
        for candidate, name in ((f, f.key), *((sub, f"{f.key}.{sub.key}") for sub in f.fields)):
            if name == field_key and candidate.type in FILE_TYPES:
                return candidate
    raise _invalid(f"{field_key!r} is not a file field of form {form.key!r}.", "attachment.field")


@dataclass(frozen=True, slots=True)
class UploadTarget:
    """Where an upload goes and what it may be, checked before any byte is read."""

    app_id: int
    form_key: str
    field_key: str | None
    name: str
    content_type: str
    limit: int


@dataclass(frozen=True, slots=True)
class Received:
    """An upload's bytes, kept in the file store under their digest."""

    size: int
    sha256: str


def upload_target(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    filename: str,
    *,
    max_bytes: int,
    field_key: str | None = None,
    intake_id: int | None = None,
) -> UploadTarget:
    """Whether the actor may upload this file to the form (and field): 403 without a create or
    update grant, 422 for a type the field refuses. Reads only."""
    app = get_app(uow, actor, app_key)
    if intake_id is None and not (
        scope_for(actor, Action.CREATE, app_key, form_key)
        or scope_for(actor, Action.UPDATE, app_key, form_key)
    ):
        raise PermissionDenied(
            f"You may not upload files to form {form_key!r}.", code="permission.record"
        )
    _, form = compiled.form(uow, app_key, form_key)
    name = clean_name(filename)
    content_type = content_type_of(name)
    target = _field(form, field_key)
    limit = min(max_bytes, target.max_size or max_bytes) if target else max_bytes
    if target is not None and not accepts(target, name, content_type):
        raise _invalid(
            f"Field {field_key!r} accepts {', '.join(target.accept) or 'images'}, not {name!r}.",
            "attachment.type_refused",
        )
    return UploadTarget(app.id, form_key, field_key, name, content_type, limit)


def receive(files: FileStore, stream: BinaryIO, target: UploadTarget) -> Received:
    """Stream the bytes into the file store, checking size and content as they come; 413 over
    the limit, 422 when empty or not what its name says, 503 when the store cannot be reached.
    No database is touched: callers do this outside any transaction (a slow upload, or one to a
    bucket over the network, must not hold a connection or SQLite's write lock). Bytes kept whose
    record is then not written stay in the store under their digest, as any unused upload's."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    with files.receive() as upload:
        for chunk in _chunks(stream):
            size += len(chunk)
            if size > target.limit:
                raise TooLarge(
                    f"The file is larger than {target.limit} bytes, the most this field accepts.",
                )
            if len(head) < 16:
                head += chunk[: 16 - len(head)]
            digest.update(chunk)
            upload.write(chunk)
        if size == 0:
            raise _invalid("The file is empty.", "attachment.empty")
        signatures = SIGNATURES.get(target.content_type)
        if signatures and not head.startswith(signatures):
            raise _invalid(
                f"The content of {target.name!r} is not a {target.content_type} file.",
                "attachment.content_mismatch",
            )
        sha = digest.hexdigest()
        upload.keep(sha)
    return Received(size, sha)


def record_upload(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    target: UploadTarget,
    received: Received,
    *,
    intake_id: int | None = None,
    access_link_id: int | None = None,
) -> Attachment:
    """The attachment row and its audit entry for bytes :func:`receive` kept (``intake_id`` or
    ``access_link_id``: the public link an anonymous upload came through)."""
    attachment = Attachment(
        id=secrets.token_urlsafe(18),
        app_id=target.app_id,
        form_key=target.form_key,
        name=target.name,
        content_type=target.content_type,
        size=received.size,
        sha256=received.sha256,
        uploaded_by=actor.user_id,
        intake_id=intake_id,
        access_link_id=access_link_id,
        created_at=uow.now,
    )
    uow.session.add(attachment)
    uow.flush()
    uow.audit(
        actor.user_id,
        actor.label,
        "attachment.uploaded",
        "attachment",
        attachment.id,
        {
            "app": app_key,
            "form": target.form_key,
            "name": target.name,
            "size": received.size,
            "sha256": received.sha256,
        },
    )
    return attachment


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


def describe(attachment: Attachment) -> dict[str, Any]:
    """The value a file field stores for this attachment."""
    return {
        "id": attachment.id,
        "name": attachment.name,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "sha256": attachment.sha256,
    }


@dataclass
class Resolved:
    """File values of a record write, checked: the data to store and the files to link."""

    data: dict[str, Any]
    errors: list[FieldError]
    files: list[Attachment]


def _usable(
    attachment: Attachment,
    actor: Actor,
    app: AppRef,
    form: Form,
    record_id: int | None,
    intake_id: int | None,
) -> bool:
    """Whether a write may use a file: already this record's, or an unused upload of the same
    writer (the same intake link for anonymous writes) to the same form."""
    if attachment.app_id != app.id or attachment.form_key != form.key:
        return False
    if attachment.record_id is not None:
        return record_id is not None and attachment.record_id == record_id
    if intake_id is not None:
        return attachment.intake_id == intake_id
    return (
        attachment.intake_id is None
        and attachment.access_link_id is None
        and attachment.uploaded_by == actor.user_id
    )


def _file_refs(f: FieldDef, value: Any) -> list[tuple[str, dict[str, Any]]]:
    """``(suffix, value)`` of each file a field value refers to."""
    if f.type is FieldType.ATTACHMENTS and isinstance(value, list):
        return [(f"/{i}", v) for i, v in enumerate(value) if isinstance(v, dict)]
    if f.type in FILE_TYPES and isinstance(value, dict):
        return [("", value)]
    return []


def _file_ids(form: Form, data: Mapping[str, Any]) -> set[str]:
    """Ids of the files a document refers to, visiting only file fields (most forms have few)."""
    ids: set[str] = set()
    for f in form.fields:
        value = data.get(f.key)
        if value is None:
            continue
        if f.type in FILE_TYPES:
            ids.update(str(v.get("id")) for _, v in _file_refs(f, value))
        elif f.type is FieldType.SUB_TABLE and isinstance(value, list):
            inner = [s for s in f.fields if s.type in FILE_TYPES]
            for row in value if inner else ():
                if isinstance(row, Mapping):
                    for s in inner:
                        refs = _file_refs(s, row.get(s.key))
                        ids.update(str(v.get("id")) for _, v in refs)
    return ids


def resolve(
    uow: UnitOfWork,
    actor: Actor,
    app: AppRef,
    form: Form,
    data: Mapping[str, Any],
    *,
    record_id: int | None,
    lang: str,
    intake_id: int | None = None,
) -> Resolved:
    """Check every file a record write refers to; the returned data holds their stored facts."""
    ids = _file_ids(form, data)
    if not ids:
        return Resolved(dict(data), [], [])
    found = {a.id: a for a in uow.session.scalars(select(Attachment).where(Attachment.id.in_(ids)))}
    errors: list[FieldError] = []
    files: list[Attachment] = []

    def check(path: str, f: FieldDef, value: dict[str, Any]) -> dict[str, Any]:
        attachment = found.get(str(value.get("id")))
        if attachment is None or not _usable(attachment, actor, app, form, record_id, intake_id):
            errors.append(
                FieldError(path, "attachment.unknown", message("attachment.unknown", lang))
            )
            return value
        if not accepts(f, attachment.name, attachment.content_type):
            errors.append(
                FieldError(
                    path, "attachment.type", message("attachment.type", lang, name=attachment.name)
                )
            )
        elif f.max_size and attachment.size > f.max_size:
            errors.append(
                FieldError(
                    path, "attachment.size", message("attachment.size", lang, limit=f.max_size)
                )
            )
        files.append(attachment)
        return describe(attachment)

    def fill(path: str, f: FieldDef, value: Any) -> Any:
        refs = _file_refs(f, value)
        if not refs:
            return value
        if f.type is FieldType.ATTACHMENTS:
            checked = {suffix: check(path + suffix, f, v) for suffix, v in refs}
            return [checked.get(f"/{i}", v) for i, v in enumerate(value)]
        return check(path, f, refs[0][1])

    return Resolved(map_values(form.fields, data, fill), errors, files)


def link(files: list[Attachment], record_id: int) -> None:
    """Mark files as belonging to a record (after its insert gave it an id)."""
    for attachment in files:
        attachment.record_id = record_id


def open_download(
    uow: UnitOfWork, actor: Actor, app_key: str, attachment_id: str, *, files: FileStore
) -> tuple[Attachment, StoredFile]:
    """A file the actor may read: one of a record they may read, or their own unused upload.

    The permission is checked here, on every download, whatever the store: the bytes are
    streamed by the app (never a link to the store that would outlive the permission)."""
    app = get_app(uow, actor, app_key)
    attachment = uow.session.get(Attachment, attachment_id)
    missing = NotFound(
        f"App {app_key!r} has no file {attachment_id!r}.", code="attachment.not_found"
    )
    if attachment is None or attachment.app_id != app.id:
        raise missing
    if attachment.record_id is not None:
        record = uow.session.get(Record, attachment.record_id)
        if record is None or record.deleted_at is not None:
            raise missing
        try:
            check_record(
                uow.session,
                actor,
                Action.READ.value,
                app_key=app_key,
                form_key=record.form_key,
                owner_id=record.owner_id,
                group_id=record.group_id,
            )
        except PermissionDenied:
            raise missing from None
    elif not actor.is_admin and (actor.user_id is None or attachment.uploaded_by != actor.user_id):
        raise missing
    stored = files.open(attachment.sha256)
    if stored is None:
        raise NotFound(
            f"The bytes of file {attachment_id!r} are missing from the file store.",
            code="attachment.bytes_missing",
        )
    return attachment, stored
