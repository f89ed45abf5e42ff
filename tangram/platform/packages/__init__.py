"""App packages: read safely, install or upgrade (or plan it), export, roll back and uninstall."""

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
from tangram.platform.packages.uninstaller import (
    Uninstall,
    sweep_files,
    uninstall,
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
    "Uninstall",
    "export",
    "install",
    "pack",
    "parse",
    "read",
    "refuse",
    "rollback",
    "sweep_files",
    "uninstall",
    "zip_entries",
]
