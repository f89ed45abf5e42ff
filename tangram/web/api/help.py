"""Public help centers (no sign-in): the articles a form's ``help`` block publishes, searched
and browsed by facets, suggested on intake pages, and "did this solve your problem?" (see
:mod:`tangram.platform.public.help`); the service team reads what visitors answered."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates

from tangram.platform.public import help as centers
from tangram.web.api.common import StrictSchema
from tangram.web.api.records import LangArgs, lang_of
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, public, remote_addr, require_actor

PREFIX = ""
blp = Blueprint("help", __name__, description="Public help centers (no sign-in)")


class OptionCountSchema(Schema):
    """An option of a facet and how many shown articles hold it."""

    value = fields.String(required=True)
    label = fields.String(required=True)
    count = fields.Integer(required=True)


class FacetSchema(Schema):
    """A select field the articles are browsed by."""

    key = fields.String(required=True)
    label = fields.String(required=True)
    options = fields.List(fields.Nested(OptionCountSchema), required=True)


class CenterSchema(Schema):
    """One help center: a form's published articles."""

    form = fields.String(required=True)
    label = fields.String(required=True, metadata={"description": "the form's title"})
    total = fields.Integer(required=True, metadata={"description": "shown articles"})
    facets = fields.List(fields.Nested(FacetSchema), required=True)


class CentersSchema(Schema):
    """An app's help centers."""

    app = fields.String(required=True)
    name = fields.String(required=True, metadata={"description": "the app's name"})
    centers = fields.List(fields.Nested(CenterSchema), required=True)


class FacetValueSchema(Schema):
    """An article's option of a facet."""

    key = fields.String(required=True)
    value = fields.String(required=True)
    label = fields.String(allow_none=True, required=True)


class ArticleItemSchema(Schema):
    """An article in a list or a suggestion."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    summary = fields.String(
        required=True,
        metadata={
            "description": "plain text: the summary field (else the body) around the "
            "first word asked for"
        },
    )
    highlights = fields.List(
        fields.List(fields.Integer()),
        required=True,
        metadata={"description": "[start, end) offsets of the words asked for in `summary`"},
    )
    facets = fields.List(fields.Nested(FacetValueSchema), required=True)
    updated_at = fields.DateTime(required=True)


class ArticlePageSchema(Schema):
    """A page of articles, with the facets' counts under the same query."""

    query = fields.String(required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    size = fields.Integer(required=True)
    items = fields.List(fields.Nested(ArticleItemSchema), required=True)
    facets = fields.List(fields.Nested(FacetSchema), required=True)


class ArticleSchema(ArticleItemSchema):
    """One article."""

    body = fields.String(
        required=True,
        metadata={
            "description": "the article: safe HTML when `body_format` is `html`, else plain text"
        },
    )
    body_format = fields.String(required=True, validate=validate.OneOf(["html", "text"]))
    solved = fields.Integer(
        required=True, metadata={"description": "visitors who said it solved their problem"}
    )
    related = fields.List(
        fields.Nested(ArticleItemSchema),
        required=True,
        metadata={"description": "newest articles with the same facets"},
    )


class ArticleArgs(LangArgs):
    """The search box, the facets chosen and the page."""

    q = fields.String(load_default="", validate=validate.Length(max=centers.MAX_QUERY))
    facet = fields.List(
        fields.String(validate=validate.Length(max=200)),
        load_default=list,
        metadata={"description": "`field:value`, once per facet (repeat the parameter)"},
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    size = fields.Integer(
        load_default=centers.PAGE_SIZE, validate=validate.Range(min=1, max=centers.MAX_PAGE_SIZE)
    )

    @validates("facet")
    def _pairs(self, value: list[str], **_: Any) -> None:
        keys = []
        for pair in value:
            key, sep, chosen = pair.partition(":")
            if not sep or not key or not chosen:
                raise ValidationError(f"{pair!r}: write field:value")
            keys.append(key)
        if len(set(keys)) != len(keys):
            raise ValidationError("one value per facet")


class SuggestArgs(LangArgs):
    """What the visitor typed."""

    q = fields.String(required=True, validate=validate.Length(max=centers.MAX_SUGGEST_TEXT))


class FeedbackSchema(StrictSchema):
    """Whether the article solved the visitor's problem, and where they said so."""

    solved = fields.Boolean(required=True)
    via = fields.String(
        load_default="article",
        validate=validate.OneOf(centers.VIA),
        metadata={"description": "`article` (its page) or `intake` (suggested on an intake page)"},
    )


class FeedbackCountsSchema(Schema):
    """What visitors answered on an article."""

    solved = fields.Integer(required=True)
    not_solved = fields.Integer(required=True)
    deflected = fields.Integer(
        required=True,
        metadata={"description": "of the solved: answered on an intake page (no ticket needed)"},
    )


class FeedbackItemSchema(FeedbackCountsSchema):
    """An article with answers."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)


class FeedbackSummarySchema(FeedbackCountsSchema):
    """Every article with answers, most solved first, and the totals."""

    form = fields.String(required=True)
    label = fields.String(required=True)
    items = fields.List(fields.Nested(FeedbackItemSchema), required=True)


@blp.route("/help/<string:app>")
@public
class Centers(MethodView):
    """An app's help centers."""

    @blp.arguments(LangArgs, location="query")
    @blp.response(200, CentersSchema)
    def get(self, _args: dict[str, Any], app: str) -> dict[str, Any]:
        """The app's help centers with their facets; 404 `help.not_found` when it has none."""
        with platform().unit_of_work(write=False) as uow:
            return centers.centers(uow, app, lang=lang_of())


@blp.route("/help/<string:app>/<string:form>/articles")
@public
class Articles(MethodView):
    """A help center's articles."""

    @blp.arguments(ArticleArgs, location="query")
    @blp.response(200, ArticlePageSchema)
    def get(self, args: dict[str, Any], app: str, form: str) -> dict[str, Any]:
        """A page of articles: every word of `q` in a shown field (titles holding them first),
        else the newest first; 422 for a facet the center does not have."""
        chosen = dict(pair.partition(":")[::2] for pair in args["facet"])
        with platform().unit_of_work(write=False) as uow:
            return centers.articles(
                uow,
                app,
                form,
                query=args["q"],
                facets=chosen,
                page=args["page"],
                size=args["size"],
                lang=lang_of(),
            )


@blp.route("/help/<string:app>/<string:form>/articles/<int:record_id>")
@public
class Article(MethodView):
    """One article."""

    @blp.arguments(LangArgs, location="query")
    @blp.response(200, ArticleSchema)
    def get(self, _args: dict[str, Any], app: str, form: str, record_id: int) -> dict[str, Any]:
        """The article; 404 `help.not_found` for a record the center does not show."""
        with platform().unit_of_work(write=False) as uow:
            return centers.article(uow, app, form, record_id, lang=lang_of())


@blp.route("/help/<string:app>/<string:form>/articles/<int:record_id>/feedback")
@public
class Feedback(MethodView):
    """Did this solve your problem?"""

    @blp.arguments(FeedbackSchema)
    @blp.response(200, FeedbackCountsSchema)
    def post(self, body: dict[str, Any], app: str, form: str, record_id: int) -> dict[str, int]:
        """Count the answer (a visitor's second answer of the day on the article replaces the
        first); 429 when this address answered too often."""
        with platform().unit_of_work() as uow:
            counts = centers.feedback(
                uow,
                app,
                form,
                record_id,
                solved=body["solved"],
                via=body["via"],
                remote_addr=remote_addr(),
            )
            uow.commit()
        return counts


@blp.route("/help/<string:app>/<string:form>/suggestions")
@public
class Suggestions(MethodView):
    """Deflection: articles for what a visitor types on an intake page."""

    @blp.arguments(SuggestArgs, location="query")
    @blp.response(200, ArticleItemSchema(many=True))
    def get(self, args: dict[str, Any], app: str, form: str) -> list[dict[str, Any]]:
        """The articles sharing the most words with `q`, strongest first (at most five; none
        when nothing shares enough)."""
        with platform().unit_of_work(write=False) as uow:
            return centers.suggestions(uow, app, form, args["q"], lang=lang_of())


@blp.route("/apps/<string:app>/help/<string:form>/feedback")
class FeedbackSummary(MethodView):
    """What visitors answered (for the service team)."""

    @blp.arguments(LangArgs, location="query")
    @blp.response(200, FeedbackSummarySchema)
    def get(self, _args: dict[str, Any], app: str, form: str) -> dict[str, Any]:
        """Every article with answers and the totals; 404 unless the caller may read the form."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return centers.feedback_summary(uow, actor, app, form, lang=lang_of())
