"""E-mails of dispatches, bulletins and reminders: template triplets (subject, text, HTML).

A whole dispatch or bulletin is rendered once, when compiled, and stored on the `Report`;
a unit's section and a reminder are rendered from their frozen snapshot when sent, so what a
recipient gets never depends on the ledger's state at sending time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import ngettext, pgettext

from rectify.i18n import in_official_language
from reports.models import Delivery, Reminder, ReportKind
from reports.selectors import report_unit_section
from reports.xlsx import XLSX_MIME, bulletin_xlsx, dispatch_xlsx


def _dates(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Snapshot dates come back from JSON as strings; templates format real dates."""
    out: dict[str, Any] = {}
    for key in ("week", "week_end", "month_first", "month_last"):
        if snapshot.get(key):
            out[key] = parse_date(snapshot[key])
    for key in ("as_of", "since", "cutoff"):
        if snapshot.get(key):
            out[key] = parse_datetime(snapshot[key])
    return out


# A national dispatch can list ten thousand moves: the e-mail names the first ones, the
# attached xlsx and the archived snapshot keep them all.
EMAIL_LIST_LIMIT = 300


def report_context(*, title: str, snapshot: dict[str, Any], unit: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the e-mail templates and the archive pages render a snapshot with."""
    shown, more = dict(snapshot), {}
    for key, value in snapshot.items():
        if key != "tasks" and isinstance(value, list) and len(value) > EMAIL_LIST_LIMIT:
            shown[key], more[key] = value[:EMAIL_LIST_LIMIT], len(value) - EMAIL_LIST_LIMIT
    return {"title": title, "s": shown, "more": more, "d": _dates(snapshot), "unit": unit}


def report_body_template(kind: str) -> str:
    return f"reports/email/_{'dispatch' if kind == ReportKind.DISPATCH else 'bulletin'}_body.html"


def report_render(*, kind: str, title: str, snapshot: dict[str, Any],
                  unit: dict[str, Any] | None = None) -> tuple[str, str, str]:
    """(subject, text, html) of a dispatch or bulletin, or of one unit's dispatch section."""
    context = report_context(title=title, snapshot=snapshot, unit=unit)
    name = "dispatch" if kind == ReportKind.DISPATCH else "bulletin"
    subject = render_to_string(f"reports/email/{name}_subject.txt", context)
    text = render_to_string(f"reports/email/{name}.txt", context)
    html = render_to_string(f"reports/email/{name}.html", context)
    return " ".join(subject.split()), text, html


def _reminder_item(kind: str, context: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "kind_display": Reminder.Kind(kind).label, "c": context,
            "deadline": parse_date(context["deadline"]) if context.get("deadline") else None}


def reminder_render(*, kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """A single reminder's e-mail (how reminders went out before the daily digest)."""
    ctx = _reminder_item(kind, context)
    subject = render_to_string("reports/email/reminder_subject.txt", ctx)
    return (" ".join(subject.split()), render_to_string("reports/email/reminder.txt", ctx),
            render_to_string("reports/email/reminder.html", ctx))


def digest_render(*, day: dt.date, reminders: list[Reminder], name: str = "") -> tuple[str, str, str]:
    """(subject, text, html) of one person's reminders of the day, in the order they were logged."""
    items = [_reminder_item(r.kind, r.context) for r in reminders]
    ctx = {"day": day, "items": items, "name": name, "summary": _digest_summary(items)}
    if len(items) == 1:  # one reminder: its own sentence ("整改任务12“…”已超过整改时限3天,请抓紧整改")
        subject = render_to_string("reports/email/reminder_subject.txt", items[0])
    else:
        subject = render_to_string("reports/email/reminder_digest_subject.txt", ctx)
    return (" ".join(subject.split()), render_to_string("reports/email/reminder_digest.txt", ctx),
            render_to_string("reports/email/reminder_digest.html", ctx))


def _digest_summary(items: list[dict[str, Any]]) -> str:
    """What a day's reminders come to, as a reader says it: "2项任务临近整改时限,1项任务已超过整改时限"."""
    missing = sum(len(i["c"].get("tasks", [])) for i in items if i["kind"] == Reminder.Kind.REPORT_MISSING)
    near = sum(1 for i in items if i["kind"].startswith("deadline"))
    overdue = sum(1 for i in items if i["kind"].startswith("overdue"))
    parts = []
    if near:
        parts.append(ngettext("%(n)d项任务临近整改时限", "%(n)d项任务临近整改时限", near) % {"n": near})
    if overdue:
        parts.append(ngettext("%(n)d项任务已超过整改时限", "%(n)d项任务已超过整改时限", overdue) % {"n": overdue})
    if missing:
        parts.append(ngettext("%(n)d项任务本周进展未报送", "%(n)d项任务本周进展未报送", missing) % {"n": missing})
    return pgettext("between the parts of a reminder summary", ",").join(parts)


def _message_id(delivery: Delivery) -> str:
    # Stable per delivery: if a crash makes us send twice, mail systems can tell it is one message.
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "rectify.local"
    return f"<rectify-delivery-{delivery.pk}-{delivery.round}@{domain}>"


@in_official_language
def delivery_message(delivery: Delivery) -> EmailMultiAlternatives:
    attachment: tuple[str, bytes] | None = None
    if delivery.report_id is not None:
        report = delivery.report
        if delivery.audience == Delivery.Audience.UNIT and delivery.unit_id is not None:
            section = report_unit_section(kind=report.kind, snapshot=report.snapshot, unit_id=delivery.unit_id)
            _subject, text, html = report_render(kind=report.kind, title=report.title, snapshot=section,
                                                 unit=section["unit"])
            annex = dispatch_xlsx(section) if report.kind == ReportKind.DISPATCH else bulletin_xlsx(section)
            attachment = (f"{report.title}-{section['unit']['name']}.xlsx", annex)
        else:
            text, html = report.body_text, report.body_html
            attachment = (f"{report.title}.xlsx", bytes(report.xlsx))
    elif delivery.digest_id is not None:
        digest = delivery.digest
        reminders = [n.reminder for n in digest.notices.select_related("reminder").order_by(
            "reminder__created_at", "reminder_id")]
        _subject, text, html = digest_render(day=digest.day, reminders=reminders, name=digest.recipient_name)
    else:
        reminder = delivery.reminder
        _subject, text, html = reminder_render(kind=reminder.kind, context=reminder.context)
    message = EmailMultiAlternatives(
        subject=delivery.subject, body=text, to=[delivery.recipient],
        headers={"Message-ID": _message_id(delivery)},
    )
    message.attach_alternative(html, "text/html")
    if attachment:
        message.attach(attachment[0], attachment[1], XLSX_MIME)
    return message


