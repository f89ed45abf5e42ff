"""The `tangram` command against the test database."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tangram.cli import main
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import auth
from tangram.platform.kernel import jobs, migrate
from tangram.platform.kernel.errors import RateLimited, TangramError, Unauthenticated
from tangram.platform.kernel.models import JobStatus
from tests.conftest import make_user, tamper_audit

Invoke = Callable[..., Result]


@pytest.fixture
def run(database_url: str, tmp_path: Path) -> Invoke:
    def invoke(*args: str, **env: str) -> Result:
        environment = {"TANGRAM_DATABASE_URL": database_url, "TANGRAM_INSTANCE_PATH": str(tmp_path)}
        environment.update(env)
        return CliRunner().invoke(main, list(args), env=environment, catch_exceptions=False)

    return invoke


def test_db_upgrade_is_idempotent(run: Invoke) -> None:
    result = run("db", "upgrade")
    assert result.exit_code == 0
    head = migrate.head_revision()
    assert f"already at revision {head}" in result.output
    current = run("db", "current")
    assert f"database: {head}" in current.output


def test_ensure_admin_creates_once_and_keeps_the_password(run: Invoke, platform: Platform) -> None:
    first = run("user", "ensure-admin", TANGRAM_ADMIN_PASSWORD="chosen-password-1")
    assert first.exit_code == 0
    assert "created administrator 'admin' with TANGRAM_ADMIN_PASSWORD" in first.output
    assert "chosen-password-1" not in first.output
    again = run("user", "ensure-admin", TANGRAM_ADMIN_PASSWORD="other-password-2")
    assert "exists; its password is unchanged" in again.output
    with platform.unit_of_work() as uow:
        user = auth.login(
            uow, platform.settings, username="admin", password="chosen-password-1", remote_addr="t"
        )
    assert user.username == "admin"
    with platform.unit_of_work() as uow, pytest.raises(Unauthenticated):
        auth.login(
            uow, platform.settings, username="admin", password="other-password-2", remote_addr="t"
        )


def test_ensure_admin_prints_a_generated_password_once(run: Invoke, platform: Platform) -> None:
    result = run("user", "ensure-admin")
    password = result.output.rsplit(": ", 1)[1].strip()
    assert len(password) >= 16
    with platform.unit_of_work() as uow:
        assert auth.login(
            uow, platform.settings, username="admin", password=password, remote_addr="t"
        )


def test_user_create_refuses_bad_input_with_a_clear_message(run: Invoke) -> None:
    result = run("user", "create", "no spaces allowed", "--password", "long-enough-1")
    assert result.exit_code == 1
    assert "error: The user name is not valid." in result.output
    ok = run("user", "create", "zoe", "--password", "long-enough-1")
    assert "created user zoe" in ok.output
    duplicate = run("user", "create", "zoe", "--password", "long-enough-1")
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output


def test_user_unlock_lifts_the_sign_in_lock_when_the_user_exists(
    run: Invoke, platform: Platform
) -> None:
    make_user(platform, "uma")

    def sign_in(password: str, addr: str) -> None:
        with platform.unit_of_work() as uow:
            auth.login(uow, platform.settings, username="uma", password=password, remote_addr=addr)

    for n in range(platform.settings.login_account_max_failures):
        with pytest.raises(TangramError):
            sign_in("wrong-password", f"10.9.0.{n}")
    with pytest.raises(RateLimited):
        sign_in("user-password-1", "10.9.1.1")
    result = run("user", "unlock", "UMA")
    assert result.exit_code == 0
    assert "lifted the sign-in locks of uma" in result.output
    sign_in("user-password-1", "10.9.1.1")
    missing = run("user", "unlock", "nobody")
    assert missing.exit_code == 1
    assert "does not exist" in missing.output


def test_jobs_run_until_runs_what_is_due_with_that_instant_as_now(
    run: Invoke, platform: Platform
) -> None:
    until = datetime.fromisoformat("2026-11-23T00:00:00+08:00")
    with platform.unit_of_work() as uow:
        early = jobs.enqueue(
            uow, "notify", {"user_id": 0, "title": "x"}, run_at=until - timedelta(hours=2)
        )
        late = jobs.enqueue(
            uow, "notify", {"user_id": 0, "title": "x"}, run_at=until + timedelta(minutes=1)
        )
        uow.commit()
    # user 0 does not exist: the notify handler fails on the foreign key, which proves it ran.
    result = run("jobs", "run", "--until", "2026-11-23T00:00:00+08:00")
    assert result.exit_code == 0
    assert "0 done, 1 to retry, 0 dead" in result.output
    with platform.unit_of_work(write=False) as uow:
        listed = {j.id: j for j in jobs.list_jobs(uow)}
    assert listed[early.id].attempts == 1
    assert listed[early.id].updated_at == until  # the run's "now" was the given instant
    assert listed[late.id].status == JobStatus.PENDING
    assert listed[late.id].attempts == 0


def test_jobs_run_refuses_a_malformed_instant(run: Invoke) -> None:
    result = run("jobs", "run", "--until", "next tuesday")
    assert result.exit_code == 2
    assert "is not an ISO 8601 time" in result.output
    assert "Traceback" not in result.output


def test_jobs_list_and_retry(run: Invoke, platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        job = jobs.enqueue(uow, "unknown.kind", {})
        uow.commit()
    run("jobs", "run")
    listed = run("jobs", "list", "--status", "dead")
    assert "unknown.kind" in listed.output
    assert "no handler" in listed.output
    retried = run("jobs", "retry", str(job.id))
    assert f"job {job.id} queued again" in retried.output
    missing = run("jobs", "retry", "9999")
    assert missing.exit_code == 1
    assert "does not exist" in missing.output


def test_audit_verify_exits_1_naming_the_broken_entry(run: Invoke, platform: Platform) -> None:
    with platform.unit_of_work() as uow:
        for n in range(3):
            uow.audit(None, "test", "thing.changed", "thing", n, {"n": n})
        uow.commit()
    key = {"TANGRAM_SECRET_KEY": platform.settings.secret_key}  # the writers' digests' key
    waiting = run("audit", "verify", "--no-chain", **key)
    assert (waiting.exit_code, waiting.output.strip()) == (
        0,
        "audit log intact: 0 chained entries verified, 3 waiting for the sequencer",
    )
    intact = run("audit", "verify", **key)  # chains the queued entries first
    assert (intact.exit_code, intact.output.strip()) == (
        0,
        "audit log intact: 3 chained entries verified, 0 waiting for the sequencer",
    )
    tamper_audit(platform, """UPDATE audit_log SET payload = '{"n": 7}' WHERE seq = 2""")
    broken = run("audit", "verify", **key)
    assert broken.exit_code == 1
    assert "BROKEN at entry 2" in broken.output
    as_json = run("audit", "verify", "--json", **key)
    assert '"broken_seq": 2' in as_json.output
    other = run("audit", "verify", "--json")  # another key: no digest matches it
    assert '"broken_seq": 1' in other.output


def test_commands_refuse_to_run_on_an_unmigrated_database(tmp_path: Path) -> None:
    env = {"TANGRAM_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = CliRunner().invoke(main, ["audit", "verify"], env=env)
    assert result.exit_code == 1
    assert "run 'tangram db upgrade'" in result.output


def test_bad_setting_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["db", "current"], env={"TANGRAM_MAX_REQUEST_BYTES": "lots"})
    assert result.exit_code == 2
    assert "TANGRAM_MAX_REQUEST_BYTES" in result.output


def test_openapi_prints_the_api_document_without_a_database(tmp_path: Path) -> None:
    output = tmp_path / "openapi.json"
    # a database address that cannot be reached: the document needs none
    env = {"TANGRAM_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    result = CliRunner().invoke(main, ["openapi", "--output", str(output)], env=env)
    assert result.exit_code == 0, result.output
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/apps/{app}/forms/{form}/preview" in document["paths"]
    printed = CliRunner().invoke(main, ["openapi"], env=env)
    assert json.loads(printed.output) == document
