"""Surveys: the public page a survey link opens, and the answer (no sign-in; see
:mod:`tangram.platform.public.surveys`). The same survey is reachable through the subject's
status link while it waits for an answer (``/status/{token}/survey``, in :mod:`.status`)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from tangram.platform.public import surveys
from tangram.web.api.intake import PublicFormSchema, SubmissionSchema
from tangram.web.api.records import LangArgs, lang_of
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, public, remote_addr

PREFIX = "/surveys"
blp = Blueprint("surveys", __name__, description="Surveys answered through a private link")


class SurveySchema(PublicFormSchema):
    """What the survey page renders: the survey form's fields (without the link field, which
    the server sets) and the record the survey is about."""

    title = fields.String(required=True, metadata={"description": "the survey form's title"})
    number = fields.String(
        required=True, metadata={"description": "the subject record's serial number, else `#id`"}
    )
    subject_title = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "the subject's title when its form marks that field public"},
    )
    expires_at = fields.DateTime(allow_none=True, required=True)


class AnswerSchema(SubmissionSchema):
    """The customer's answers."""


class ThanksSchema(Schema):
    """What the customer gets back once the answer is written."""

    number = fields.String(required=True, metadata={"description": "the subject's number"})
    form = fields.String(required=True)


@blp.route("/<string:token>")
@public
class Survey(MethodView):
    """A survey link."""

    @blp.arguments(LangArgs, location="query")
    @blp.response(200, SurveySchema)
    def get(self, _args: dict[str, Any], token: str) -> dict[str, Any]:
        """The survey to fill. 404 ``access.not_found`` for any link that opens nothing
        (unknown, forged, expired, its record deleted), alike; 410 ``survey.answered`` once it
        was answered."""
        with platform().unit_of_work(write=False) as uow:
            return surveys.survey_view(uow, token, lang=lang_of())

    @blp.arguments(LangArgs, location="query")
    @blp.arguments(AnswerSchema)
    @blp.response(201, ThanksSchema)
    def post(self, _args: dict[str, Any], body: dict[str, Any], token: str) -> dict[str, Any]:
        """Answer: a record of the survey form linked to the subject, created in one
        transaction with the link marked used (rules on its creation run). 422 lists problems
        by field, nothing written; 429 when this address answered as many surveys in the last
        hour as the intake limit allows (``TANGRAM_INTAKE_MAX_PER_HOUR``); 410
        ``survey.answered`` when it was already answered (of two answers racing, the second);
        404 ``access.not_found`` for any link that opens nothing."""
        p = platform()
        with p.unit_of_work() as uow:
            thanks = surveys.answer(
                uow,
                token,
                body["data"],
                remote_addr=remote_addr(),
                lang=lang_of(),
                max_per_hour=p.settings.intake_max_per_hour,
            )
            uow.commit()
        return thanks
