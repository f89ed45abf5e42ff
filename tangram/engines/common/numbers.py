"""Numbers as people read them: the decimal a binary float stands for.

Formulas and report sums compute in binary floating point, where ``0.1 + 0.2`` is
``0.30000000000000004``. A result is settled to the decimal it stands for before anyone sees or
stores it: to 15 significant digits (what every double holds exactly, and what spreadsheets
show), then, where its field or column has a precision, rounded half-up to those places —
so money computed from money with two decimals has two decimals.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

#: Significant decimal digits every double represents exactly (DBL_DIG).
SIGNIFICANT = 15


def settle(value: float, places: int | None = None) -> float:
    """``value`` as the decimal it stands for, rounded half-up to ``places`` when given.

    Non-finite values are returned unchanged (callers decide what they mean).
    """
    if not math.isfinite(value):
        return value
    exact = Decimal(format(value, f".{SIGNIFICANT}g"))
    if places is not None:
        exact = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return float(exact)
