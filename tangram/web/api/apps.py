"""Apps: list, create, read, update and uninstall; install, upgrade, export and roll back
packages."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from tangram.platform import metadata, packages
from tangram.platform.kernel.errors import ValidationFailed
from tangram.platform.kernel.models import App
from tangram.platform.outbound import webhooks
from tangram.web.api.common import LOCATION, LockedSchema, StrictSchema, created, new_key
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/apps"
blp = Blueprint("apps", __name__, description="Installed apps")

Text = fields.Dict(keys=fields.String(), values=fields.String())


class AppSchema(Schema):
    """An installed app."""

    id = fields.Integer(required=True)
    key = fields.String(required=True)
    name = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    description = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    version = fields.String(required=True)
    icon = fields.String(
        allow_none=True, required=True, metadata={"description": "antd icon name or emoji"}
    )
    time_zone = fields.String(required=True, metadata={"description": "IANA time zone"})
    lock_version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class AppCreateSchema(StrictSchema):
    """A new, empty app."""

    key = new_key()
    name = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    description = fields.Dict(keys=fields.String(), values=fields.String(), load_default=None)
    version = fields.String(load_default="0.1.0")
    icon = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    time_zone = fields.String(load_default="Asia/Shanghai", validate=validate.Length(max=64))


class AppUpdateSchema(LockedSchema):
    """Changes to an app; only the fields sent change."""

    name = fields.Dict(keys=fields.String(), values=fields.String())
    description = fields.Dict(keys=fields.String(), values=fields.String())
    version = fields.String()
    icon = fields.String(allow_none=True, validate=validate.Length(max=64))
    time_zone = fields.String(validate=validate.Length(max=64))


class UninstallArgs(StrictSchema):
    """How to uninstall."""

    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Count what would go; change nothing."}
    )
    lock_version = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "The app's lock version (required unless dry_run)."},
    )

    @validates_schema
    def _locked(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data["dry_run"] and data.get("lock_version") is None:
            raise ValidationError(
                "give the app's lock_version to uninstall it (a dry run needs none)",
                "lock_version",
            )


class UninstallSchema(Schema):
    """What an uninstall removed (or, in a dry run, would remove), and what blocks it."""

    app = fields.String(required=True)
    version = fields.String(required=True)
    dry_run = fields.Boolean(required=True)
    definitions = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "by kind"},
    )
    versions = fields.Integer(required=True, metadata={"description": "published versions"})
    records = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "by form, deleted ones included"},
    )
    flow_instances = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "by status"},
    )
    open_tasks = fields.Integer(required=True)
    jobs = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "by status"},
    )
    attachments = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "count and bytes"},
    )
    counts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={
            "description": "sla_statuses, intake_links, saved_views, notifications, rollups, "
            "serial_counters, installs"
        },
    )
    projection_tables = fields.List(fields.String(), required=True)
    grants = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "grants on the app removed, by role (the roles stay)"},
    )
    roles_left_without_grants = fields.List(fields.String(), required=True)
    blockers = fields.List(
        fields.Dict(keys=fields.String(), values=fields.String()),
        required=True,
        metadata={"description": "[{path, message}]: why it cannot be uninstalled now"},
    )


@blp.route("")
class Apps(MethodView):
    """All apps the caller can see."""

    @blp.response(200, AppSchema(many=True))
    def get(self) -> list[App]:
        """List the apps the caller holds a grant on (all of them for administrators)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return metadata.list_apps(uow, actor)

    @blp.arguments(AppCreateSchema)
    @blp.response(201, AppSchema, headers=LOCATION)
    def post(self, body: dict[str, Any]) -> tuple[App, dict[str, str]]:
        """Create an empty app (administrators)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            app = metadata.create_app(uow, actor, **body)
            uow.commit()
        return created(app, "apps.AppItem", app=app.key)


@blp.route("/<string:app>")
class AppItem(MethodView):
    """One app."""

    @blp.response(200, AppSchema)
    def get(self, app: str) -> App:
        """Read an app."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return metadata.get_app(uow, actor, app)

    @blp.arguments(AppUpdateSchema)
    @blp.response(200, AppSchema)
    def patch(self, body: dict[str, Any], app: str) -> App:
        """Change an app's name, description or version (designers of the app)."""
        actor = require_actor()
        lock_version = body.pop("lock_version")
        with platform().unit_of_work() as uow:
            found = metadata.update_app(uow, actor, app, body, lock_version=lock_version)
            uow.commit()
        return found

    @blp.arguments(UninstallArgs, location="query")
    @blp.response(200, UninstallSchema)
    def delete(self, args: dict[str, Any], app: str) -> dict[str, Any]:
        """Uninstall an app (administrators): its definitions, records, flow instances and
        tasks, jobs, attachments, saved views and the rest go in one transaction, audited as
        ``app.uninstalled``; users, groups and roles stay. ``dry_run=true`` answers what would
        go and what blocks it, changing nothing; the real run needs ``lock_version`` and answers
        409 ``app.uninstall_blocked`` while another app depends on it or a worker runs one of
        its jobs."""
        actor = require_actor()
        dry_run = bool(args["dry_run"])
        with platform().unit_of_work(write=not dry_run) as uow:
            report = packages.uninstall(
                uow, actor, app, dry_run=dry_run, lock_version=args["lock_version"]
            )
            if not dry_run:
                uow.commit()
        if not dry_run:
            with platform().unit_of_work(write=False) as uow:
                packages.sweep_files(uow, platform().files, report.files)
        return report.as_dict()


# --- packages ----------------------------------------------------------------------------------

PACKAGE_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


class ImportArgs(StrictSchema):
    """How to import."""

    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Check and show the changes; write nothing."}
    )
    force = fields.Boolean(load_default=False, metadata={"description": "Allow a downgrade."})


class PackageChangeSchema(Schema):
    """What an import does to one definition."""

    kind = fields.String(required=True)
    key = fields.String(required=True)
    action = fields.String(
        required=True,
        metadata={"description": "added, changed, unchanged, disabled (rules) or kept"},
    )
    details = fields.List(fields.String(), required=True)
    version = fields.Integer(allow_none=True, required=True)


class PackageReportSchema(Schema):
    """What an import, upgrade or rollback did (or would do, in a dry run)."""

    app = fields.String(required=True)
    action = fields.String(
        required=True,
        metadata={"description": "install, upgrade, downgrade, reinstall or rollback"},
    )
    version = fields.String(required=True)
    previous_version = fields.String(allow_none=True, required=True)
    dry_run = fields.Boolean(required=True)
    changed = fields.Boolean(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    changes = fields.List(fields.Nested(PackageChangeSchema), required=True)
    directory = fields.List(
        fields.String(), required=True, metadata={"description": "groups, roles"}
    )
    data = fields.List(
        fields.String(), required=True, metadata={"description": "what it means for stored data"}
    )


def _package_bytes() -> bytes:
    upload = request.files.get("file")
    if upload is not None:
        data: bytes = upload.stream.read(packages.MAX_TOTAL_BYTES + 1)
    elif request.mimetype in ("application/zip", "application/octet-stream"):
        data = request.get_data(cache=False)
    else:
        raise ValidationFailed(
            "Send the package zip as the multipart/form-data part named 'file' "
            "(or as an application/zip body).",
            code="package.missing",
            errors=[{"path": "file", "message": "is required"}],
        )
    if len(data) > packages.MAX_TOTAL_BYTES:
        raise ValidationFailed(
            "The package is too large.",
            code="package.invalid",
            errors=[{"path": "file", "message": f"larger than {packages.MAX_TOTAL_BYTES} bytes"}],
        )
    return data


@blp.route("/import")
class Import(MethodView):
    """Install or upgrade an app from a package."""

    @blp.doc(**PACKAGE_DOC)
    @blp.arguments(ImportArgs, location="query")
    @blp.response(200, PackageReportSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Check the whole package, then install or upgrade it in one transaction (administrators).

        ``dry_run=true`` returns the per-definition diff and what it means for data without
        writing; a downgrade answers 409 unless ``force=true``; every problem answers 422 with
        its file and path, and nothing is written.
        """
        actor = require_actor()
        package = packages.read(_package_bytes())
        with platform().unit_of_work() as uow:
            report = packages.install(
                uow, actor, package, force=args["force"], dry_run=args["dry_run"]
            )
            if not args["dry_run"]:
                uow.commit()
        return report.as_dict()


@blp.route("/<string:app>/export")
class Export(MethodView):
    """An installed app as a package."""

    @blp.response(200, description="The package zip", content_type="application/zip")
    def get(self, app: str) -> Response:
        """The app's published definitions, roles, groups and UI strings as a package zip that
        imports cleanly elsewhere (administrators)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            data = packages.export(uow, actor, app)
            version = uow.session.scalar(select(App.version).where(App.key == app))
        return Response(
            data,
            mimetype="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{app}-{version}.zip"'},
        )


@blp.route("/<string:app>/rollback")
class Rollback(MethodView):
    """Undo the last upgrade's metadata."""

    @blp.response(200, PackageReportSchema)
    def post(self, app: str) -> Any:
        """Restore the definitions the last upgrade replaced (records and running flow instances
        stay as they are); 409 when there is no upgrade to roll back (administrators)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            report = packages.rollback(uow, actor, app)
            uow.commit()
        return report.as_dict()


class WebhookSecretSchema(Schema):
    """An app's webhook signing secret and how receivers check a delivery."""

    secret = fields.String(required=True)
    signature_header = fields.String(required=True)
    timestamp_header = fields.String(required=True)
    algorithm = fields.String(required=True)


@blp.route("/<string:app>/webhooks/secret")
class WebhookSecret(MethodView):
    """The secret that signs the app's webhook deliveries."""

    @blp.response(200, WebhookSecretSchema)
    def post(self, app: str) -> dict[str, str]:
        """Show the signing secret to give to a receiver (administrators; each time audited as
        ``webhook.secret_shown``)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            shown = webhooks.reveal_secret(uow, actor, app)
            uow.commit()
            return shown
