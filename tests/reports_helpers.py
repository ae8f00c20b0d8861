"""Helpers shared by the reports tests: Shanghai times, a beat tick, the cast's extra roles."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core import mail

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]


def html_part(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def mails_written(maildir: Path) -> list[email.message.Message]:
    """Every message Django's file backend wrote (one file per connection, messages split by its rule)."""
    messages = []
    for path in sorted(maildir.iterdir()):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk, policy=email.policy.default))
    return messages
