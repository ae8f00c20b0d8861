"""Test-only e-mail backends: one that fails like a flaky SMTP server, one that is slow."""

from __future__ import annotations

import os
import smtplib
import time

from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class FlakySMTPBackend(LocmemBackend):
    """Fails `failures` times with a transient SMTP error (or `error`), then delivers to locmem."""

    failures = 0
    error: Exception = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    calls = 0

    def send_messages(self, messages):
        type(self).calls += 1
        if type(self).failures > 0:
            type(self).failures -= 1
            raise type(self).error
        return super().send_messages(messages)


class SlowFileBackend(FileBackend):
    """Waits before writing, like a slow SMTP transaction before the end of DATA: a worker killed
    meanwhile sends nothing. Like the SMTP backend, it calls the hand-over only then."""

    calls_handover = True

    def send_messages(self, messages):
        time.sleep(float(os.environ.get("RECTIFY_TEST_MAIL_DELAY", "1")))
        for message in messages:
            if getattr(message, "handover", None):
                message.handover()
        return super().send_messages(messages)
