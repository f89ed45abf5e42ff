"""App packages: read safely, install or upgrade (or plan it), export and roll back."""

from tangram.platform.packages.exporter import (
    PACKED_AT,
    export,
    pack,
    zip_entries,
)
from tangram.platform.packages.installer import (
    Change,
    Progress,
    Report,
    install,
    rollback,
)
from tangram.platform.packages.reader import (
    DOCUMENT_FOLDERS,
    FOLDERS,
    LANGUAGES,
    MAX_ENTRIES,
    MAX_ENTRY_BYTES,
    MAX_TOTAL_BYTES,
    TOP_FILES,
    TOP_FOLDERS,
    Package,
    parse,
    read,
    refuse,
)

__all__ = [
    "DOCUMENT_FOLDERS",
    "FOLDERS",
    "LANGUAGES",
    "MAX_ENTRIES",
    "MAX_ENTRY_BYTES",
    "MAX_TOTAL_BYTES",
    "PACKED_AT",
    "TOP_FILES",
    "TOP_FOLDERS",
    "Change",
    "Package",
    "Progress",
    "Report",
    "export",
    "install",
    "pack",
    "parse",
    "read",
    "refuse",
    "rollback",
    "zip_entries",
]
