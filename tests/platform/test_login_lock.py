"""The account lock's rules, and its count under concurrent guesses.

Each racing guesser has its own Platform (engine and connection pool), as separate app servers
would. On PostgreSQL the upsert row-locks the name; on SQLite, BEGIN IMMEDIATE serialises writers.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import auth
from tangram.platform.identity.lockout import LockPolicy, LockState, admit
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.errors import RateLimited, TangramError
from tangram.platform.kernel.models import LoginLock, User
from tests.conftest import ADMIN_PASSWORD, race

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
POLICY = LockPolicy(
    max_failures=3,
    window=timedelta(minutes=15),
    first_lock=timedelta(minutes=1),
    longest_lock=timedelta(minutes=15),
)


def _state(
    failures: int = 0,
    started: timedelta = timedelta(0),
    locked: timedelta | None = None,
    lockouts: int = 0,
) -> LockState:
    """A state relative to NOW (negative: in the past)."""
    return LockState(failures, NOW + started, None if locked is None else NOW + locked, lockouts)


@pytest.mark.parametrize(
    ("before", "after", "retry_after"),
    [
        (_state(), _state(failures=1), None),
        (_state(failures=1), _state(failures=2), None),
        # the attempt reaching the limit is admitted and locks the name meanwhile
        (_state(failures=2), _state(locked=timedelta(minutes=1), lockouts=1), None),
        # a window that has run out starts over
        (
            _state(failures=2, started=-timedelta(minutes=15)),
            _state(failures=1),
            None,
        ),
        # refused while locked, and nothing changes
        (
            _state(locked=timedelta(seconds=30), lockouts=1),
            _state(locked=timedelta(seconds=30), lockouts=1),
            30,
        ),
        (
            _state(locked=timedelta(milliseconds=200), lockouts=1),
            _state(locked=timedelta(milliseconds=200), lockouts=1),
            1,
        ),
        # the next lock in a row lasts twice as long, up to the longest
        (
            _state(failures=2, locked=-timedelta(minutes=1), lockouts=1),
            _state(locked=timedelta(minutes=2), lockouts=2),
            None,
        ),
        (
            _state(failures=2, locked=-timedelta(minutes=1), lockouts=9),
            _state(locked=timedelta(minutes=15), lockouts=10),
            None,
        ),
        (
            _state(failures=2, locked=-timedelta(minutes=1), lockouts=10_000),
            _state(locked=timedelta(minutes=15), lockouts=10_001),
            None,
        ),
        # a lock a day old is forgotten: the next one is short again
        (
            _state(failures=2, locked=-timedelta(days=1), lockouts=4),
            _state(locked=timedelta(minutes=1), lockouts=1),
            None,
        ),
    ],
)
def test_admit_counts_locks_and_refuses_when_state_is_given(
    before: LockState, after: LockState, retry_after: int | None
) -> None:
    assert admit(before, NOW, POLICY) == (after, retry_after)


def test_policy_comes_from_the_settings_when_built() -> None:
    policy = LockPolicy.from_settings(Settings())
    assert policy.max_failures == 10
    assert [policy.lock_length(n).total_seconds() / 60 for n in range(1, 7)] == [
        1,
        2,
        4,
        8,
        15,
        15,
    ]


def test_concurrent_guesses_from_many_addresses_cannot_pass_the_limit(
    platform: Platform, settings: Settings, clock: FrozenClock, admin_user: User
) -> None:
    guessers = 14

    def guess(p: Platform, n: int) -> str:
        with p.unit_of_work() as uow:
            try:
                auth.login(
                    uow,
                    p.settings,
                    username="admin",
                    password=f"guess-{n}-password",
                    remote_addr=f"192.0.2.{n}",
                )
            except TangramError as exc:
                return exc.code
        return "signed_in"

    outcomes = Counter(race(settings, clock, guessers, guess))
    assert outcomes == {"auth.wrong_credentials": 10, "auth.locked": guessers - 10}
    with platform.unit_of_work(write=False) as uow:
        row = uow.session.get(LoginLock, ("admin", ""))
        assert row is not None
        assert (row.lockouts, row.locked_until) == (1, clock.now() + timedelta(minutes=1))
    with platform.unit_of_work() as uow, pytest.raises(RateLimited):
        auth.login(
            uow,
            platform.settings,
            username="admin",
            password=ADMIN_PASSWORD,
            remote_addr="192.0.2.99",
        )
