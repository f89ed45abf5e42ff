"""Apps and their versioned definitions (form, rule, flow, report, dashboard)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tangram.platform.kernel.models.base import Base, Locked


class App(Locked, Base):
    """An installed app: a namespace of definitions and records."""

    __tablename__ = "apps"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    #: ``{"zh-CN": ..., "en": ...}``
    name: Mapped[dict[str, Any]]
    description: Mapped[dict[str, Any]]
    version: Mapped[str] = mapped_column(String(64), default="0.0.0")
    #: The manifest of the package it was installed from (``None`` for apps built by hand).
    manifest: Mapped[dict[str, Any] | None]
    #: The package's UI strings: ``{"zh-CN": {...}, "en": {...}}``.
    i18n: Mapped[dict[str, Any] | None]
    #: A new random tag each time a definition of the app is published: what is cached of its
    #: published definitions is cached under it (a rolled-back publication's tag never returns).
    metadata_tag: Mapped[str] = mapped_column(String(32), server_default="")
    #: An antd icon name (``ToolOutlined``) or an emoji the launcher and the workbench show.
    icon: Mapped[str | None] = mapped_column(String(64))
    #: The IANA time zone the app's people work in.
    time_zone: Mapped[str] = mapped_column(String(64), server_default="Asia/Shanghai")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class AppInstall(Base):
    """One import of a package into an app: what it changed and what was published before it,
    so the metadata can be rolled back."""

    __tablename__ = "app_installs"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    #: install, upgrade, downgrade, reinstall or rollback
    action: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(64))
    previous_version: Mapped[str | None] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]]
    #: ``{kind: {key: version}}`` published before this install (``0``: did not exist).
    before: Mapped[dict[str, Any]]
    #: What the install did, as its report shows it.
    report: Mapped[dict[str, Any]]
    installed_at: Mapped[datetime]
    installed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rolled_back_at: Mapped[datetime | None]


class Definition(Locked, Base):
    """A definition keyed by (app, kind, key): its mutable draft and the number of its latest version."""

    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("app_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    draft: Mapped[dict[str, Any]]
    draft_checksum: Mapped[str] = mapped_column(String(64))
    #: Number of the newest published version; ``None`` until the first publish.
    published_version: Mapped[int | None]
    #: When an administrator archived it (``None``: live): hidden from launchers and exports,
    #: kept for history and the flow instances pinned to its versions.
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class DefinitionVersion(Base):
    """An immutable published version 1, 2, 3… of a definition."""

    __tablename__ = "definition_versions"
    __table_args__ = (UniqueConstraint("definition_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id", ondelete="CASCADE"))
    version: Mapped[int]
    body: Mapped[dict[str, Any]]
    checksum: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
