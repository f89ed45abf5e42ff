"""JavaScript value semantics that JsonLogic inherits: truthiness, coercions, equality, ordering.

The reference implementation (json-logic-js) leans on JavaScript operators; these functions give
Python the same answers for JSON values (None, bool, int, float, str, list, dict).
"""

from __future__ import annotations

import math
import re
from typing import Any

NAN = float("nan")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$")
_FLOAT_PREFIX = re.compile(r"^[+-]?(?:Infinity|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_WHITESPACE = " \t\n\r\v\f\u00a0\ufeff\u2028\u2029"
MAX_SAFE = 2**53


def truthy(value: Any) -> bool:
    """JsonLogic truthiness: JavaScript's, except that an empty array is false."""
    if value is None or value is False:
        return False
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str | list):
        return len(value) > 0
    return True


def number(value: Any) -> float | int:
    """JavaScript ``ToNumber`` (``Number(x)``)."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip(_WHITESPACE)
        if not text:
            return 0
        if text in {"Infinity", "+Infinity"}:
            return math.inf
        if text == "-Infinity":
            return -math.inf
        lowered = text.lower()
        try:
            if lowered.startswith(("0x", "0o", "0b")):
                return int(text, 0)
        except ValueError:
            return NAN
        if _NUMBER.match(text):
            result = float(text)
            return int(result) if result.is_integer() and abs(result) < MAX_SAFE else result
        return NAN
    if isinstance(value, list):
        return number(string(value))
    return NAN


def parse_float(value: Any) -> float | int:
    """JavaScript ``parseFloat``: the longest numeric prefix of the value's string form."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = string(value).lstrip(_WHITESPACE)
    match = _FLOAT_PREFIX.match(text)
    if not match:
        return NAN
    token = match.group(0)
    if token.lstrip("+-") == "Infinity":
        return -math.inf if token.startswith("-") else math.inf
    result = float(token)
    return int(result) if result.is_integer() and abs(result) < MAX_SAFE else result


def tidy(value: float | int) -> float | int:
    """Give integral results as ``int`` (JSON ``3``, not ``3.0``) while they are exact."""
    if isinstance(value, float) and value.is_integer() and abs(value) < MAX_SAFE:
        return int(value)
    return value


def string(value: Any) -> str:
    """JavaScript ``String(x)``."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_string(value)
    if isinstance(value, list):
        return ",".join("" if item is None else string(item) for item in value)
    return "[object Object]"


def _number_string(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        text = f"{mantissa.removesuffix('.0')}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
    return text


def _primitive(value: Any) -> Any:
    """JavaScript ``ToPrimitive`` for JSON values: arrays and objects become strings."""
    if isinstance(value, list | dict):
        return string(value)
    return value


def loose_equal(a: Any, b: Any) -> bool:
    """JavaScript ``==``."""
    if a is None or b is None:
        return a is None and b is None
    a_obj, b_obj = isinstance(a, list | dict), isinstance(b, list | dict)
    if a_obj and b_obj:
        return a is b
    if a_obj:
        a = _primitive(a)
    if b_obj:
        b = _primitive(b)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, bool) and isinstance(b, bool):
        return a == b
    x, y = number(a), number(b)
    return x == y


def strict_equal(a: Any, b: Any) -> bool:
    """JavaScript ``===``: same type and value; arrays and objects only equal themselves."""
    if isinstance(a, list | dict) or isinstance(b, list | dict):
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def less_than(a: Any, b: Any) -> bool:
    """JavaScript ``a < b`` (strings compare by code unit; anything else as numbers)."""
    a, b = _primitive(a), _primitive(b)
    if isinstance(a, str) and isinstance(b, str):
        return a.encode("utf-16-be") < b.encode("utf-16-be")
    x, y = number(a), number(b)
    return x < y


def less_or_equal(a: Any, b: Any) -> bool:
    """JavaScript ``a <= b`` (false whenever either side is NaN)."""
    a, b = _primitive(a), _primitive(b)
    if isinstance(a, str) and isinstance(b, str):
        return a.encode("utf-16-be") <= b.encode("utf-16-be")
    x, y = number(a), number(b)
    return x <= y


def js_remainder(a: float | int, b: float | int) -> float | int:
    """JavaScript ``%``: the sign follows the dividend."""
    if b == 0 or math.isnan(a) or math.isnan(b) or math.isinf(a):
        return NAN
    if math.isinf(b):
        return a
    if isinstance(a, int) and isinstance(b, int):
        result = abs(a) % abs(b)
        return -result if a < 0 else result
    return tidy(math.fmod(a, b))


def js_divide(a: float | int, b: float | int) -> float | int:
    """JavaScript ``/`` (division by zero gives ±Infinity or NaN, never an exception)."""
    if b == 0:
        if a == 0 or math.isnan(a):
            return NAN
        negative = (a < 0) != (math.copysign(1, b) < 0)
        return -math.inf if negative else math.inf
    return tidy(a / b)


def js_substr(text: str, start: Any, length: Any = None) -> str:
    """JavaScript ``String.prototype.substr``."""
    size = len(text)
    begin = _integer(start)
    if begin < 0:
        begin = max(size + begin, 0)
    begin = min(begin, size)
    if length is None:
        return text[begin:]
    count = _integer(length)
    if count <= 0:
        return ""
    return text[begin : begin + count]


def _integer(value: Any) -> int:
    n = number(value)
    if isinstance(n, float):
        if math.isnan(n):
            return 0
        if math.isinf(n):
            return MAX_SAFE if n > 0 else -MAX_SAFE
        return int(n)
    return n


_NUMBERS = (int, float)


def add(*values: Any) -> float | int:
    """JsonLogic ``+``: the sum of ``parseFloat`` of every argument (0 for none)."""
    total: float | int = 0
    for value in values:
        total += value if type(value) in _NUMBERS else parse_float(value)
    return tidy(total)


def subtract(*values: Any) -> float | int:
    """JsonLogic ``-``: ``a - b``, or ``-a`` with one argument."""
    if len(values) < 2:
        only: Any = values[0] if values else None
        return tidy(-(only if type(only) in _NUMBERS else number(only)))
    a, b = values[0], values[1]
    if type(a) in _NUMBERS and type(b) in _NUMBERS:
        return tidy(a - b)
    return tidy(number(a) - number(b))


def multiply(*values: Any) -> Any:
    """JsonLogic ``*``: the product of ``parseFloat`` of the arguments (one argument: itself)."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    product = parse_float(values[0])
    for value in values[1:]:
        product *= value if type(value) in _NUMBERS else parse_float(value)
    return tidy(product)


def divide(*values: Any) -> float | int:
    """JsonLogic ``/`` (JavaScript division)."""
    a = values[0] if values else None
    b = values[1] if len(values) > 1 else None
    return js_divide(number(a), number(b))


def remainder(*values: Any) -> float | int:
    """JsonLogic ``%`` (JavaScript remainder)."""
    a = values[0] if values else None
    b = values[1] if len(values) > 1 else None
    return js_remainder(number(a), number(b))
