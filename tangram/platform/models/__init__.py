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
    Attachment,
    AuditEntry,
    IntakeLink,
    IntakeSubmission,
    Job,
    JobStatus,
    Notification,
    ProjectionTable,
    Record,
    SerialCounter,
)

__all__ = [
    "ApiToken",
    "App",
    "Attachment",
    "AuditEntry",
    "Base",
    "Definition",
    "DefinitionVersion",
    "Grant",
    "Group",
    "IntakeLink",
    "IntakeSubmission",
    "JSONDoc",
    "Job",
    "JobStatus",
    "Locked",
    "LoginAttempt",
    "Membership",
    "Notification",
    "ProjectionTable",
    "Record",
    "Role",
    "RoleAssignment",
    "Scope",
    "SerialCounter",
    "UTCDateTime",
    "User",
]
