"""The report engine: dataset definitions compiled to SQLAlchemy Core statements (never run here).

``compile_dataset(definition, sources)`` checks every field, measure and filter against the forms
and returns a :class:`Dataset` whose :meth:`Dataset.query` is one ``select`` over the forms'
projection tables; the platform runs it, caches it and shapes the result for charts. KPIs
(:mod:`~tangram.engines.reports.kpi`) and periods (:mod:`~tangram.engines.reports.periods`) turn
into datasets too.
"""

from tangram.engines.reports.dataset import (
    MEASURES,
    Dataset,
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

__all__ = [
    "DIRECTIONS",
    "MEASURES",
    "PRESETS",
    "UNITS",
    "Bucket",
    "Dataset",
    "Output",
    "Percentile",
    "PercentileAggregate",
    "Period",
    "Seconds",
    "Source",
    "check_kpi",
    "compile_dataset",
    "expand_kpis",
    "kpi_dataset",
    "kpi_measure",
    "period_field",
    "resolve_period",
    "within",
]
