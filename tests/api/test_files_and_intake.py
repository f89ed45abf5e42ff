"""Attachments (upload limits, SHA-256 storage, linking, guarded download) and public intake links.

The attachment scenarios run on both file stores: the local folder and an S3 bucket of moto's
server (``tests/api/conftest.py``); what is stored is read back around the store, from the folder
or the bucket itself.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import boto3
import pytest
from flask import Flask
from sqlalchemy import select
from waitress.buffers import ReadOnlyFileBasedBuffer

from tangram.config import Settings
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import users
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.clock import FrozenClock
from tangram.platform.kernel.models import Attachment
from tangram.platform.kernel.s3files import S3FileStore
from tests.api.conftest import REGION
from tests.conftest import CHEAP_PASSWORDS, LASTING_SESSIONS, ApiClient, assert_problem, make_user

RECORDS = "/api/v1/apps/app/records/ticket"
UPLOAD = f"{RECORDS}/attachments"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"x" * 40


def field(key: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": {"zh-CN": key, "en": key}, **extra}


FORM = {
    "key": "ticket",
    "label": {"zh-CN": "工单", "en": "Ticket"},
    "fields": [
        field("no", "serial", serial="SV-{date:%Y%m%d}-{seq:4}"),
        field("title", "text", required=True),
        field("phone", "phone"),
        field("internal", "textarea"),
        field("photo", "attachment", accept=["image/*"], max_size=500),
        field("docs", "attachments", max_files=2),
        field("sign", "signature"),
        field("parts", "sub_table", fields=[field("pic", "attachment", accept=[".png"])]),
    ],
}


#: Both file stores, for the tests that take ``file_store`` by parameter (the others: local).
STORES = pytest.mark.parametrize("file_store", ["local", "s3"], indirect=True)
PREFIX = "files/"


@pytest.fixture
def file_store(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The settings of the file store a test runs on."""
    if getattr(request, "param", "local") == "local":
        return {}
    return {
        "file_store": "s3",
        "s3_bucket": request.getfixturevalue("s3_bucket"),
        "s3_prefix": PREFIX,
        "s3_endpoint_url": request.getfixturevalue("moto_endpoint"),
        "s3_region": REGION,
    }


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_store: dict[str, Any]
) -> Settings:
    # a relative instance folder, as `make run` has it: downloads must find the files all the same
    monkeypatch.chdir(tmp_path)
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key",
        instance_path=Path("instance"),
        embedded_worker=False,
        max_upload_bytes=1000,
        intake_max_per_hour=2,
        **file_store,
        **CHEAP_PASSWORDS,
        **LASTING_SESSIONS,
    )


def stored_files(settings: Settings) -> dict[str, bytes]:
    """Everything the store holds, by digest, read from the folder or the bucket directly; a
    file under any other name (a temporary one, a part) keeps that name and fails comparisons."""
    if settings.file_store == "s3":
        client = boto3.session.Session(region_name=REGION).client(
            "s3", endpoint_url=settings.s3_endpoint_url
        )
        listed = client.list_objects_v2(Bucket=settings.s3_bucket).get("Contents", [])
        return {
            o["Key"].removeprefix(PREFIX): client.get_object(
                Bucket=settings.s3_bucket, Key=o["Key"]
            )["Body"].read()
            for o in listed
        }
    folder = Path(settings.instance_path) / "files"
    found: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")) if folder.exists() else ():
        if path.is_file():
            name = path.relative_to(folder).as_posix()
            digest = path.name
            found[digest if name == f"{digest[:2]}/{digest}" else name] = path.read_bytes()
    return found


@pytest.fixture
def api(admin_client: ApiClient) -> ApiClient:
    admin_client.post("/api/v1/apps", json={"key": "app", "name": {"zh-CN": "应用"}})
    admin_client.post("/api/v1/apps/app/forms", json={"body": FORM})
    assert admin_client.post("/api/v1/apps/app/forms/ticket/publish", json={}).status_code == 201
    return admin_client


def upload(api: ApiClient, content: bytes, name: str, path: str = UPLOAD, **form: str) -> Any:
    return api.post(path, data={"file": (BytesIO(content), name), **form})


@STORES
def test_an_upload_is_stored_by_digest_used_by_a_record_and_downloaded(
    api: ApiClient, settings: Settings
) -> None:
    response = upload(api, PNG, "照片 1.png", field="photo")
    assert response.status_code == 201, response.get_json()
    file = response.get_json()
    digest = hashlib.sha256(PNG).hexdigest()
    assert file | {"id": "x"} == {
        "id": "x",
        "name": "照片 1.png",
        "size": len(PNG),
        "content_type": "image/png",
        "sha256": digest,
    }
    assert stored_files(settings) == {digest: PNG}
    created = api.post(RECORDS, json={"data": {"title": "t", "photo": {"id": file["id"]}}})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["data"]["photo"] == file  # the stored facts, not the client's
    download = api.get(f"/api/v1/apps/app/attachments/{file['id']}")
    assert download.status_code == 200
    assert download.data == PNG
    assert download.headers["Content-Type"] == "image/png"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["ETag"].strip('"') == digest
    assert download.headers["Content-Length"] == str(len(PNG))
    assert download.headers["Content-Disposition"].startswith("inline;")
    assert download.headers["Cache-Control"] == "private, no-cache"
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    download.close()
    # revalidation and ranges, as browsers and players ask (answers the OpenAPI document states)
    path = f"/api/v1/apps/app/attachments/{file['id']}"
    again = api.get(path, headers={"If-None-Match": f'"{digest}"'})
    assert again.status_code == 304
    again.close()
    part = api.get(path, headers={"Range": "bytes=8-15"})
    assert part.status_code == 206
    assert part.data == PNG[8:16]
    assert part.headers["Content-Range"] == f"bytes 8-15/{len(PNG)}"
    part.close()
    beyond = api.get(path, headers={"Range": "bytes=5000-5010"})
    assert beyond.status_code == 416
    beyond.close()
    document = upload(api, PDF, "../../etc/report.pdf").get_json()
    assert document["name"] == "report.pdf"  # directories are stripped from names


@STORES
def test_refused_uploads_say_why_and_leave_nothing_stored(
    api: ApiClient, settings: Settings
) -> None:
    assert_problem(upload(api, b"MZ...", "tool.exe"), 422, "attachment.type_refused")
    assert_problem(upload(api, b"<svg onload=alert(1)>", "x.svg"), 422, "attachment.type_refused")
    assert_problem(upload(api, b"just text", "fake.png"), 422, "attachment.content_mismatch")
    assert_problem(upload(api, b"", "empty.txt"), 422, "attachment.empty")
    assert_problem(upload(api, b"x" * 1001, "big.txt"), 413, "attachment.too_large")
    assert_problem(upload(api, PNG + b"x" * 500, "big.png", field="photo"), 413)
    assert_problem(upload(api, PDF, "doc.pdf", field="photo"), 422, "attachment.type_refused")
    assert_problem(upload(api, PDF, "doc.pdf", field="title"), 422, "attachment.field")
    assert_problem(api.post(UPLOAD, data={}), 422, "attachment.missing")
    assert_problem(api.post(UPLOAD, json={"file": "x"}), 422, "attachment.missing")
    assert stored_files(settings) == {}  # no partial object, no temporary file


@STORES
def test_identical_files_are_stored_once(
    api: ApiClient, settings: Settings, platform: Platform
) -> None:
    sent: list[str] = []
    if isinstance(platform.files, S3FileStore):
        events = platform.files.client.meta.events
        events.register(
            "before-parameter-build.s3.PutObject", lambda **kw: sent.append(kw["params"]["Key"])
        )
    first = upload(api, PNG, "a.png").get_json()
    second = upload(api, PNG, "b.png").get_json()
    assert first["id"] != second["id"]
    assert first["sha256"] == second["sha256"]
    assert stored_files(settings) == {first["sha256"]: PNG}
    if isinstance(platform.files, S3FileStore):
        assert sent == [PREFIX + first["sha256"]]  # the second found its key and sent nothing
    for file in (first, second):
        download = api.get(f"/api/v1/apps/app/attachments/{file['id']}")
        assert download.data == PNG
        download.close()


@STORES
def test_uninstalling_an_app_deletes_its_files_from_the_store(
    api: ApiClient, settings: Settings
) -> None:
    png = upload(api, PNG, "a.png").get_json()
    upload(api, PDF, "b.pdf")
    record = api.post(RECORDS, json={"data": {"title": "t", "photo": {"id": png["id"]}}})
    assert record.status_code == 201
    assert len(stored_files(settings)) == 2
    lock = api.get("/api/v1/apps/app").get_json()["lock_version"]
    assert api.delete(f"/api/v1/apps/app?lock_version={lock}").status_code == 200
    assert stored_files(settings) == {}


def test_an_s3_file_is_sent_by_waitress_from_one_get_and_ranges_start_where_asked(
    s3_bucket: str, moto_endpoint: str
) -> None:
    store = S3FileStore(s3_bucket, prefix=PREFIX, endpoint_url=moto_endpoint, region=REGION)
    content = bytes(range(256)) * 1200  # 300 kB, several socket sends
    digest = hashlib.sha256(content).hexdigest()
    with store.receive() as receiving:
        receiving.write(content)
        receiving.keep(digest)
    gets: list[str] = []
    store.client.meta.events.register(
        "before-parameter-build.s3.GetObject", lambda **kw: gets.append(kw["params"]["Range"])
    )
    stored = store.open(digest)
    assert stored is not None
    assert stored.size == len(content)
    assert not isinstance(stored.source, Path)
    # waitress's file wrapper: read ahead, seek back, then forward by what the socket took
    sending = ReadOnlyFileBasedBuffer(stored.source)
    assert sending.prepare() == len(content)
    sent = bytearray()
    while sending.remain:
        chunk = sending.get(50_000)
        taken = chunk[: 1 + len(sent) % 30_000]
        sent += taken
        sending.skip(len(taken), True)
    assert bytes(sent) == content
    assert gets == ["bytes=0-"]
    stored.source.seek(200_000)  # a range request
    assert stored.source.read(10) == content[200_000:200_010]
    assert gets == ["bytes=0-", "bytes=200000-"]
    stored.source.close()
    assert store.open("0" * 64) is None
    assert store.exists(digest)
    assert store.delete(digest)
    assert not store.delete(digest)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("file_store", ["s3"], indirect=True)
def test_an_unreachable_bucket_answers_503_and_nothing_is_recorded(
    api: ApiClient, settings: Settings, platform: Platform
) -> None:
    png = upload(api, PNG, "kept.png").get_json()
    working = platform.files
    # one try each: the defaults retry with back-off, which only slows the test down
    nowhere = f"http://127.0.0.1:{free_port()}"
    platform.files = S3FileStore(settings.s3_bucket, endpoint_url=nowhere, attempts=1)
    body = assert_problem(upload(api, PDF, "a.pdf"), 503, "files.unavailable")
    assert "127.0.0.1" not in body["detail"]  # where the store is stays in the log
    assert_problem(api.get(f"/api/v1/apps/app/attachments/{png['id']}"), 503, "files.unavailable")
    platform.files = S3FileStore(
        "no-such-bucket", endpoint_url=settings.s3_endpoint_url, region=REGION, attempts=1
    )
    assert_problem(upload(api, PDF, "a.pdf"), 503, "files.unavailable")
    platform.files = working
    assert stored_files(settings) == {png["sha256"]: PNG}
    with platform.unit_of_work(write=False) as uow:
        recorded = uow.session.scalars(select(Attachment.id)).all()
    assert recorded == [png["id"]]  # the failed uploads left no attachment behind


@STORES
def test_records_only_use_files_their_writer_may_use_and_fields_accept(
    api: ApiClient, app: Flask, platform: Platform
) -> None:
    pdf = upload(api, PDF, "a.pdf").get_json()
    png = upload(api, PNG, "b.png").get_json()
    refused = api.post(
        RECORDS,
        json={
            "data": {
                "title": "t",
                "photo": {"id": pdf["id"]},
                "sign": {"id": pdf["id"]},
                "docs": [{"id": "nope"}],
                "parts": [{"pic": {"id": png["id"]}}, {"pic": {"id": pdf["id"]}}],
            }
        },
    )
    body = assert_problem(refused, 422, "record.invalid")
    assert set(body["errors"]) == {"photo", "sign", "docs/0", "parts/1/pic"}
    used = api.post(RECORDS, json={"data": {"title": "t", "parts": [{"pic": {"id": png["id"]}}]}})
    assert used.status_code == 201
    again = api.post(RECORDS, json={"data": {"title": "u", "photo": {"id": png["id"]}}})
    assert set(assert_problem(again, 422)["errors"]) == {"photo"}  # it belongs to a record now

    make_user(platform, "bob")
    bob = ApiClient(app.test_client())
    bob.login("bob", "user-password-1")
    assert_problem(bob.get(f"/api/v1/apps/app/attachments/{pdf['id']}"), 404)
    assert_problem(bob.post(UPLOAD, data={"file": (BytesIO(PNG), "x.png")}), 404)


@STORES
def test_files_of_records_follow_the_records_read_permission(
    api: ApiClient, app: Flask, platform: Platform
) -> None:
    png = upload(api, PNG, "b.png").get_json()
    record = api.post(RECORDS, json={"data": {"title": "t", "photo": {"id": png["id"]}}}).get_json()
    eve_user = make_user(platform, "eve")
    role = api.post("/api/v1/roles", json={"key": "reader", "name": "Reader"}).get_json()
    grant = {"app_key": "app", "actions": ["read"]}
    assert api.post(f"/api/v1/roles/{role['id']}/grants", json=grant).status_code == 201
    assert api.put(f"/api/v1/roles/{role['id']}/members/{eve_user.id}").status_code == 204
    eve = ApiClient(app.test_client())
    eve.login("eve", "user-password-1")
    seen = eve.get(f"/api/v1/apps/app/attachments/{png['id']}")
    assert seen.status_code == 200
    seen.close()
    api.delete(f"{RECORDS}/{record['id']}?lock_version=1")
    assert_problem(eve.get(f"/api/v1/apps/app/attachments/{png['id']}"), 404)


# --- public intake ------------------------------------------------------------------------------


def make_link(api: ApiClient, **overrides: Any) -> dict[str, Any]:
    body = {"form": "ticket", "fields": ["title", "phone", "photo"], "title": {"en": "Report"}}
    response = api.post("/api/v1/apps/app/intake", json=body | overrides)
    assert response.status_code == 201, response.get_json()
    link: dict[str, Any] = response.get_json()
    return link


def test_intake_links_expose_only_chosen_fields_and_need_the_required_ones(
    api: ApiClient, client: ApiClient
) -> None:
    missing = api.post("/api/v1/apps/app/intake", json={"form": "ticket", "fields": ["phone"]})
    body = assert_problem(missing, 422, "intake.invalid")
    assert "required field 'title' must be exposed" in body["errors"]["fields"][0]
    computed = api.post(
        "/api/v1/apps/app/intake", json={"form": "ticket", "fields": ["title", "no"]}
    )
    assert "fields/1" in assert_problem(computed, 422)["errors"]
    link = make_link(api)
    assert link["token"].startswith("tgi_")
    assert link["path"] == f"/intake/{link['token']}"
    assert "token" not in api.get("/api/v1/apps/app/intake").get_json()[0]
    public = client.get(f"/api/v1/intake/{link['token']}?lang=en").get_json()
    assert public["title"] == "Report"
    assert set(public["json_schema"]["properties"]) == {"title", "phone", "photo"}
    assert public["json_schema"]["required"] == ["title"]
    assert public["ui_schema"]["ui:order"] == ["title", "phone", "photo"]
    assert "internal" not in public["ui_schema"]
    assert_problem(client.get("/api/v1/intake/tgi_nothing_here"), 404, "intake.not_found")


@STORES
def test_anonymous_submission_creates_an_owned_audited_record(
    api: ApiClient, client: ApiClient, platform: Platform
) -> None:
    owner = make_user(platform, "desk")
    link = make_link(api, owner_id=owner.id)
    path = f"/api/v1/intake/{link['token']}"
    photo = upload(client, PNG, "p.png", path=f"{path}/attachments", field="photo")
    assert photo.status_code == 201, photo.get_json()
    receipt = client.post(
        path, json={"data": {"title": "漏水", "phone": "+86 138 0000", "photo": photo.get_json()}}
    )
    assert receipt.status_code == 201, receipt.get_json()
    assert receipt.get_json()["serials"] == {"no": "SV-20261122-0001"}
    record = api.get(f"{RECORDS}/{receipt.get_json()['id']}").get_json()
    assert record["owner_id"] == owner.id
    assert record["data"]["photo"]["sha256"] == hashlib.sha256(PNG).hexdigest()
    timeline = api.get(f"{RECORDS}/{record['id']}/timeline").get_json()
    assert timeline[0]["actor"] == f"intake:{link['id']}"
    hidden = client.post(path, json={"data": {"title": "x", "internal": "sneaky"}})
    assert set(assert_problem(hidden, 422, "record.invalid")["errors"]) == {"internal"}
    no_field = upload(client, PNG, "p.png", path=f"{path}/attachments")
    assert_problem(no_field, 422, "attachment.field")


def test_submissions_are_rate_limited_per_address_and_links_can_be_turned_off(
    api: ApiClient, client: ApiClient, clock: FrozenClock
) -> None:
    link = make_link(api)
    path = f"/api/v1/intake/{link['token']}"
    for n in range(2):
        assert client.post(path, json={"data": {"title": f"t{n}"}}).status_code == 201
    limited = client.post(path, json={"data": {"title": "t3"}})
    body = assert_problem(limited, 429, "rate_limited")
    assert body["retry_after"] == 3601
    clock.advance(timedelta(hours=1, seconds=1))
    assert client.post(path, json={"data": {"title": "t4"}}).status_code == 201
    off = api.patch(
        f"/api/v1/apps/app/intake/{link['id']}", json={"enabled": False, "lock_version": 1}
    )
    assert off.status_code == 200
    assert_problem(client.post(path, json={"data": {"title": "t5"}}), 404, "intake.not_found")
    assert_problem(client.get(path), 404, "intake.not_found")


def test_a_visitor_chooses_records_of_an_exposed_reference_by_their_display_value_only(
    api: ApiClient, client: ApiClient
) -> None:
    product = {
        "key": "product",
        "label": {"zh-CN": "产品"},
        "fields": [field("model", "text", required=True), field("cost", "number")],
    }
    order = {
        "key": "order",
        "label": {"zh-CN": "报修"},
        "fields": [
            field("title", "text", required=True),
            field("product", "reference", reference={"form": "product", "display": "model"}),
            field("bare", "reference", reference={"form": "product"}),
            field("owner", "user"),
            field("team", "group"),
        ],
    }
    for body in (product, order):
        assert api.post("/api/v1/apps/app/forms", json={"body": body}).status_code == 201
        published = api.post(f"/api/v1/apps/app/forms/{body['key']}/publish", json={})
        assert published.status_code == 201, published.get_json()
    made = {
        name: api.post(
            "/api/v1/apps/app/records/product", json={"data": {"model": name, "cost": 99}}
        ).get_json()["id"]
        for name in ("洗衣机 W100", "洗衣机 W200", "冰箱 F300")
    }
    for exposed, path in (
        (["title", "owner"], "fields/1"),
        (["title", "team"], "fields/1"),
        (["title", "bare"], "fields/1"),
    ):
        refused = api.post("/api/v1/apps/app/intake", json={"form": "order", "fields": exposed})
        assert path in assert_problem(refused, 422, "intake.invalid")["errors"], exposed
    link = api.post(
        "/api/v1/apps/app/intake", json={"form": "order", "fields": ["title", "product"]}
    ).get_json()
    base = f"/api/v1/intake/{link['token']}/choices"
    every = client.get(f"{base}/product")
    assert every.status_code == 200, every.get_json()
    assert {c["label"] for c in every.get_json()} == set(made)
    assert all(set(c) == {"id", "label"} for c in every.get_json())  # never the cost
    washers = client.get(f"{base}/product?q=洗衣机").get_json()
    assert sorted(c["id"] for c in washers) == sorted([made["洗衣机 W100"], made["洗衣机 W200"]])
    assert client.get(f"{base}/product?q=%25").get_json() == []  # % is a character, not a pattern
    chosen = client.post(
        f"/api/v1/intake/{link['token']}",
        json={"data": {"title": "不脱水", "product": made["洗衣机 W200"]}},
    )
    assert chosen.status_code == 201, chosen.get_json()
    for other in ("title", "bare", "owner", "nothing"):
        assert_problem(client.get(f"{base}/{other}"), 404, "intake.no_lookup")
    assert_problem(client.get(f"{base}/product?q={'x' * 101}"), 422)
    assert_problem(client.get(f"{base}/product?lang=xx"), 422)
    assert_problem(client.get("/api/v1/intake/tgi_forged_x/choices/product"), 404)
    api.patch(f"/api/v1/apps/app/intake/{link['id']}", json={"enabled": False, "lock_version": 1})
    assert_problem(client.get(f"{base}/product"), 404, "intake.not_found")


def test_a_new_token_replaces_a_link_s_old_one_at_once(api: ApiClient, client: ApiClient) -> None:
    link = make_link(api)
    url = f"/api/v1/apps/app/intake/{link['id']}/token"
    stale = api.post(url, json={"lock_version": 2})
    assert_problem(stale, 409)
    renewed = api.post(url, json={"lock_version": 1})
    assert renewed.status_code == 200, renewed.get_json()
    fresh = renewed.get_json()
    assert fresh["token"] != link["token"]
    assert fresh["path"] == f"/intake/{fresh['token']}"
    assert (fresh["id"], fresh["lock_version"]) == (link["id"], 2)
    assert_problem(client.get(f"/api/v1/intake/{link['token']}"), 404, "intake.not_found")
    assert client.get(f"/api/v1/intake/{fresh['token']}").status_code == 200
    assert "token" not in api.get("/api/v1/apps/app/intake").get_json()[0]
    assert_problem(client.post(url, json={"lock_version": 2}), 401)
    assert_problem(api.post("/api/v1/apps/app/intake/999/token", json={"lock_version": 1}), 404)
    assert_problem(api.post(url, json={}), 422)


class Watched:
    """A file store that, while an upload's bytes arrive, notes how many database connections the
    request holds and makes another write: an upload must hold neither a connection nor, on
    SQLite, the write lock (a slow client or a bucket over the network would stall every write)."""

    def __init__(self, inner: Any, platform: Platform) -> None:
        self.inner = inner
        self.platform = platform
        self.held: list[int] = []
        self.wrote: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @contextmanager
    def receive(self) -> Iterator[Any]:
        with self.inner.receive() as upload:
            watcher = self

            class Upload:
                def write(self, chunk: bytes) -> None:
                    watcher.held.append(watcher.platform.engine.pool.checkedout())
                    with watcher.platform.unit_of_work() as uow:  # another request's write
                        name = f"writer{len(watcher.wrote)}"
                        users.create_user(uow, Actor.system("test"), username=name)
                        uow.commit()
                    watcher.wrote.append(name)
                    upload.write(chunk)

                def keep(self, sha256: str) -> None:
                    upload.keep(sha256)

            yield Upload()


@STORES
def test_an_upload_holds_no_database_connection_while_its_bytes_arrive(
    api: ApiClient, client: ApiClient, platform: Platform
) -> None:
    watched = Watched(platform.files, platform)
    platform.files = watched
    response = upload(api, PNG, "照片.png", field="photo")
    assert response.status_code == 201, response.get_json()
    link = make_link(api)
    public = upload(
        client, PNG, "现场.png", f"/api/v1/intake/{link['token']}/attachments", field="photo"
    )
    assert public.status_code == 201, public.get_json()
    assert watched.held == [0, 0]
    assert watched.wrote == ["writer0", "writer1"]
    with platform.unit_of_work(write=False) as uow:
        rows = uow.session.scalars(select(Attachment.name).order_by(Attachment.created_at)).all()
    assert sorted(rows) == ["照片.png", "现场.png"]
