"""Official documents speak Chinese whatever the reader's interface language.

The weekly dispatch (周调度), the monthly bulletin (月通报), the e-mails Rectify sends and the
xlsx ledger officials re-import are documents of the Chinese administration: they are compiled
in the site language (settings.LANGUAGE_CODE), even when an English-speaking office user
previews or issues one, so that choice labels and messages in them stay Chinese.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.utils import translation

P = ParamSpec("P")
R = TypeVar("R")


def in_official_language(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` with the site language active (a fresh override per call: thread-safe)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with translation.override(settings.LANGUAGE_CODE):
            return func(*args, **kwargs)

    return wrapper


def date_long(day: dt.date) -> str:
    """A date as written in a message: 2017年12月31日, or December 31, 2017 in English."""
    from rectify.dates import date_official

    return date_official(day)
