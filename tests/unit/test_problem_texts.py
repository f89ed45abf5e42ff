"""Every problem code the server answers with has its Chinese sentence."""

from __future__ import annotations

import re
from pathlib import Path

from tangram.web.problem_texts import ZH, sentence

SOURCES = Path(__file__).parents[2] / "tangram"
CODE = re.compile(r'(?:code=|default_code = )"([a-z_.]+)"')
#: Codes of the command line's own errors, printed to a terminal, never answered over HTTP.
COMMAND_LINE = ("backup.", "demo.")


def test_every_code_the_server_answers_with_has_a_chinese_sentence() -> None:
    found = {
        code
        for path in SOURCES.rglob("*.py")
        for code in CODE.findall(path.read_text(encoding="utf-8"))
        if not code.startswith(COMMAND_LINE)
    }
    assert len(found) > 100
    assert sorted(found - set(ZH)) == []


def test_a_sentence_takes_the_problems_values_or_drops_the_clause_that_needs_one() -> None:
    assert sentence("rate_limited", {"retry_after": 30}) == "操作太频繁，请 30 秒后再试"
    assert sentence("rate_limited", {}) == "操作太频繁"
    assert (
        sentence("auth.locked", {"retry_after": "soon"})
        == "登录失败次数过多，账号暂时锁定，请 soon 秒后再试"
    )
    assert sentence("record.not_found", {"detail": "Form 'x' has no record 1."}) == (
        "记录不存在，或你没有查看它的权限"
    )
    assert sentence("no.such_code", {}) is None
