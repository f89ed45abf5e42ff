"""Typed ORM models, one module per aggregate; ``Base.metadata`` is what Alembic migrates."""

from tangram.platform.models.base import Base, JSONDoc, Locked, UTCDateTime
from tangram.platform.models.catalog import App, Definition, DefinitionVersion
from tangram.platform.models.directory import (
    ApiToken,
    Grant,
    Group,
    LoginAttempt,
    Membership,
    Role,
    RoleAssignment,
    Scope,
    User,
)
from tangram.platform.models.runtime import (
    AuditEntry,
    Job,
    JobStatus,
    Notification,
    Record,
    SerialCounter,
)

__all__ = [
    "ApiToken",
    "App",
    "AuditEntry",
    "Base",
    "Definition",
    "DefinitionVersion",
    "Grant",
    "Group",
    "JSONDoc",
    "Job",
    "JobStatus",
    "Locked",
    "LoginAttempt",
    "Membership",
    "Notification",
    "Record",
    "Role",
    "RoleAssignment",
    "Scope",
    "SerialCounter",
    "UTCDateTime",
    "User",
]
