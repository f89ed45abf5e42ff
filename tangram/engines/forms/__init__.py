"""The form engine: a form definition compiled once into JSON Schema, UI schema and checks.

``compile_form(definition)`` → :class:`Form` with ``json_schema`` (draft 2020-12, the one source of
validation truth for the server and the browser), ``ui_schema(lang)``, ``validate(data, lang=)``,
``compute(data, now=)`` (defaults, serial numbers, formulas), ``restrict`` and ``check_write``
(field permissions).
"""

from tangram.engines.forms.changes import form_changes
from tangram.engines.forms.compiler import FormCatalog, compile_form
from tangram.engines.forms.fields import (
    FILE_TYPES,
    ROW_ID,
    FieldDef,
    FieldType,
    Option,
    map_values,
)
from tangram.engines.forms.form import (
    Computed,
    FieldError,
    Form,
    HelpCenter,
    Permission,
    Suggest,
)
from tangram.engines.forms.projection import Child, Column, ColumnKind, Projection, array_text
from tangram.engines.forms.rows import Merged, changed_rows, merge, position_of, with_row_ids
from tangram.engines.forms.serial import SerialPattern, SerialPatternError

__all__ = [
    "FILE_TYPES",
    "ROW_ID",
    "Child",
    "Column",
    "ColumnKind",
    "Computed",
    "FieldDef",
    "FieldError",
    "FieldType",
    "Form",
    "FormCatalog",
    "HelpCenter",
    "Merged",
    "Option",
    "Permission",
    "Projection",
    "SerialPattern",
    "SerialPatternError",
    "Suggest",
    "array_text",
    "changed_rows",
    "compile_form",
    "form_changes",
    "map_values",
    "merge",
    "position_of",
    "with_row_ids",
]
