"""Hypothesis strategies and checks shared by the form fuzzing tests (test_form_fuzz*.py).

Every example posts through the Django test client inside a savepoint that is rolled back
afterwards, so each example starts from the same data; the database (and the stored files)
are compared before and after the request of that example.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.contrib.messages import constants, get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.utils.html import escape
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from accountability.models import AccountablePerson, Case, CaseDocument, PublicResult, StageRecord
from rectify.models import User
from reports.models import Delivery, Publication, Report, Resend
from tasks.models import (
    Evidence,
    ExtensionRequest,
    Milestone,
    ProgressReport,
    SignoffStep,
    SupervisionAction,
    Task,
    TaskChange,
    TaskUnit,
)

# Few examples each: there are many forms, and the three files must run in a few minutes on
# PostgreSQL. Each run draws new examples; FUZZ_EXAMPLES=200 explores further, and
# FUZZ_NO_SHRINK=1 reports the first failure as found.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "15")), deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[p for p in Phase if not (p == Phase.shrink and os.environ.get("FUZZ_NO_SHRINK"))],
)

CJK = re.compile(r"[\u4e00-\u9fff]")

# --- Strategies ---------------------------------------------------------------------------------

SPECIMENS = [
    "", " ", "   \t\n", "\u3000\u3000", "\xa0", "\x00", "进展\x00正常", "\x00\x00\x00", "\r\n", "\ufeff",
    "\u202e反转", "🙂", "<script>alert('x')</script>", '"><img src=x onerror=alert(1)>', "'; DROP TABLE tasks_task; --",
    "%", "%s%n", "{{ 7*7 }}", "\\", "../../etc/passwd", "null", "None", "0", "-1",
]


def long_text() -> st.SearchStrategy[str]:
    """Over-long values around the limits the forms and columns have, and 100k characters."""
    return st.builds(lambda ch, n: ch * n, st.sampled_from(["字", "a", " ", "\x00", "😀"]),
                     st.sampled_from([50, 51, 60, 61, 100, 101, 120, 121, 150, 151, 180, 181, 200, 201,
                                      255, 256, 300, 2000, 2001, 4000, 4001, 5000, 5001, 100_000]))


def nasty_text() -> st.SearchStrategy[str]:
    """Arbitrary unicode (control characters and NUL included; no lone surrogates, which the
    test client cannot encode), whitespace only, markup, and very long strings."""
    return st.one_of(
        st.text(max_size=80),
        st.sampled_from(SPECIMENS),
        st.text(alphabet=" \t\r\n\u3000\xa0\u2028\x0b\x0c", max_size=10),
        long_text(),
        st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Lo"]), max_size=30),
    )


FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def nasty_int() -> st.SearchStrategy[str]:
    """What an integer field may be sent: in and out of range, negative, floats, full-width and
    other unicode digits, exponents, blanks, and numbers too big for any column."""
    return st.one_of(
        st.integers(-5, 105).map(str),
        st.integers().map(str),
        st.integers(-(2**70), 2**70).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        st.integers(0, 200).map(lambda n: str(n).translate(FULLWIDTH)),
        st.sampled_from(["", " ", "²", "١٢", "٤٠", "1e2", "0x10", "40.0", "+40", " 40 ", "40%", "NaN", "∞",
                         "-0", "9" * 400, "2147483648", "-2147483649", "9223372036854775808", "四十", "\x0040"]),
        nasty_text(),
    )


def date_wordings(day: dt.date) -> list[str]:
    return [day.isoformat(), f"{day.year}年{day.month}月{day.day}日", f"{day.year}/{day.month}/{day.day}",
            f"{day.day:02}/{day.month:02}/{day.year}", f"{day.month}/{day.day}/{day.year}",
            f"{day.year}.{day.month}.{day.day}", f"{day.year}{day.month:02}{day.day:02}",
            day.isoformat().translate(FULLWIDTH), f"{day.isoformat()}T12:00:00", f" {day.isoformat()} "]


def nasty_date(near: tuple[dt.date, dt.date] = (dt.date(2017, 1, 1), dt.date(2030, 12, 31))) -> st.SearchStrategy[str]:
    """Dates in any wording: ISO, Chinese, slashes either way round, full-width, with a time;
    impossible days and months, year 0 and 10000, deadline wordings, and arbitrary text."""
    return st.one_of(
        st.dates(min_value=near[0], max_value=near[1]).map(dt.date.isoformat),
        st.dates().flatmap(lambda d: st.sampled_from(date_wordings(d))),
        st.sampled_from(["2018-02-30", "2018-02-29", "2018-13-01", "2018-00-10", "2018-06-31", "0000-01-01",
                         "0001-01-01", "9999-12-31", "10000-01-01", "-2018-01-01", "2018-6-3", "18-06-30",
                         "2018年13月底前", "年内", "长期坚持", "立行立改", "明天", "today", "2018-06-30\x00",
                         "2018-06-30 25:00", "NaN", "", " "]),
        nasty_text(),
    )


MISSING = object()


def field(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A posted field: usually one value, sometimes left out, sometimes sent twice."""
    return st.one_of(values, values, values, st.just(MISSING), st.lists(values, min_size=2, max_size=2))


def form(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The fields posted (each maybe missing or twice), or nothing at all."""
    return st.one_of(st.just({}), st.fixed_dictionaries({name: field(s) for name, s in fields.items()}).map(
        lambda d: {k: v for k, v in d.items() if v is not MISSING}))


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def file_names(extension: str) -> st.SearchStrategy[str]:
    """Names of uploaded files: anything, with or without the right extension."""
    return st.one_of(
        nasty_text().map(lambda s: f"{s}.{extension}"),
        nasty_text(),
        st.sampled_from([f"佐证材料.{extension}", f"a\x00b.{extension}", f"../../x.{extension}",
                         f"C:\\temp\\x.{extension}", f".{extension}", f"x.{extension.upper()}",
                         f"x.{extension}.exe", "x." + "a" * 300, f'"quoted".{extension}',
                         f"{'长' * 300}.{extension}", f"x\r\nContent-Type: text/html.{extension}"]),
    )


def _sendable_name(name: str) -> str:
    """A name with nothing after its last "/" (or just "." or "..") never reaches a view: Django's
    multipart parser drops such a part, and SimpleUploadedFile refuses to be built with it."""
    return name if os.path.basename(name) not in ("", ".", "..") else "x"


def uploads(content: bytes, extension: str, max_size: int = 2) -> st.SearchStrategy[list[SimpleUploadedFile]]:
    return st.lists(file_names(extension), max_size=max_size).map(
        lambda names: [SimpleUploadedFile(_sendable_name(n), content, content_type="application/octet-stream")
                       for n in names])


# --- The database before and after ------------------------------------------------------------

# Everything a form of the workspace, the reports or the register may write. The register's
# access log is not here: every look at a case is logged by design, refused or not.
WATCHED: list[type[models.Model]] = [
    Task, TaskUnit, ProgressReport, Evidence, SignoffStep, ExtensionRequest, TaskChange, Milestone,
    SupervisionAction, Report, Resend, Delivery, Publication, Case, Case.units.through, Case.tasks.through,
    StageRecord, AccountablePerson, CaseDocument, PublicResult, User,
]


def db_state(media: Path | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {m._meta.label: list(m.objects.order_by("pk").values()) for m in WATCHED}
    if media is not None:
        state["files"] = sorted(str(p) for p in media.rglob("*") if p.is_file()) if media.exists() else []
    return state


def changed_rows(before: dict[str, Any], after: dict[str, Any]) -> list[models.Model]:
    """The rows that are new or different after the request, as model instances."""
    rows = []
    for model in WATCHED:
        old = {r["id"]: r for r in before[model._meta.label]}
        for row in after[model._meta.label]:
            if old.get(row["id"]) != row:
                rows.append(model.objects.get(pk=row["id"]))
    return rows


def assert_rows_valid(rows: list[models.Model]) -> None:
    """What was stored passes the model's own validation and holds no NUL character."""
    for row in rows:
        row.full_clean()
        for f in row._meta.concrete_fields:
            value = getattr(row, f.attname)
            if isinstance(value, str):
                assert "\x00" not in value, f"NUL stored in {row._meta.label}.{f.name}"


@contextmanager
def rolled_back() -> Iterator[None]:
    """One example's writes, undone afterwards so the next example starts from the same data."""
    from tasks.dashboards import snapshot_cache_clear

    snapshot_cache_clear()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
    snapshot_cache_clear()


# --- What the response says -------------------------------------------------------------------


def _form_errors(context: Any) -> list[str]:
    found = []
    for key in ("form", "advance_form", "return_form", "document_form"):
        f = context.get(key) if context is not None else None
        if f is not None and getattr(f, "is_bound", False) and f.errors:
            found += [str(e) for errors in f.errors.values() for e in errors]
    for item in (context.get("items") or []) if context is not None else []:
        f = item.get("form") if isinstance(item, dict) else None
        if f is not None and f.is_bound and f.errors:
            found += [str(e) for errors in f.errors.values() for e in errors]
    return found


def refusal_messages(response) -> list[str]:
    """The error messages the user is shown: form errors, an error block, flash messages."""
    found = [str(m) for m in get_messages(response.wsgi_request) if m.level >= constants.ERROR]
    if response.status_code == 400 and BAD_REQUEST_PAGE in response.content.decode():
        found.append(BAD_REQUEST_PAGE)  # the request could not be parsed: templates/400.html
    context = response.context
    if context is not None:
        found += _form_errors(context)
        for key in ("error", "errors", "as_of_error", "region_error"):
            value = context.get(key)
            if value:
                found += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return found


BAD_REQUEST_PAGE = "提交的内容无法读取"


def post(client, url: str, data: dict[str, Any], media: Path | None = None) -> tuple[Any, dict, dict]:
    """Post as the client's user; the database before and after. Messages left over from an
    earlier example (never displayed) are dropped first, so only this request's count."""
    client.cookies.pop(CookieStorage.cookie_name, None)
    before = db_state(media)
    response = client.post(url, data)
    return response, before, db_state(media)


def post_and_check(client, url: str, data: dict[str, Any], media: Path | None = None,
                   invariants: Callable[[list[models.Model]], None] | None = None) -> str:
    """One example: post, check the property, undo whatever was written."""
    with rolled_back():
        response, before, after = post(client, url, data, media)
        return assert_outcome(response, before, after, invariants)


def success_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)
            if m.level < constants.ERROR]


def assert_explained_in_chinese(response, errors: list[str]) -> None:
    assert errors, f"refused without a word (status {response.status_code})"
    for message in errors:
        assert CJK.search(message), f"message not in Chinese: {message!r}"
    if response.status_code == 200 or response.status_code == 400:
        page = response.content.decode()
        shown = [m for m in errors if escape(m) in page or m in page]
        assert shown, f"the page does not show why: {errors!r}"


def assert_outcome(response, before: dict[str, Any], after: dict[str, Any],
                   invariants: Callable[[list[models.Model]], None] | None = None) -> str:
    """The property every form has: never a 5xx; a refusal explains itself in Chinese and
    leaves the data exactly as it was; an acceptance stores only valid rows."""
    status = response.status_code
    assert status < 500, status
    errors = refusal_messages(response)
    if status in (403, 404):
        assert after == before, f"{status} but the database changed"
        return "refused"
    if errors or status == 400:
        assert after == before, f"refused ({errors!r}) but the database changed"
        assert_explained_in_chinese(response, errors)
        return "refused"
    assert status in (200, 302), status
    rows = changed_rows(before, after)
    assert_rows_valid(rows)
    if invariants is not None:
        invariants(rows)
    if after != before:
        assert status == 302, "stored, but the form came back as if refused"
    return "accepted"
