"""Reports at run time: datasets of published reports, their cache and drill-down; KPI cards,
dashboards and the daily rollups that answer them live beside them in this package."""

from tangram.platform.reports.datasets import (
    Extra,
    Prepared,
    QueryLater,
    Result,
    Sliced,
    cached,
    check,
    compiled_dataset,
    head,
    load,
    prepare,
    preview,
    published_kpis,
    query_now,
    run,
)
from tangram.platform.reports.drill import (
    drill,
    drill_condition,
    point_of,
)
from tangram.platform.reports.sources import Reach, reach, require_app, scope_key

__all__ = [
    "Extra",
    "Prepared",
    "QueryLater",
    "Reach",
    "Result",
    "Sliced",
    "cached",
    "check",
    "compiled_dataset",
    "drill",
    "drill_condition",
    "head",
    "load",
    "point_of",
    "prepare",
    "preview",
    "published_kpis",
    "query_now",
    "reach",
    "require_app",
    "run",
    "scope_key",
]
