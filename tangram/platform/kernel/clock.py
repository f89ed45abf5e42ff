"""The clock, injected everywhere time matters, so tests and replays move time instead of sleeping."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current instant (timezone-aware, UTC)."""

    def now(self) -> datetime:
        """The current instant."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current instant, in UTC."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to (tests, ``tangram jobs run --until``)."""

    def __init__(self, at: datetime) -> None:
        self._lock = threading.Lock()
        self._now = ensure_utc(at)

    def now(self) -> datetime:
        """The instant the clock is set to."""
        with self._lock:
            return self._now

    def set(self, at: datetime) -> None:
        """Move to ``at`` (backwards too)."""
        with self._lock:
            self._now = ensure_utc(at)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new instant."""
        with self._lock:
            self._now += delta
            return self._now


def ensure_utc(at: datetime) -> datetime:
    """``at`` as an aware UTC datetime; a naive value is taken to be UTC already."""
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)
