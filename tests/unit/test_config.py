"""Settings come from TANGRAM_* variables with typed parsing and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tangram.config import Settings, SettingsError


def test_settings_default_to_embedded_sqlite_when_environment_is_empty() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///instance/tangram.db"
    assert settings.embedded_worker is True


def test_settings_parse_types_when_variables_are_set() -> None:
    settings = Settings.from_env(
        {
            "TANGRAM_DATABASE_URL": "postgresql+psycopg://db/tangram",
            "TANGRAM_MAX_REQUEST_BYTES": "1024",
            "TANGRAM_EMBEDDED_WORKER": "off",
            "TANGRAM_WORKER_POLL_SECONDS": "0.5",
        }
    )
    assert settings.database_url == "postgresql+psycopg://db/tangram"
    assert settings.max_request_bytes == 1024
    assert settings.embedded_worker is False
    assert settings.worker_poll_seconds == 0.5


def test_instance_path_moves_the_default_database_when_no_url_is_given() -> None:
    settings = Settings.from_env({"TANGRAM_INSTANCE_PATH": "/srv/tangram"})
    assert settings.database_url == "sqlite:///" + str(Path("/srv/tangram") / "tangram.db")


def test_bad_value_is_refused_with_the_variable_name() -> None:
    with pytest.raises(SettingsError, match="TANGRAM_MAX_REQUEST_BYTES"):
        Settings.from_env({"TANGRAM_MAX_REQUEST_BYTES": "lots"})
    with pytest.raises(SettingsError, match="TANGRAM_SECURE_COOKIES"):
        Settings.from_env({"TANGRAM_SECURE_COOKIES": "maybe"})


def test_secret_key_is_generated_once_and_kept_when_not_configured(tmp_path: Path) -> None:
    first = Settings(instance_path=tmp_path).with_secret()
    second = Settings(instance_path=tmp_path).with_secret()
    assert len(first.secret_key) > 40
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_relative_instance_path_is_resolved_once_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}).instance_path == tmp_path / "instance"
    assert Settings(instance_path=Path("data")).instance_path == tmp_path / "data"


def test_a_file_store_that_cannot_work_is_refused_at_start() -> None:
    with pytest.raises(SettingsError, match="TANGRAM_FILE_STORE='disk' is not one of local, s3"):
        Settings.from_env({"TANGRAM_FILE_STORE": "disk"})
    with pytest.raises(SettingsError, match="needs TANGRAM_S3_BUCKET"):
        Settings.from_env({"TANGRAM_FILE_STORE": "s3"})
    settings = Settings.from_env(
        {
            "TANGRAM_FILE_STORE": "s3",
            "TANGRAM_S3_BUCKET": "attachments",
            "TANGRAM_S3_PREFIX": "tangram/",
            "TANGRAM_S3_ENDPOINT_URL": "http://minio.lan:9000",
        }
    )
    assert (settings.file_store, settings.s3_bucket, settings.s3_prefix) == (
        "s3",
        "attachments",
        "tangram/",
    )
