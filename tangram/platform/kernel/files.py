"""The file store: where the bytes of attachments live, addressed by their SHA-256.

Attachments (``tangram.platform.records.attachments``) decide what may be stored, hash it and
keep its facts in the database; a ``FileStore`` only keeps bytes under a digest. Two stores
exist: ``LocalFileStore``, the folder ``<instance>/files`` of one machine (the default), and
``S3FileStore`` (``tangram.platform.kernel.s3files``), an S3-compatible bucket that several app
servers share. ``TANGRAM_FILE_STORE`` picks one; the Platform builds it (``bootstrap``).

What every store guarantees:

- a file gets its final name only once all of it is there (the local store renames a
  temporary file; an S3 ``PUT`` is atomic), so a reader never sees half a file, and a refused
  or failed upload leaves nothing behind;
- keeping a digest that is already there is a no-op, so identical files are stored once;
- a store that cannot be reached raises ``FileStoreUnavailable`` (503), never a driver's error.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from tangram.platform.kernel.errors import TangramError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager


class FileStoreUnavailable(TangramError):
    """The file store could not be reached or refused the request (a bucket that is missing,
    credentials it does not accept, a network failure): nothing was stored or read."""

    status = 503
    title = "File store unavailable"
    default_code = "files.unavailable"


@dataclass(frozen=True, slots=True)
class StoredFile:
    """The bytes of one stored file, ready to be sent.

    ``source`` is a path for the local store (the server can send it by itself, ranges and all)
    or a seekable stream that reads from the store only when read.
    """

    size: int
    modified: datetime | None
    source: Path | BinaryIO


class Upload(Protocol):
    """Bytes being received for the store: written in order, then kept under their digest.

    Leaving the ``FileStore.receive()`` block without ``keep`` drops everything written.
    """

    def write(self, chunk: bytes) -> None:
        """Add the next bytes of the file."""

    def keep(self, sha256: str) -> None:
        """Store what was written under its digest (a no-op when that digest is stored)."""


class FileStore(Protocol):
    """Bytes by SHA-256: what attachments need of a storage service."""

    #: Where the files are, for messages and logs (``/srv/instance/files``, ``s3://bucket/p/``).
    location: str

    def receive(self) -> AbstractContextManager[Upload]:
        """A block that receives one file; what is not kept by its end is dropped."""

    def open(self, sha256: str) -> StoredFile | None:
        """The file with this digest, or ``None`` when its bytes are not in the store."""

    def exists(self, sha256: str) -> bool:
        """Whether the bytes of this digest are stored."""

    def delete(self, sha256: str) -> bool:
        """Remove the bytes of this digest; whether there were any."""


def check_digest(sha256: str) -> str:
    """A digest as a key: 64 lowercase hex digits (anything else would be a path or a prefix)."""
    if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return sha256


class LocalFileStore:
    """Files under ``<folder>/<sha256[:2]>/<sha256>`` on this machine's disk.

    An upload is written to a temporary file inside the folder (so the rename that gives it its
    final name never crosses file systems) and renamed once kept; renaming over an existing copy
    of the same digest replaces identical bytes, so no existence check is needed.
    """

    location: str

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.location = str(self.folder)

    def path(self, sha256: str) -> Path:
        """Where the bytes of this digest live."""
        digest = check_digest(sha256)
        return self.folder / digest[:2] / digest

    @contextmanager
    def receive(self) -> Iterator[Upload]:
        """Receive into a temporary file of the folder, removed unless it was kept."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".upload-")
        upload = _LocalUpload(self, os.fdopen(fd, "wb"), Path(temp))
        try:
            yield upload
        finally:
            upload.close()
            if not upload.kept:
                Path(temp).unlink(missing_ok=True)

    def open(self, sha256: str) -> StoredFile | None:
        """The stored file's path, size and modification time."""
        path = self.path(sha256)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return StoredFile(stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC), path)

    def exists(self, sha256: str) -> bool:
        """Whether the file is there."""
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> bool:
        """Unlink the file."""
        path = self.path(sha256)
        if not path.is_file():
            return False
        path.unlink(missing_ok=True)
        return True


class _LocalUpload:
    """One upload into a temporary file of a ``LocalFileStore``."""

    def __init__(self, store: LocalFileStore, out: BinaryIO, temp: Path) -> None:
        self._store = store
        self._out = out
        self._temp = temp
        self.kept = False

    def write(self, chunk: bytes) -> None:
        self._out.write(chunk)

    def keep(self, sha256: str) -> None:
        final = self._store.path(sha256)
        self._out.close()
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._temp, final)
        self.kept = True

    def close(self) -> None:
        self._out.close()
