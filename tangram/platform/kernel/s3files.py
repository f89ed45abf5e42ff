"""Attachment bytes in an S3-compatible bucket, shared by every app server of an installation.

Chosen with ``TANGRAM_FILE_STORE=s3`` and ``TANGRAM_S3_BUCKET`` (optionally ``_PREFIX``,
``_ENDPOINT_URL`` for MinIO, Ceph and the like, ``_REGION``); credentials come from boto3's own
chain (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, an instance or task
role), never from Tangram's settings. boto3 is the optional ``s3`` extra: this module is imported
only by installations that use it.

How the store keeps its promises (``tangram.platform.kernel.files``):

- An upload is spooled (memory, then a temporary file) while attachments hash and check it; only
  a file that passed every check is sent, in one ``PUT`` carrying its SHA-256, which S3 verifies
  before the object exists. A file refused as too large or of the wrong type never reaches the
  bucket, and a ``PUT`` is atomic: no reader ever sees part of an object.
- A digest already in the bucket is not sent again (``HEAD`` first): identical files are stored
  once, and a retried upload costs one request.
- Downloads are streamed through the app rather than redirected to a presigned URL: the
  record's read permission is checked on every request (a presigned URL keeps working for
  whoever holds it until it expires, even after the record was deleted or the reader lost the
  grant), the response carries the same headers as a local file (``Content-Disposition``, the
  content type decided at upload, ``nosniff``, the sandboxing CSP, ``private, no-cache``), and the
  bucket need not be reachable from browsers. The price, app-server bandwidth, is the one every
  download of the local store pays too.
- Failures of the service (unreachable endpoint, missing bucket, refused credentials) become
  ``FileStoreUnavailable`` (503) with the details in the log, not in the answer.
"""

from __future__ import annotations

import base64
import io
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tangram.platform.kernel.files import FileStoreUnavailable, StoredFile, Upload, check_digest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)

#: Uploads up to this size are spooled in memory, larger ones in a temporary file.
SPOOL_BYTES = 1024 * 1024
#: A store that does not answer fails fast: a user waits for the answer.
CONNECT_SECONDS = 5.0
READ_SECONDS = 30.0
#: Tries of every request (the first included); boto3's "standard" mode backs off between them.
ATTEMPTS = 3
#: Error codes that mean "no such object" (a HEAD answers only the status, as "404").
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3FileStore:
    """Files as objects ``<prefix><sha256>`` of one bucket."""

    location: str

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        attempts: int = ATTEMPTS,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.location = f"s3://{bucket}/{prefix}"
        config = Config(
            connect_timeout=CONNECT_SECONDS,
            read_timeout=READ_SECONDS,
            retries={"mode": "standard", "total_max_attempts": attempts},
            # S3-compatible services all understand path-style addresses; bucket host names
            # (virtual-hosted style) need DNS that a MinIO in the next rack does not have
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        # a session of its own: boto3's default session is not safe to share between threads
        session = boto3.session.Session(region_name=region)
        #: The boto3 client (thread-safe; tests listen to its events).
        self.client: S3Client = session.client("s3", endpoint_url=endpoint_url, config=config)

    def key(self, sha256: str) -> str:
        """The object key of a digest."""
        return self.prefix + check_digest(sha256)

    def _unavailable(self, doing: str, error: Exception) -> FileStoreUnavailable:
        reason = f"{_code(error)} {error}" if isinstance(error, ClientError) else str(error)
        log.warning("file store %s failed while %s: %s", self.location, doing, reason)
        return FileStoreUnavailable(
            f"The file store could not be reached while {doing}; try again later."
        )

    def _head(self, sha256: str, doing: str) -> dict[str, Any] | None:
        try:
            return dict(self.client.head_object(Bucket=self.bucket, Key=self.key(sha256)))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise self._unavailable(doing, exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable(doing, exc) from exc

    @contextmanager
    def receive(self) -> Iterator[Upload]:
        """Spool the upload; it is sent to the bucket only when kept."""
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            yield _S3Upload(self, spool)

    def put(self, sha256: str, body: IO[bytes]) -> None:
        """Send a checked file unless its digest is stored already (``body`` at its start)."""
        if self._head(sha256, "checking for a stored copy") is not None:
            return
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.key(sha256),
                Body=body,
                ChecksumSHA256=checksum,
                ContentType="application/octet-stream",
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable("storing the file", exc) from exc

    def open(self, sha256: str) -> StoredFile | None:
        """The object's size and time, and a stream that fetches it only when read."""
        head = self._head(sha256, "reading the file")
        if head is None:
            return None
        size = int(head["ContentLength"])
        reader = _ObjectReader(self, self.key(sha256), size)
        # a raw stream, unbuffered: a buffer in front would hide waitress's seeks from the
        # reader's window (typeshed's RawIOBase is not an IO[bytes], though it reads like one)
        return StoredFile(size, head.get("LastModified"), cast("BinaryIO", reader))

    def exists(self, sha256: str) -> bool:
        """Whether the object is there (one ``HEAD``)."""
        return self._head(sha256, "checking for the file") is not None

    def delete(self, sha256: str) -> bool:
        """Delete the object (S3 deletes answer alike whether it existed, hence the ``HEAD``)."""
        if self._head(sha256, "deleting the file") is None:
            return False
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key(sha256))
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable("deleting the file", exc) from exc
        return True


class _S3Upload:
    """One upload spooled for an ``S3FileStore``."""

    def __init__(self, store: S3FileStore, spool: IO[bytes]) -> None:
        self._store = store
        self._spool = spool

    def write(self, chunk: bytes) -> None:
        self._spool.write(chunk)

    def keep(self, sha256: str) -> None:
        self._spool.seek(0)
        self._store.put(sha256, self._spool)


class _ObjectReader(io.RawIOBase):
    """A seekable read-only stream over one object, reading it in one ``GET`` when read in order.

    Nothing is fetched until the first read, which asks for the object from the current
    position on (``Range: bytes=N-``): a revalidated download (304) costs no ``GET``, and a
    range request starts where it should instead of reading and dropping what comes before.
    The bytes of the last read are kept, because waitress reads ahead, seeks back and then
    forward by what the socket took; a seek anywhere else drops the response and the next read
    asks again from there.
    """

    def __init__(self, store: S3FileStore, key: str, size: int) -> None:
        super().__init__()
        self._store = store
        self._key = key
        self._size = size
        self._position = 0
        self._body: Any = None
        #: Where the open response is (what it sends next) and the bytes read just before it.
        self._body_position = 0
        self._window = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        target = base + offset
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        self._position = target
        return target

    def readinto(self, buffer: Any) -> int:
        if self._position >= self._size:
            return 0
        view = memoryview(buffer).cast("B")
        behind = self._body_position - self._position
        if self._body is not None and 0 < behind <= len(self._window):
            data = self._window[len(self._window) - behind :][: len(view)]
        else:
            data = self._fetch(len(view))
        view[: len(data)] = data
        self._position += len(data)
        return len(data)

    def _fetch(self, wanted: int) -> bytes:
        """The next bytes from the object at the current position, opening it there if need be."""
        try:
            if self._body is None or self._body_position != self._position:
                self._drop()
                answer = self._store.client.get_object(
                    Bucket=self._store.bucket, Key=self._key, Range=f"bytes={self._position}-"
                )
                self._body = answer["Body"]
                self._body_position = self._position
            data: bytes = self._body.read(wanted)
        except (ClientError, BotoCoreError) as exc:
            raise OSError(
                f"the file store {self._store.location} failed sending {self._key}: {exc}"
            ) from exc
        if not data:
            raise OSError(
                f"the file store {self._store.location} ended {self._key} at byte "
                f"{self._position} of {self._size}"
            )
        self._body_position += len(data)
        self._window = data
        return data

    def _drop(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None
        self._window = b""

    def close(self) -> None:
        self._drop()
        super().close()
