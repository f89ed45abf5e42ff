"""Public pages: what people without an account see and do through a private link (a record's
status page and the customer's replies, surveys)."""

from tangram.platform.public.status import (
    record_upload,
    reply,
    status_download,
    status_view,
    upload_target,
)

__all__ = ["record_upload", "reply", "status_download", "status_view", "upload_target"]
