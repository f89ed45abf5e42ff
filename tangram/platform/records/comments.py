"""Comments on records: people discuss a record beside its data, and mention colleagues, who are
notified in their own language.

Who may comment: whoever may read the record. A comment changes none of the record's fields, so
the update grant would be the wrong gate: approvers, managers and engineers who only read a ticket
are exactly the people asked for an opinion on it. (Flow comments are another thing: they belong
to a running instance, and its participants write them through their tasks.) Records one may not
read do not exist for them, so reading or commenting on one answers 404, as the records API does.

Mentions are user ids chosen by the author (the browser picks them from the app's people search),
not names parsed from the text: user names may hold ``.``, ``@`` and ``-``, so ``@qe_a.`` cannot
be read unambiguously, and an id still names the same person after a rename. Every mentioned
user must be active and able to read the record; otherwise nothing is written and the 422 names
each of them, so that a comment never shows a record to someone who may not see it (the author,
who may read it, learns only that a colleague may not).

One comment is one transaction: the comment row, one ``record.commented`` audit entry on the
record (the audit entries of a record are its timeline, so the entry is both), and an in-app
notification for each mentioned user but the author, whose title is a sentence in that user's
language ("张三 在 售后工单 #12 中提到了你") and whose payload links to the record.

Visibility: a comment is internal unless its author makes it a public reply (公开回复), which the
customer reads on the record's status page; only records of a form with a ``public`` block have a
public side, so elsewhere a public comment is refused. A customer's own reply (through the
status link, :func:`add_customer_reply`) has no author, is public and is marked
``from_customer``; it is plain text (tags and control characters are stripped, not refused: a
customer pasting from a mail client should not be turned away), may carry files uploaded
through the same link, and tells the people working on the record: the holders of its open
tasks, or its owner when nobody holds one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import nh3
from sqlalchemy import Table, insert, select

from tangram.engines.forms.fields import text
from tangram.platform.identity.perms import Action, Actor, check_record, load_actor
from tangram.platform.kernel.errors import PermissionDenied, ValidationFailed
from tangram.platform.kernel.events import Event
from tangram.platform.kernel.models import Attachment, Comment, Record, Task, User
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled
from tangram.platform.outbound import notify
from tangram.platform.records.attachments import describe
from tangram.platform.records.service import get_record

#: The longest comment, in characters (after surrounding white space is removed).
MAX_BODY = 2000
#: The most people one comment may mention.
MAX_MENTIONS = 20
#: Control characters a comment may not hold (tab, line feed and carriage return it may).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_MESSAGES: dict[str, dict[str, str]] = {
    "comment.empty": {
        "zh-CN": "评论内容不能为空",
        "en": "must not be empty",
    },
    "comment.too_long": {
        "zh-CN": "评论最多 {limit} 个字符（现在 {length} 个）",
        "en": "must be at most {limit} characters long (it is {length})",
    },
    "comment.control": {
        "zh-CN": "不能包含控制字符",
        "en": "must not hold control characters",
    },
    "comment.too_many_mentions": {
        "zh-CN": "一条评论最多提及 {limit} 人",
        "en": "a comment may mention at most {limit} people",
    },
    "comment.unknown_user": {
        "zh-CN": "用户 {id} 不存在",
        "en": "user {id} does not exist",
    },
    "comment.inactive_user": {
        "zh-CN": "{name}（{username}）已停用，不能提及",
        "en": "{name} ({username}) is deactivated and cannot be mentioned",
    },
    "comment.cannot_read": {
        "zh-CN": "{name}（{username}）无权查看这条记录，不能提及",
        "en": "{name} ({username}) may not read this record and cannot be mentioned",
    },
    "comment.invalid": {
        "zh-CN": "评论无法发表：{problems}",
        "en": "The comment cannot be posted: {problems}",
    },
    "comment.mentioned": {
        "zh-CN": "{author} 在 {form} #{record} 中提到了你",
        "en": "{author} mentioned you on {form} #{record}",
    },
    "comment.not_public": {
        "zh-CN": "这个表单没有客户可见的一面，不能公开回复",
        "en": "this form has no public side: a public reply is not possible",
    },
    "comment.customer_replied": {
        "zh-CN": "客户回复了 {form} #{record}",
        "en": "The customer replied on {form} #{record}",
    },
    "reply.too_many_files": {
        "zh-CN": "一条回复最多 {limit} 个附件",
        "en": "a reply may carry at most {limit} files",
    },
    "reply.unknown_file": {
        "zh-CN": "附件 {id} 不存在或已被使用",
        "en": "file {id} does not exist or is used already",
    },
    "reply.invalid": {
        "zh-CN": "回复无法发送：{problems}",
        "en": "The reply cannot be sent: {problems}",
    },
}
#: The event a customer's reply publishes (rules with a ``customer_replied`` trigger run on it).
CUSTOMER_REPLIED = "record.customer_replied"
#: The most files one customer reply may carry.
MAX_REPLY_FILES = 10


def _say(code: str, lang: str, **values: Any) -> str:
    """The message ``code`` in ``lang`` (zh-CN unless English), its placeholders filled."""
    table = _MESSAGES[code]
    return table.get(lang, table["zh-CN"]).format(**values)


@dataclass(frozen=True, slots=True)
class Person:
    """A user as a comment shows them."""

    id: int
    username: str
    display_name: str


@dataclass(frozen=True, slots=True)
class Shown:
    """A comment as it is read: its author and the people it mentions, named."""

    id: int
    body: str
    author: Person | None
    mentions: list[Person]
    created_at: datetime
    #: Whether the customer sees it on the status page.
    public: bool = False
    #: Written by the customer through the status link (``author`` is then null).
    from_customer: bool = False
    #: The files it carries (as a file field stores them).
    attachments: list[dict[str, Any]] = field(default_factory=list)


def _people(uow: UnitOfWork, ids: set[int]) -> dict[int, Person]:
    """The users with these ids, named (one query; none for no ids)."""
    if not ids:
        return {}
    rows = uow.session.execute(
        select(User.id, User.username, User.display_name).where(User.id.in_(sorted(ids)))
    )
    return {int(i): Person(int(i), str(u), str(d)) for i, u, d in rows}


def _shown(comments: Sequence[Comment], people: Mapping[int, Person]) -> list[Shown]:
    return [
        Shown(
            id=c.id,
            body=c.body,
            author=people.get(c.author_id) if c.author_id is not None else None,
            mentions=[people[i] for i in c.mentions if i in people],
            created_at=c.created_at,
            public=c.public,
            from_customer=c.from_customer,
            attachments=list(c.attachments),
        )
        for c in comments
    ]


def list_comments(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    record_id: int,
    *,
    after: int = 0,
    limit: int = 100,
) -> list[Shown]:
    """The record's comments, oldest first after the comment ``after`` (keyset paging), with
    their authors and mentioned people named: the record (as the actor may read it), the page
    and the names, whatever the page holds."""
    get_record(uow, actor, app_key, form_key, record_id)
    comments = list(
        uow.session.scalars(
            select(Comment)
            .where(Comment.record_id == record_id, Comment.id > after)
            .order_by(Comment.id)
            .limit(limit)
        )
    )
    ids = {c.author_id for c in comments if c.author_id is not None}
    ids.update(int(i) for c in comments for i in c.mentions)
    return _shown(comments, _people(uow, ids))


def _body_problems(body: str, lang: str) -> list[dict[str, str]]:
    if not body:
        return [{"path": "body", "message": _say("comment.empty", lang)}]
    problems = []
    if len(body) > MAX_BODY:
        message = _say("comment.too_long", lang, limit=MAX_BODY, length=len(body))
        problems.append({"path": "body", "message": message})
    if _CONTROL.search(body):
        problems.append({"path": "body", "message": _say("comment.control", lang)})
    return problems


def _reaches(uow: UnitOfWork, user: User, app_key: str, record: Record) -> bool:
    """Whether ``user`` may read ``record`` (their grants, scope and groups, as they stand)."""
    try:
        check_record(
            uow.session,
            load_actor(uow.session, user, via="system"),
            Action.READ.value,
            app_key=app_key,
            form_key=record.form_key,
            owner_id=record.owner_id,
            group_id=record.group_id,
        )
    except PermissionDenied:
        return False
    return True


def _mention_problems(
    uow: UnitOfWork, app_key: str, record: Record, mentions: Sequence[int], lang: str
) -> tuple[list[User], list[dict[str, str]]]:
    """The mentioned users, and what stands in the way of each one who cannot be mentioned."""
    if len(mentions) > MAX_MENTIONS:
        message = _say("comment.too_many_mentions", lang, limit=MAX_MENTIONS)
        return [], [{"path": "mentions", "message": message}]
    found = {
        u.id: u for u in uow.session.scalars(select(User).where(User.id.in_(sorted(mentions))))
    }
    users: list[User] = []
    problems = []
    for index, user_id in enumerate(mentions):
        user = found.get(user_id)
        path = f"mentions/{index}"
        if user is None:
            problems.append(
                {"path": path, "message": _say("comment.unknown_user", lang, id=user_id)}
            )
        elif not user.is_active:
            message = _say(
                "comment.inactive_user", lang, name=user.display_name, username=user.username
            )
            problems.append({"path": path, "message": message})
        elif not _reaches(uow, user, app_key, record):
            message = _say(
                "comment.cannot_read", lang, name=user.display_name, username=user.username
            )
            problems.append({"path": path, "message": message})
        else:
            users.append(user)
    return users, problems


_INSERT = insert(cast(Table, Comment.__table__)).returning(Comment.__table__.c.id)


def add_comment(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    record_id: int,
    body: str,
    *,
    mentions: Sequence[int] = (),
    lang: str = "zh-CN",
    public: bool = False,
) -> Shown:
    """Comment on a record the actor may read, mentioning ``mentions`` (user ids; repeats count
    once), in the caller's unit of work: the comment, its ``record.commented`` entry on the
    record's timeline and one notification per mentioned user but the author. An empty or too
    long body, or a mention of someone unknown, deactivated or unable to read the record, writes
    nothing and answers 422 with every problem (messages in ``lang``). ``public``: a public
    reply the customer reads on the status page (only on a form with a ``public`` block)."""
    record = get_record(uow, actor, app_key, form_key, record_id)
    _, form = compiled.form(uow, app_key, form_key)
    cleaned = body.strip()
    wanted = list(dict.fromkeys(mentions))
    problems = _body_problems(cleaned, lang)
    if public and form.public_fields is None:
        problems.append({"path": "public", "message": _say("comment.not_public", lang)})
    mentioned, refused = _mention_problems(uow, app_key, record, wanted, lang)
    problems += refused
    if problems:
        listed = "; ".join(p["message"] for p in problems)
        raise ValidationFailed(
            _say("comment.invalid", lang, problems=listed), code="comment.invalid", errors=problems
        )
    values = {
        "record_id": record.id,
        "author_id": actor.user_id,
        "body": cleaned,
        "mentions": [u.id for u in mentioned],
        "created_at": uow.now,
        "public": public,
        "from_customer": False,
        "attachments": [],
        "remote_addr": None,
    }
    comment_id = int(uow.session.connection().execute(_INSERT, values).scalar_one())
    uow.audit(
        actor.user_id,
        actor.label,
        "record.commented",
        "record",
        record.id,
        {
            "comment": comment_id,
            "text": cleaned,
            "mentions": values["mentions"],
            **({"public": True} if public else {}),
        },
    )
    named = [Person(u.id, u.username, u.display_name) for u in mentioned]
    author = next((p for p in named if p.id == actor.user_id), None)
    if author is None and actor.user_id is not None:
        author = _people(uow, {actor.user_id}).get(actor.user_id)
    for user in mentioned:
        if user.id == actor.user_id:
            continue  # mentioning oneself tells nobody anything
        notify.notify(
            uow,
            user.id,
            kind="mention",
            title=_say(
                "comment.mentioned",
                user.locale,
                author=author.display_name if author else actor.label,
                form=text(form.label, user.locale),
                record=record.id,
            ),
            body=cleaned[:1000],
            payload={
                "app": app_key,
                "form": form_key,
                "record": record.id,
                "comment": comment_id,
                "author": actor.user_id,
            },
        )
    return Shown(
        id=comment_id,
        body=cleaned,
        author=author,
        mentions=named,
        created_at=uow.now,
        public=public,
    )


#: Where a block of HTML ends: a line break in its plain text.
_BLOCK_END = re.compile(r"</(?:p|div|li|tr|h[1-6]|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)


def html_text(body: str) -> str:
    """HTML as plain text: block ends become line breaks (paragraphs stay apart), tags (a
    script's or style's content with them) are removed and entities read."""
    return html.unescape(nh3.clean(_BLOCK_END.sub("\n", body), tags=set()))


def plain_text(body: str) -> str:
    """A customer's text as plain text: tags stripped (a script's or style's content with them),
    entities read, control characters but tab and line breaks removed, surrounding white space
    trimmed."""
    stripped = html.unescape(nh3.clean(body, tags=set()))
    return _CONTROL.sub("", stripped).strip()


def _reply_files(
    uow: UnitOfWork, link_id: int, ids: Sequence[str], lang: str
) -> tuple[list[Attachment], list[dict[str, str]]]:
    """The files a customer reply carries: unused uploads through the same link."""
    if len(ids) > MAX_REPLY_FILES:
        message = _say("reply.too_many_files", lang, limit=MAX_REPLY_FILES)
        return [], [{"path": "attachments", "message": message}]
    wanted = list(dict.fromkeys(ids))
    found = {
        a.id: a for a in uow.session.scalars(select(Attachment).where(Attachment.id.in_(wanted)))
    }
    files, problems = [], []
    for index, file_id in enumerate(wanted):
        a = found.get(file_id)
        if a is None or a.access_link_id != link_id or a.record_id is not None:
            message = _say("reply.unknown_file", lang, id=file_id)
            problems.append({"path": f"attachments/{index}", "message": message})
        else:
            files.append(a)
    return files, problems


def add_customer_reply(
    uow: UnitOfWork,
    record: Record,
    app_key: str,
    body: str,
    *,
    link_id: int,
    attachment_ids: Sequence[str] = (),
    remote_addr: str,
    lang: str = "zh-CN",
) -> Shown:
    """The customer's reply on ``record`` through its access link ``link_id``, in the caller's
    unit of work: the comment (public, from the customer, its text made plain), the files it
    carries linked to the record, a ``record.customer_replied`` entry on the timeline, and a
    notification to each holder of an open task on the record (its owner when there is none).
    An empty or too long text, or a file not uploaded through this link or used already,
    writes nothing and answers 422 ``reply.invalid`` with every problem. Publishes
    :data:`CUSTOMER_REPLIED` for the rules."""
    cleaned = plain_text(body)
    problems = _body_problems(cleaned, lang)
    files, refused = _reply_files(uow, link_id, attachment_ids, lang)
    problems += refused
    if problems:
        listed = "; ".join(p["message"] for p in problems)
        raise ValidationFailed(
            _say("reply.invalid", lang, problems=listed), code="reply.invalid", errors=problems
        )
    for a in files:
        a.record_id = record.id
    described = [describe(a) for a in files]
    values = {
        "record_id": record.id,
        "author_id": None,
        "body": cleaned,
        "mentions": [],
        "created_at": uow.now,
        "public": True,
        "from_customer": True,
        "attachments": described,
        "remote_addr": remote_addr,
    }
    comment_id = int(uow.session.connection().execute(_INSERT, values).scalar_one())
    uow.audit(
        None,
        "customer",
        "record.customer_replied",
        "record",
        record.id,
        {
            "comment": comment_id,
            "text": cleaned,
            "attachments": [{"id": d["id"], "name": d["name"]} for d in described],
            "link": link_id,
        },
    )
    # what rules listen to with a ``customer_replied`` trigger
    uow.publish(
        Event(
            CUSTOMER_REPLIED,
            app_key,
            record.form_key,
            record.id,
            None,
            {"comment": comment_id, "text": cleaned},
        )
    )
    _, form = compiled.form(uow, app_key, record.form_key)
    for user in _working_on(uow, record):
        notify.notify(
            uow,
            user.id,
            kind="customer_reply",
            title=_say(
                "comment.customer_replied",
                user.locale,
                form=text(form.label, user.locale),
                record=record.id,
            ),
            body=cleaned[:1000],
            payload={
                "app": app_key,
                "form": record.form_key,
                "record": record.id,
                "comment": comment_id,
            },
        )
    return Shown(
        id=comment_id,
        body=cleaned,
        author=None,
        mentions=[],
        created_at=uow.now,
        public=True,
        from_customer=True,
        attachments=described,
    )


def _working_on(uow: UnitOfWork, record: Record) -> list[User]:
    """Who hears of a customer's reply: the active holders of the record's open tasks, or its
    owner when nobody holds one."""
    holders = set(
        uow.session.scalars(
            select(Task.assignee_id).where(
                Task.record_id == record.id,
                Task.status == "open",
                Task.assignee_id.is_not(None),
            )
        )
    )
    ids = {int(i) for i in holders if i is not None} or (
        {record.owner_id} if record.owner_id is not None else set()
    )
    if not ids:
        return []
    return list(
        uow.session.scalars(
            select(User).where(User.id.in_(sorted(ids)), User.is_active.is_(True)).order_by(User.id)
        )
    )
