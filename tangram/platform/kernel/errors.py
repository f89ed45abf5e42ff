"""The platform's error tree. The web layer maps each class to one RFC 9457 problem."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from tangram.engines.common import Diagnostic


class TangramError(Exception):
    """Base of every expected failure; ``code`` is a stable dotted identifier."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    default_code: ClassVar[str] = "request.invalid"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: Iterable[Mapping[str, str]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.errors: list[dict[str, str]] = [dict(e) for e in errors or ()]
        self.extra: dict[str, Any] = dict(extra or {})


class NotFound(TangramError):
    """The object does not exist, was deleted, or is not visible to the actor."""

    status = 404
    title = "Not found"
    default_code = "not_found"


class Gone(TangramError):
    """What was asked for existed once and is over (a survey already answered)."""

    status = 410
    title = "Gone"
    default_code = "gone"


class Conflict(TangramError):
    """The request conflicts with the current state; ``current`` carries it when useful, and
    ``errors`` what stands in the way (path, message)."""

    status = 409
    title = "Conflict"
    default_code = "conflict"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        current: Mapping[str, Any] | None = None,
        current_version: int | None = None,
        errors: Iterable[Mapping[str, str]] | None = None,
    ) -> None:
        extra: dict[str, Any] = {}
        if current is not None:
            extra["current"] = dict(current)
        if current_version is not None:
            extra["current_version"] = current_version
        super().__init__(detail, code=code, errors=errors, extra=extra)


class StaleVersion(Conflict):
    """A write carried a lock version that is no longer current."""

    default_code = "lock_version.stale"


class PermissionDenied(TangramError):
    """The actor is known but may not do this."""

    status = 403
    title = "Forbidden"
    default_code = "permission.denied"


class Unauthenticated(TangramError):
    """No valid credentials came with the request."""

    status = 401
    title = "Unauthorized"
    default_code = "auth.required"


class ValidationFailed(TangramError):
    """Input was understood but is not acceptable; ``errors`` lists every problem (path, message)."""

    status = 422
    title = "Validation failed"
    default_code = "validation.failed"

    @classmethod
    def from_diagnostics(
        cls, detail: str, diagnostics: Iterable[Diagnostic], *, code: str | None = None
    ) -> ValidationFailed:
        """Wrap engine diagnostics (JSON-pointer paths)."""
        return cls(detail, code=code, errors=[d.as_dict() for d in diagnostics])

    @classmethod
    def at(cls, path: str, message: str, detail: str | None = None) -> ValidationFailed:
        """One problem at one path (the detail says it too unless given)."""
        return cls(detail or f"{path}: {message}", errors=[{"path": path, "message": message}])


class RateLimited(TangramError):
    """Too many attempts; ``retry_after`` says when to try again (seconds)."""

    status = 429
    title = "Too many requests"
    default_code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code, extra={"retry_after": retry_after})
        self.retry_after = retry_after


def check_lock(
    obj: Any, lock_version: int | None, current: Mapping[str, Any] | None = None
) -> None:
    """Refuse a write based on a lock version that is no longer ``obj``'s (``current``: what the
    409 shows of the object as it is now)."""
    if lock_version is not None and lock_version != obj.lock_version:
        raise StaleVersion(
            f"Someone else changed this {type(obj).__name__.lower()} (your version "
            f"{lock_version}, current {obj.lock_version}). Reload and apply your change again.",
            current=current,
            current_version=obj.lock_version,
        )
