"""Meta-schemas for every metadata kind, the validator that checks definitions against them, and
the finder of what definitions name outside themselves."""

from tangram.engines.meta.references import (
    DEFINITION_KINDS,
    DIRECTORY_KINDS,
    Found,
    Reference,
    app_references,
    references,
)
from tangram.engines.meta.validator import (
    KINDS,
    PACKAGE_DOCUMENTS,
    Kind,
    meta_schema,
    validate_definition,
)

__all__ = [
    "DEFINITION_KINDS",
    "DIRECTORY_KINDS",
    "KINDS",
    "PACKAGE_DOCUMENTS",
    "Found",
    "Kind",
    "Reference",
    "app_references",
    "meta_schema",
    "references",
    "validate_definition",
]
