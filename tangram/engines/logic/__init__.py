"""JsonLogic, the platform's one expression language, compiled once into Python callables.

``compile_logic(expression)`` checks an expression completely and returns a callable:
``fn(data)`` evaluates it with the reference semantics of JsonLogic; ``fn(data, context)`` also
serves the platform operations (dates, groups, roles, changed fields, bounded regular
expressions; see :mod:`tangram.engines.logic.extensions` and ``docs/jsonlogic.md``);
``fn.trace(data)`` returns the value of every operator, for "why did this happen".
"""

from tangram.engines.logic.compiler import (
    OPERATIONS,
    CompiledLogic,
    apply_logic,
    compile_logic,
    data_reads,
    referenced_variables,
)
from tangram.engines.logic.context import (
    CONTEXT_VARIABLES,
    DEFAULT_LIMITS,
    BusinessCalendar,
    EvalContext,
    Limits,
    LogicEvaluationError,
    LogicLimitExceeded,
    VariableSpec,
)
from tangram.engines.logic.runtime import TraceStep
from tangram.engines.logic.semantics import truthy

__all__ = [
    "CONTEXT_VARIABLES",
    "DEFAULT_LIMITS",
    "OPERATIONS",
    "BusinessCalendar",
    "CompiledLogic",
    "EvalContext",
    "Limits",
    "LogicEvaluationError",
    "LogicLimitExceeded",
    "TraceStep",
    "VariableSpec",
    "apply_logic",
    "compile_logic",
    "data_reads",
    "referenced_variables",
    "truthy",
]
