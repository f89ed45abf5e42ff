"""The report engine: dataset definitions compiled to SQLAlchemy Core statements (never run here).

``compile_dataset(definition, sources)`` checks every field, measure and filter against the forms
and returns a :class:`Dataset` whose :meth:`Dataset.query` is one ``select`` over the forms'
projection tables; the platform runs it, caches it and shapes the result for charts.
"""

from tangram.engines.reports.dataset import (
    MEASURES,
    Dataset,
    Output,
    Source,
    compile_dataset,
)
from tangram.engines.reports.sql import UNITS, Bucket, Percentile, PercentileAggregate, Seconds

__all__ = [
    "MEASURES",
    "UNITS",
    "Bucket",
    "Dataset",
    "Output",
    "Percentile",
    "PercentileAggregate",
    "Seconds",
    "Source",
    "compile_dataset",
]
