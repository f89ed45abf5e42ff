"""What full-text search reads of a record: its searchable values as token text, per field.

A document's text, textarea and rich-text fields (tags stripped), serial numbers, e-mail and phone
fields, text formulas, the option labels of select, radio and multi-select fields (every
language, and the option's value) and the text columns of sub-tables (``table.field``) become a
string of tokens separated by spaces. A query becomes tokens the same way, so both sides meet.

Tokens: text is normalised (NFKC, so full-width letters and digits read as ASCII) and lower-cased;
runs of Chinese characters are cut into words by a *segmenter* handed in by the caller (the
platform uses jieba's search mode, which also yields the shorter words inside a long one), and a
document also keeps each Chinese character of its words (a query word is matched as the start of
a document's token, so 屏 finds 黑屏 through the character 屏); every
other run of letters and digits is one token, so a code such as ``SV-20261122-0001`` gives
``sv``, ``20261122`` and ``0001``; punctuation and symbols are dropped. The engine reads no
dictionary itself: the segmenter is a plain function of a string.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tangram.engines.forms.fields import (
    OPTION_TYPES,
    TEXT_TYPES,
    FieldDef,
    FieldType,
)

#: Cuts a run of Chinese characters into words (jieba's ``cut_for_search`` in the platform).
Segmenter = Callable[[str], Iterable[str]]

#: Field types whose value is searched as text.
SEARCHED_TEXT = TEXT_TYPES | {FieldType.SERIAL, FieldType.EMAIL, FieldType.PHONE}
#: The longest token kept (longer runs are cut: a pasted hash or base64 blob is not a word).
MAX_TOKEN = 64
#: The most tokens a query keeps (the rest are ignored).
MAX_QUERY_TOKENS = 12

_TAG = re.compile(r"<[^>]*>")
# A run of letters and digits (no underscore), or of CJK ideographs.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")


def plain(field: FieldDef, value: Any) -> str:
    """A text value as a reader sees it: rich text without its tags, entities read."""
    if not isinstance(value, str):
        return ""
    if field.type is FieldType.RICH_TEXT:
        return " ".join(html.unescape(_TAG.sub(" ", value)).split())
    return value


def tokens(text: str, segment: Segmenter) -> list[str]:
    """The tokens of ``text`` in order of first appearance, each once."""
    seen: dict[str, None] = {}
    normal = unicodedata.normalize("NFKC", text).lower()
    for run in _RUN.findall(normal):
        if _IS_CJK.match(run):
            for word in segment(run):
                word = word.strip()
                if word and _IS_CJK.match(word):
                    seen.setdefault(word[:MAX_TOKEN], None)
        else:
            seen.setdefault(run[:MAX_TOKEN], None)
    return list(seen)


def index_tokens(text: str, segment: Segmenter) -> list[str]:
    """The tokens a record's text is found by: :func:`tokens`, and every Chinese character of a
    longer word on its own, so that a query finds a word by any of its characters (屏 finds 黑屏)
    and a query the segmenter cuts otherwise still meets the document's characters."""
    seen = dict.fromkeys(tokens(text, segment))
    for word in list(seen):
        if len(word) > 1 and _IS_CJK.match(word):
            for character in word:
                if _IS_CJK.match(character):
                    seen.setdefault(character, None)
    return list(seen)


def query_tokens(text: str, segment: Segmenter) -> list[str]:
    """The tokens a search query asks for (at most :data:`MAX_QUERY_TOKENS`)."""
    return tokens(text, segment)[:MAX_QUERY_TOKENS]


def _option_words(field: FieldDef, value: Any) -> list[str]:
    chosen = value if isinstance(value, list) else [value]
    words: list[str] = []
    for option in field.options:
        if option.value in chosen:
            words.append(option.value)
            words.extend(str(label) for label in option.label.values())
    return words


def _texts(field: FieldDef, value: Any) -> list[str]:
    """The words a reader sees in one field's value."""
    if value is None or value == "":
        return []
    if field.type in SEARCHED_TEXT:
        return [plain(field, value)]
    if field.type in OPTION_TYPES:
        return _option_words(field, value)
    if field.type is FieldType.FORMULA and field.result == "text" and isinstance(value, str):
        return [value]
    return []


def searched(field: FieldDef) -> bool:
    """Whether a (top-level or sub-table) field's values are searched."""
    return (
        field.type in SEARCHED_TEXT
        or field.type in OPTION_TYPES
        or (field.type is FieldType.FORMULA and field.result == "text")
    )


def searchable_fields(fields: Iterable[FieldDef]) -> list[str]:
    """The index's field names for a form: searched fields by key, sub-table columns as
    ``table.field``."""
    out: list[str] = []
    for f in fields:
        if f.type is FieldType.SUB_TABLE:
            out.extend(f"{f.key}.{c.key}" for c in f.fields if searched(c))
        elif searched(f):
            out.append(f.key)
    return out


def document_texts(fields: Iterable[FieldDef], data: Mapping[str, Any]) -> dict[str, str]:
    """The readable text of each searched field holding a value (sub-table columns joined over
    the rows), by index field name."""
    out: dict[str, str] = {}
    for f in fields:
        value = data.get(f.key)
        if f.type is FieldType.SUB_TABLE:
            rows = [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []
            for c in f.fields:
                if searched(c):
                    words = [w for r in rows for w in _texts(c, r.get(c.key)) if w]
                    if words:
                        out[f"{f.key}.{c.key}"] = "\n".join(words)
        elif searched(f):
            words = [w for w in _texts(f, value) if w]
            if words:
                out[f.key] = "\n".join(words)
    return out


def document_tokens(
    fields: Iterable[FieldDef], data: Mapping[str, Any], segment: Segmenter
) -> dict[str, str]:
    """Token text (tokens separated by spaces) of each searched field that yields any."""
    out: dict[str, str] = {}
    for name, text in document_texts(fields, data).items():
        found = index_tokens(text, segment)
        if found:
            out[name] = " ".join(found)
    return out


def snippet(text: str, words: Iterable[str], *, width: int = 60) -> tuple[str, list[list[int]]]:
    """A short part of ``text`` around the first of ``words`` it holds (ignoring case and width),
    with the ``[start, end)`` offsets of every word found in that part."""
    flat = " ".join(text.split())
    folded = unicodedata.normalize("NFKC", flat).lower()
    if len(folded) != len(flat):  # normalisation changed lengths: offsets would not fit
        folded = flat.lower()
    wanted = [w for w in words if w]
    first = min((i for w in wanted if (i := folded.find(w)) >= 0), default=-1)
    start = 0 if first < 0 else max(0, first - width // 3)
    end = min(len(flat), start + width)
    part = flat[start:end]
    marks: list[list[int]] = []
    lowered = folded[start:end]
    for w in wanted:
        at = lowered.find(w)
        while at >= 0:
            marks.append([at, at + len(w)])
            at = lowered.find(w, at + len(w))
    marks.sort()
    merged: list[list[int]] = []
    for m in marks:
        if merged and m[0] <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], m[1])
        else:
            merged.append(m)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    shift = len(prefix)
    return prefix + part + suffix, [[a + shift, b + shift] for a, b in merged]
