"""Inbound e-mail: an SMTP endpoint whose messages become records and customer replies.

:mod:`.messages` reads a message (pure), :mod:`.service` stores and processes it, :mod:`.smtp`
receives it. See docs/adr/0011-inbound-mail-over-smtp.md.
"""

from __future__ import annotations

from tangram.platform.inbound.service import install

__all__ = ["install"]
