"""What a server process loads before its first requests need it: jieba's dictionary for the
search words, and the installed apps' compiled definitions (``Platform.warm``). A cold
registration costs about ten times a warm one; the first ones of four new processes at once were
a load run's slowest requests."""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import SQLAlchemyError

from tangram.platform.bootstrap import Platform
from tangram.platform.records import search

log = logging.getLogger(__name__)


def compile_ahead(platform: Platform) -> None:
    """Compile the installed apps' definitions into this process's caches. A failure (the
    database not answering yet) is logged, never raised: the first requests compile what they
    need, as they would have."""
    started = time.perf_counter()
    try:
        count = platform.warm()
    except (SQLAlchemyError, OSError):
        log.warning("definitions not compiled ahead: left to the first requests", exc_info=True)
        return
    log.info(
        "%d definitions compiled ahead in %.0f ms", count, (time.perf_counter() - started) * 1000
    )


def load_ahead(platform: Platform) -> None:
    """The search words' dictionary, then the definitions (a single process, in a thread)."""
    search.segmenter()
    compile_ahead(platform)
