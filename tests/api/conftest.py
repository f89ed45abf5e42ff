"""An S3-compatible service for the API tests: moto's server on a free local port.

The server runs once per test session in a thread, and speaks S3 over HTTP as a real service
would, so the store is tested through boto3's whole stack (signing, retries, streaming), not a
patched client. Each test gets a bucket of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials through boto3's standard variables (moto takes any), and no profile or
    configuration of the machine that could point elsewhere."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "tangram-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "tangram-test-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def s3_bucket(moto_endpoint: str, aws_environment: None) -> str:
    """A new, empty bucket."""
    name = f"tangram-{secrets.token_hex(6)}"
    client = boto3.session.Session(region_name=REGION).client("s3", endpoint_url=moto_endpoint)
    client.create_bucket(Bucket=name)
    return name
