"""Meta-schemas for every metadata kind and the validator that checks definitions against them."""

from tangram.engines.meta.validator import (
    KINDS,
    PACKAGE_DOCUMENTS,
    Kind,
    meta_schema,
    validate_definition,
)

__all__ = ["KINDS", "PACKAGE_DOCUMENTS", "Kind", "meta_schema", "validate_definition"]
