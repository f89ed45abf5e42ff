"""Meta-schemas for every metadata kind and the validator that checks definitions against them."""

from tangram.engines.meta.validator import KINDS, Kind, meta_schema, validate_definition

__all__ = ["KINDS", "Kind", "meta_schema", "validate_definition"]
