"""The SMTP backend Rectify sends through (EMAIL_URL=smtp://…): Django's, with two additions.

1. A hand-over point. Everything of a message but the final "." of DATA is sent first; then
   the message's `handover()` (set by `reports.services.delivery_send`) records in the database
   that the server is about to hold the whole message. If that record cannot be written (our
   claim was taken back, the database dropped) the "." is never sent, the server discards the
   transaction, and nothing was delivered. Before this point a retry is always safe; after it
   the outcome is only known from the server's answer.
2. The answer. The server's final reply to DATA (code and text) is kept on the message as
   `smtp_reply`; a time limit that fires while the server is holding the message does not
   abandon it: the answer is still awaited (up to RECTIFY_SMTP_DATA_TIMEOUT), so a slow server
   that delivers is recorded as "sent", not "failed".
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Callable
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import EmailMessage, sanitize_address

logger = logging.getLogger(__name__)

Handover = Callable[[], None]


def reply_text(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()[:2000]


class SMTPBackend(EmailBackend):
    # reports.services: this backend calls message.handover() itself, at the last moment.
    calls_handover = True

    def _send(self, email_message: EmailMessage) -> bool:
        handover: Handover | None = getattr(email_message, "handover", None)
        if handover is None:
            return super()._send(email_message)
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = sanitize_address(email_message.from_email, encoding)
        recipients = [sanitize_address(addr, encoding) for addr in email_message.recipients()]
        data = email_message.message().as_bytes(linesep="\r\n")
        code, text = self._sendmail(from_email, recipients, data, handover)
        email_message.smtp_reply = reply_text(code, text)  # type: ignore[attr-defined]
        return True

    def _sendmail(self, from_addr: str, to_addrs: list[str], data: bytes, handover: Handover) -> tuple[int, Any]:
        """smtplib.SMTP.sendmail with DATA split at the hand-over point."""
        conn = self.connection
        conn.ehlo_or_helo_if_needed()
        options = [f"size={len(data)}"] if conn.does_esmtp and conn.has_extn("size") else []
        code, resp = conn.mail(from_addr, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, resp, from_addr)
        refused = {}
        for addr in to_addrs:
            code, resp = conn.rcpt(addr)
            if code not in (250, 251):
                refused[addr] = (code, resp)
        if len(refused) == len(to_addrs):
            conn.rset()
            raise smtplib.SMTPRecipientsRefused(refused)
        conn.putcmd("data")
        code, resp = conn.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, resp)
        body = re.sub(rb"(?m)^\.", b"..", data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        try:
            conn.send(body)
            handover()  # raises when this send must not complete: the "." below is then never sent
        except BaseException:
            # Drop the connection mid-DATA (a QUIT now would only be read as more message): the
            # server discards the transaction.
            conn.close()
            raise
        conn.send(b".\r\n")
        code, resp = self._final_reply()
        if code != 250:
            raise smtplib.SMTPDataError(code, resp)
        return code, resp

    def _final_reply(self) -> tuple[int, Any]:
        conn = self.connection
        if conn.sock is not None:
            conn.sock.settimeout(settings.RECTIFY_SMTP_DATA_TIMEOUT)
        while True:
            try:
                return conn.getreply()
            except SoftTimeLimitExceeded:
                # The server holds the whole message: giving up now would leave its fate unknown.
                logger.warning("time limit reached while %s holds a message; still waiting for its answer",
                               self.host)
