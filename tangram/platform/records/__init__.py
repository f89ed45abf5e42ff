"""Records: the record service and what serves it — typed projection tables, listing, attachments,
public intake, saved views, exports and the web runtime's navigation."""

from tangram.platform.records.reading import (
    Page,
    list_records,
    overdue,
    sla_of,
    timeline,
    visible,
)
from tangram.platform.records.service import (
    Written,
    create_record,
    delete_record,
    get_record,
    install,
    reindex,
    removed_fields,
    require_scope,
    restore_record,
    shown,
    system_update,
    update_record,
)

__all__ = [
    "Page",
    "Written",
    "create_record",
    "delete_record",
    "get_record",
    "install",
    "list_records",
    "overdue",
    "reindex",
    "removed_fields",
    "require_scope",
    "restore_record",
    "shown",
    "sla_of",
    "system_update",
    "timeline",
    "update_record",
    "visible",
]
