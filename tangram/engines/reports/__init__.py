"""The report engine: dataset definitions compiled to SQLAlchemy Core statements (never run here).

``compile_dataset(definition, sources)`` checks every field, measure and filter against the forms
and returns a :class:`Dataset` whose :meth:`Dataset.query` is one ``select`` over the forms'
projection tables; the platform runs it and caches it, and :mod:`~tangram.engines.reports.widgets`
shapes the result for charts. KPIs
(:mod:`~tangram.engines.reports.kpi`) and periods (:mod:`~tangram.engines.reports.periods`) turn
into datasets too.
"""

from tangram.engines.reports.dataset import (
    MEASURES,
    Dataset,
    JoinLimit,
    Output,
    Source,
    compile_dataset,
)
from tangram.engines.reports.kpi import (
    DIRECTIONS,
    check_kpi,
    expand_kpis,
    kpi_dataset,
    kpi_measure,
    period_field,
    within,
)
from tangram.engines.reports.periods import PRESETS, Period, resolve_period
from tangram.engines.reports.sql import UNITS, Bucket, Percentile, PercentileAggregate, Seconds
from tangram.engines.reports.widgets import (
    ADDITIVE,
    OTHERS,
    TOTAL,
    WIDGETS,
    changes,
    cross_table,
    field_of,
    shape,
    spread,
    widget_problems,
)

__all__ = [
    "ADDITIVE",
    "DIRECTIONS",
    "MEASURES",
    "OTHERS",
    "PRESETS",
    "TOTAL",
    "UNITS",
    "WIDGETS",
    "Bucket",
    "Dataset",
    "JoinLimit",
    "Output",
    "Percentile",
    "PercentileAggregate",
    "Period",
    "Seconds",
    "Source",
    "changes",
    "check_kpi",
    "compile_dataset",
    "cross_table",
    "expand_kpis",
    "field_of",
    "kpi_dataset",
    "kpi_measure",
    "period_field",
    "resolve_period",
    "shape",
    "spread",
    "widget_problems",
    "within",
]
