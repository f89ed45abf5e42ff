"""Schema, migrations, database settings and optimistic locking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from tangram.platform.bootstrap import Platform
from tangram.platform.identity import users
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel import jobs, migrate
from tangram.platform.kernel.errors import Conflict, StaleVersion
from tangram.platform.kernel.models import Base, Job, Membership, User
from tangram.platform.kernel.uow import UnitOfWork
from tests.conftest import count_queries, make_user


def _modelled(name: str | None, type_: str, _parents: object) -> bool:
    """The full-text search's database-specific parts are the migration's alone: SQLite's FTS5
    table (and the shadow tables it keeps) and PostgreSQL's GIN index over the tokens."""
    if type_ == "table" and name is not None and name.startswith("record_search_fts"):
        return False
    return not (type_ == "index" and name == "ix_record_search_tsv")


def test_migrations_match_the_models_when_at_head(platform: Platform) -> None:
    with platform.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _modelled}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    assert migrate.is_up_to_date(platform.engine)


def test_migration_chain_downgrades_and_upgrades_again(platform: Platform) -> None:
    migrate.downgrade(platform.engine, "base")
    assert migrate.current_revision(platform.engine) is None
    assert "users" not in inspect(platform.engine).get_table_names()
    migrate.upgrade(platform.engine)
    assert migrate.current_revision(platform.engine) == migrate.head_revision()
    with platform.engine.connect() as connection:
        assert connection.execute(text("SELECT key FROM roles")).scalars().all() == ["admin"]


def test_database_runs_with_the_settings_of_its_dialect(platform: Platform) -> None:
    """SQLite: WAL journal and enforced foreign keys. PostgreSQL: JSON documents in JSONB."""
    if platform.engine.dialect.name == "sqlite":
        with platform.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    else:
        columns = {c["name"]: c["type"] for c in inspect(platform.engine).get_columns("records")}
        assert type(columns["data"]).__name__ == "JSONB"


def test_foreign_keys_are_enforced(platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        uow.session.add(Membership(group_id=12345, user_id=67890, created_at=uow.now))
        with pytest.raises(Conflict):
            uow.commit()


def _flushed(uow: UnitOfWork, row: User) -> None:
    row.display_name = "L"
    uow.commit()


def _updated(uow: UnitOfWork, row: User) -> None:
    uow.update(row, {"display_name": "L"})


@pytest.mark.parametrize("write", [_flushed, _updated], ids=["the ORM's flush", "update"])
def test_write_based_on_an_old_read_is_refused_when_another_write_committed(
    platform: Platform, write: Callable[[UnitOfWork, User], None]
) -> None:
    """The version check: UPDATE ... WHERE lock_version = <read version> hits no row, whether
    the ORM's flush sends it or :meth:`UnitOfWork.update`."""
    user = make_user(platform, "kate")
    with platform.unit_of_work() as loser:
        target = loser.session.get(User, user.id)
        assert target is not None
        loser.commit()  # the read is done; the write comes later, in a new transaction
        with platform.unit_of_work() as winner:
            users.update_user(
                winner, Actor.system(), user.id, {"display_name": "W"}, lock_version=1
            )
            winner.commit()
        with pytest.raises(StaleVersion):
            write(loser, target)
    with platform.unit_of_work(write=False) as uow:
        row = uow.session.get(User, user.id)
        assert row is not None
        assert (row.display_name, row.lock_version) == ("W", 2)


def test_an_update_alone_is_one_statement_with_the_lock_checked_and_leaves_nothing_to_flush(
    platform: Platform,
) -> None:
    user = make_user(platform, "lena")
    with platform.unit_of_work() as uow:
        row = uow.session.get(User, user.id)
        assert row is not None
        later = uow.now + timedelta(hours=1)
        with count_queries(platform.engine) as sent:
            uow.update(row, {"display_name": "莉娜", "skills": ["电话"], "updated_at": later})
            assert row.lock_version == 2
            assert not uow.session.dirty
            uow.commit()
        assert len(sent) == 1
        assert sent[0].lstrip().startswith("UPDATE users SET")
        assert "lock_version" in sent[0].split("WHERE", 1)[1]
    with platform.unit_of_work(write=False) as uow:
        again = uow.session.get(User, user.id)
        assert again is not None
        assert (again.display_name, again.skills, again.lock_version) == ("莉娜", ["电话"], 2)
        assert again.updated_at == later


def test_an_update_that_changes_nothing_writes_nothing(platform: Platform) -> None:
    user = make_user(platform, "mia")
    with platform.unit_of_work() as uow:
        row = uow.session.get(User, user.id)
        assert row is not None
        with count_queries(platform.engine) as sent:
            uow.update(row, {"display_name": row.display_name, "skills": list(row.skills)})
            uow.commit()
        assert sent == []
        assert row.lock_version == 1


def test_an_update_that_breaks_a_constraint_is_a_conflict(platform: Platform) -> None:
    make_user(platform, "olga")
    user = make_user(platform, "pia")
    with platform.unit_of_work() as uow:
        row = uow.session.get(User, user.id)
        assert row is not None
        with pytest.raises(Conflict):
            uow.update(row, {"username": "olga"})


def test_an_update_beside_other_pending_changes_is_flushed_with_them(platform: Platform) -> None:
    first, second = make_user(platform, "quin"), make_user(platform, "rita")
    with platform.unit_of_work() as uow:
        one, other = uow.session.get(User, first.id), uow.session.get(User, second.id)
        assert one is not None
        assert other is not None
        other.display_name = "Rita R."
        with count_queries(platform.engine) as sent:
            uow.update(one, {"display_name": "Quin Q."})
            assert len(sent) == 2
            assert not uow.session.dirty
        assert (one.lock_version, other.lock_version) == (2, 2)
        fresh = User(username="sara", display_name="Sara", created_at=uow.now, updated_at=uow.now)
        uow.session.add(fresh)
        with count_queries(platform.engine) as sent:
            uow.update(fresh, {"display_name": "Sara S."})  # a new row takes it in its insert
            assert sent == []
            uow.commit()
        assert len(sent) == 1
        assert sent[0].lstrip().startswith("INSERT INTO users")
    with platform.unit_of_work(write=False) as uow:
        names = {u.username: u.display_name for u in uow.session.query(User)}
        assert (names["quin"], names["rita"], names["sara"]) == ("Quin Q.", "Rita R.", "Sara S.")


def test_a_read_unit_writes_nothing_and_keeps_the_statements_its_connection_prepared(
    platform: Platform,
) -> None:
    """A read unit's writes never reach the database: on PostgreSQL its transaction is READ ONLY
    (the write fails at once); it ends with COMMIT, after which the connection still holds the
    statements psycopg prepared (a ROLLBACK would deallocate them all, and every statement would
    be parsed and planned again). On SQLite its transaction is rolled back."""
    with platform.unit_of_work(write=False) as uow:
        if uow.dialect == "postgresql":
            with pytest.raises(DBAPIError, match="read-only transaction"):
                uow.session.execute(text("UPDATE roles SET name = 'changed'"))
        else:
            uow.session.execute(text("UPDATE roles SET name = 'changed'"))
    with platform.unit_of_work(write=False) as uow:
        names = uow.session.execute(text("SELECT name FROM roles")).scalars().all()
        assert "changed" not in names
        driver = uow.session.connection().connection.driver_connection
        for _ in range(6):  # psycopg prepares a statement at its fifth run on a connection
            uow.session.execute(text("SELECT name FROM roles WHERE key = :key"), {"key": "admin"})
    if uow.dialect == "postgresql":
        with driver.cursor() as cursor:  # the connection is back in the pool, its unit ended
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            prepared = cursor.fetchone()
        driver.commit()
        assert prepared is not None
        assert prepared[0] >= 1
    else:
        assert uow.read_only is False


def test_uncommitted_unit_of_work_changes_nothing(platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        users.create_user(uow, Actor.system(), username="ghost", password="long-enough-1")
    with platform.unit_of_work(write=False) as uow:
        assert users.find_user(uow, "ghost") is None


def test_what_a_rehearsal_writes_is_forgotten_by_the_objects_too(platform: Platform) -> None:
    """A rehearsal's savepoint is rolled back: the objects it updated are read afresh
    afterwards, and those it inserted leave the session, so that a second rehearsal starts from
    what the database holds (and may be handed the same new ids)."""
    user = make_user(platform, "uma")
    with platform.unit_of_work() as uow:
        row = uow.session.get(User, user.id)
        assert row is not None
        for attempt in ("一", "二"):
            with uow.rehearsal():
                uow.update(row, {"display_name": f"试{attempt}"})
                job = jobs.enqueue(uow, "rehearsed", {"attempt": attempt})
                assert row.display_name == f"试{attempt}"
            assert (row.display_name, row.lock_version) == ("uma", 1)
            assert job not in uow.session
            assert uow.session.scalar(select(func.count()).select_from(Job)) == 0
        uow.update(row, {"display_name": "Uma"})
        uow.commit()
    with platform.unit_of_work(write=False) as uow:
        again = uow.session.get(User, user.id)
        assert again is not None
        assert (again.display_name, again.lock_version) == ("Uma", 2)
