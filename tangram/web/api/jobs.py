"""Background jobs: inspect the queue and requeue dead jobs (administrators)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform.identity.perms import require_admin
from tangram.platform.kernel import jobs
from tangram.platform.kernel.models import Job, JobStatus
from tangram.web.api.common import PageArgs, next_after
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/jobs"
blp = Blueprint("jobs", __name__, description="Durable background jobs")


class JobSchema(Schema):
    """A job."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    payload = fields.Dict(required=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in JobStatus]})
    run_at = fields.DateTime(required=True)
    attempts = fields.Integer(required=True)
    max_attempts = fields.Integer(required=True)
    last_error = fields.String(allow_none=True)
    locked_by = fields.String(allow_none=True)
    locked_until = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)


class JobPageSchema(Schema):
    """One page of jobs."""

    items = fields.List(fields.Nested(JobSchema), required=True)
    next_after = fields.Integer(allow_none=True, required=True)


class JobQuerySchema(PageArgs):
    """Filters of the job list."""

    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in JobStatus]))


@blp.route("")
class Jobs(MethodView):
    """The queue."""

    @blp.arguments(JobQuerySchema, location="query")
    @blp.response(200, JobPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Jobs by id, optionally of one status (e.g. ``dead``)."""
        require_admin(require_actor(), "inspect jobs")
        with platform().unit_of_work(write=False) as uow:
            items = jobs.list_jobs(
                uow, status=args["status"], after=args["after"], limit=args["limit"]
            )
        return {"items": items, "next_after": next_after(list(items), args["limit"])}


@blp.route("/<int:job_id>/retry")
class Retry(MethodView):
    """Requeue a job."""

    @blp.response(200, JobSchema)
    def post(self, job_id: int) -> Job:
        """Put a dead (or finished) job back in the queue, due now, attempts reset."""
        actor = require_actor()
        require_admin(actor, "retry jobs")
        with platform().unit_of_work() as uow:
            job = jobs.retry_job(uow, job_id)
            uow.audit(actor.user_id, actor.label, "job.retried", "job", job_id, {"kind": job.kind})
            uow.commit()
        return job
