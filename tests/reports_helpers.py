"""Helpers shared by the reports tests: Shanghai times, a beat tick, the cast's extra roles."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core import mail

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]


def html_part(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")
