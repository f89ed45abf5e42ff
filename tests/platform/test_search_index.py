"""The search index's tokenizer: jieba, loaded once per process whoever asks first."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tangram.engines.forms.search import tokens
from tangram.platform.records.search import Once, segmenter


def test_a_value_is_made_once_however_many_callers_arrive_together() -> None:
    made: list[object] = []
    arrived = threading.Barrier(8)

    def make() -> object:
        made.append(object())
        return made[-1]

    once = Once(make)

    def call(_: int) -> object:
        arrived.wait()
        return once()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(8)))
    assert len(made) == 1
    assert all(r is made[0] for r in results)


def test_jieba_cuts_chinese_into_words_and_their_shorter_words() -> None:
    cut = segmenter()
    assert cut is segmenter()
    words = tokens("设备开机后屏幕黑屏，中华人民共和国", cut)
    assert {"设备", "开机", "屏幕", "黑屏", "中华", "人民", "共和国", "中华人民共和国"} <= set(
        words
    )
    assert "，" not in words
