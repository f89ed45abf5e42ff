"""The SMTP endpoint (aiosmtpd): receives mail for the installation's channels.

Each recipient is checked at ``RCPT TO`` (550 for an address no form's ``mail`` block names, so
a mistyped address is bounced by the sending server rather than kept); the data is refused
while it is received once it passes ``TANGRAM_MAIL_MAX_BYTES`` (552, aiosmtpd's size limit, also
announced in ``EHLO`` as ``SIZE``); and the transaction is answered 250 only after the raw
message is committed to the database (:func:`service.store`). When it cannot be stored the
answer is 451, so the sending server keeps the message and tries again: nothing is lost between
the two. Database work runs in a thread beside the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.exc import SQLAlchemyError

from tangram.config import Settings
from tangram.platform.inbound import service
from tangram.platform.kernel.errors import TangramError
from tangram.platform.kernel.uow import UnitOfWork

#: Opens a unit of work (``write=False`` for reads): the platform's ``unit_of_work``.
UnitOfWorkFactory = Callable[..., UnitOfWork]

log = logging.getLogger(__name__)


class MailHandler:
    """aiosmtpd's handler: checks recipients and stores accepted messages."""

    def __init__(self, unit_of_work: UnitOfWorkFactory) -> None:
        self.unit_of_work = unit_of_work

    def _known(self, address: str) -> bool:
        with self.unit_of_work(write=False) as uow:
            return service.find_channel(uow, address) is not None

    def _store(self, envelope: Envelope, raw: bytes) -> list[int]:
        with self.unit_of_work() as uow:
            ids = [
                service.store(
                    uow,
                    recipient=str(rcpt),
                    envelope_from=str(envelope.mail_from or ""),
                    raw=raw,
                ).id
                for rcpt in envelope.rcpt_tos
            ]
            uow.commit()
        return ids

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept a recipient that names a channel."""
        loop = asyncio.get_running_loop()
        try:
            known = await loop.run_in_executor(None, self._known, address)
        except (SQLAlchemyError, TangramError, OSError) as exc:
            log.warning("mail: checking recipient %s failed: %s", address, exc)
            return "451 4.3.0 Temporary failure; try again later"
        if not known:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the message, then acknowledge it."""
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8", errors="surrogateescape")
        loop = asyncio.get_running_loop()
        try:
            ids = await loop.run_in_executor(None, self._store, envelope, data)
        except (SQLAlchemyError, TangramError, OSError) as exc:
            log.warning("mail: storing a message failed: %s", exc)
            return "451 4.3.0 Could not store the message; try again later"
        log.info("mail: stored message(s) %s from %s", ids, envelope.mail_from)
        return "250 2.0.0 Message accepted"


def controller(
    unit_of_work: UnitOfWorkFactory, settings: Settings, *, host: str, port: int
) -> Controller:
    """An aiosmtpd controller for this installation (``start()`` runs it in a thread)."""
    options: dict[str, Any] = {"data_size_limit": settings.mail_max_bytes, "ident": "Tangram"}
    return Controller(MailHandler(unit_of_work), hostname=host, port=port, **options)
