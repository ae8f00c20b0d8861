"""Writes of the reports app: issue a dispatch or bulletin once, send each e-mail once.

- `report_issue` compiles outside the transaction (it only reads), then inserts the `Report`
  and its deliveries in one transaction; the unique constraint on (kind, period) makes a second
  beat tick, a retried job or a racing worker find the existing report instead of a new one.
- `delivery_send` claims one delivery with a conditional update and checks the row count;
  only the claimant sends. Transient errors put it back to "pending" for a retry with backoff;
  anything else marks it "failed" for the outbox.
- `deliveries_sweep` releases deliveries stuck in "claimed" (their worker died) and re-queues
  deliveries that never left "pending".

- The hand-over: just before the server can deliver (the final "." of DATA over SMTP, the call
  itself for other backends) the row records `handed_over_at`, conditional on the claim. Before
  it, any failure is safe to retry; after it, only the server's answer decides. A server's
  acceptance whose bookkeeping fails (the database dropped) is recorded by a retried job.
  A delivery handed over and never answered (worker killed, connection lost while waiting) is
  "结果不明": never sent again by itself, shown to the office. At most once, then, for the one
  case no design without a two-phase commit with SMTP can decide.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import smtplib
import socket
import uuid
from collections.abc import Iterable
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rectify import calendar
from rectify.calendar import (
    bulletin_period,
    bulletin_reviewed_month,
    dispatch_period,
    dispatch_week,
    publication_day,
    report_cutoff,
    report_week,
)
from rectify.i18n import in_official_language
from rectify.mail import reply_text
from rectify.models import User
from rectify.queue import enqueue
from reports import selectors
from reports.emails import delivery_message, digest_render, report_render
from reports.models import (
    Delivery,
    Publication,
    Reminder,
    ReminderDigest,
    ReminderNotice,
    Report,
    ReportKind,
    Resend,
)
from reports.xlsx import bulletin_xlsx, dispatch_xlsx
from tasks.lights import SIGNOFF_STATUSES
from tasks.models import FINISHED_STATUSES, Plan, ProgressReport, Task, TaskStatus, TaskUnit
from tasks.selectors import plan_current

logger = logging.getLogger(__name__)


class TransientMailError(Exception):
    """Sending failed for a reason that may pass (SMTP 4xx, connection, timeout, a time limit,
    a dropped database connection before the hand-over): retry. `claim_token` is set when the
    claim could not be released (the database was gone): the retry resumes it."""

    def __init__(self, message: str, *, claim_token: str | None = None) -> None:
        super().__init__(message)
        self.claim_token = claim_token


class NoPlanError(ValidationError):
    pass


# --- Compiling ---------------------------------------------------------------------------------


def _plan() -> Plan:
    plan = plan_current()
    if plan is None:
        raise NoPlanError(_("尚未导入整改方案,无法生成调度或通报。"))
    return plan


def _dispatch_title(year: int, number: int, week: dt.date) -> str:
    end = week + dt.timedelta(days=6)
    return f"{year}年第{number}期周调度({week.month}月{week.day}日—{end.month}月{end.day}日)"


def _bulletin_title(year: int, number: int, period: str) -> str:
    first, _last = bulletin_reviewed_month(period)
    return f"{year}年第{number}期月通报({first.year}年{first.month}月整改情况)"


def report_period_for(*, kind: str, now: dt.datetime) -> str:
    if kind == ReportKind.DISPATCH:
        return dispatch_period(dispatch_week(now))
    return bulletin_period(timezone.localdate(now))


def report_number(*, kind: str, plan: Plan, period: str) -> tuple[int, int]:
    """(year, number) of a period's issue, derived from the period and the calendar alone, so
    periods issued at once or out of order still get unique numbers in period order: a dispatch
    is the n-th dispatch day of its year, a bulletin the n-th month (docs/calendar.md)."""
    if kind == ReportKind.DISPATCH:
        return calendar.dispatch_issue(dt.date.fromisoformat(period),
                                       start_week=calendar.reporting_start(plan.issued_on))
    return calendar.bulletin_issue(period, first_period=calendar.bulletin_first_period(plan.issued_on))


@in_official_language
def _compile(*, kind: str, plan: Plan, period: str, now: dt.datetime) -> dict[str, Any]:
    """The snapshot, without its issue number. Reads only."""
    if kind == ReportKind.DISPATCH:
        week = dt.date.fromisoformat(period)
        previous = (
            Report.objects.filter(kind=ReportKind.DISPATCH, plan=plan, period__lt=period)
            .order_by("-period").values_list("as_of", flat=True).first()
        )
        since = previous or now - dt.timedelta(days=7)
        return selectors.dispatch_compile(plan=plan, week=week, as_of=now, since=since)
    return selectors.bulletin_compile(plan=plan, period=period, as_of=now, number=0)


@in_official_language
def _finish(*, kind: str, year: int, number: int, period: str, snapshot: dict[str, Any]) -> dict[str, Any]:
    """Title, rendered e-mail and xlsx once the issue number is known."""
    if kind == ReportKind.DISPATCH:
        title = _dispatch_title(year, number, dt.date.fromisoformat(period))
    else:
        snapshot = {**snapshot, "number": number, "issue_label": f"{year}年第{number}期"}
        title = _bulletin_title(year, number, period)
    subject, text, html = report_render(kind=kind, title=title, snapshot=snapshot)
    xlsx = dispatch_xlsx(snapshot) if kind == ReportKind.DISPATCH else bulletin_xlsx(snapshot)
    return {"title": title, "snapshot": snapshot, "subject": subject, "body_text": text,
            "body_html": html, "xlsx": xlsx}


def report_preview(*, kind: str, now: dt.datetime | None = None, plan: Plan | None = None) -> dict[str, Any]:
    """Compile what would go out now, without saving or sending anything."""
    now = now or timezone.now()
    plan = plan or _plan()
    period = report_period_for(kind=kind, now=now)
    exists = Report.objects.filter(kind=kind, period=period).exists()
    snapshot = _compile(kind=kind, plan=plan, period=period, now=now)
    year, number = report_number(kind=kind, plan=plan, period=period)
    return {"kind": kind, "period": period, "year": year, "number": number, "exists": exists,
            **_finish(kind=kind, year=year, number=number, period=period, snapshot=snapshot)}


def _recipients(kind: str, snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """Whole text to the office and leaders; each unit's section of a dispatch or bulletin to
    its liaisons (never the whole: see selectors.report_unit_section). Each address once per round."""
    seen: set[str] = set()
    out: list[dict[str, Any]] = []

    def add(email: str, name: str, audience: str, unit_id: int | None = None) -> None:
        key = email.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append({"recipient": email, "recipient_name": name, "audience": audience, "unit_id": unit_id})

    for email, name in selectors.recipients_office() + selectors.recipients_leaders():
        add(email, name, Delivery.Audience.WHOLE)
    liaisons = selectors.recipients_liaisons_by_unit()
    for unit_id in selectors.dispatch_units_with_tasks(snapshot):
        for email, name in liaisons.get(unit_id, []):
            add(email, name, Delivery.Audience.UNIT, unit_id)
    return out


@in_official_language
def _subject_for(report: Report, audience: str, unit_id: int | None) -> str:
    if audience == Delivery.Audience.UNIT and unit_id is not None:
        unit = report.snapshot["units"].get(str(unit_id), {})
        return f"{report.subject}({unit.get('name', '')}部分)"[:200]
    return report.subject


def report_issue(
    *, kind: str, now: dt.datetime | None = None, period: str | None = None,
    trigger: str = Report.Trigger.SCHEDULE, actor: User | None = None,
) -> tuple[Report, bool]:
    """Issue the dispatch or bulletin of a period, once. Returns (report, created)."""
    now = now or timezone.now()
    period = period or report_period_for(kind=kind, now=now)
    existing = Report.objects.filter(kind=kind, period=period).first()
    if existing is not None:
        return existing, False
    plan = _plan()
    snapshot = _compile(kind=kind, plan=plan, period=period, now=now)
    year, number = report_number(kind=kind, plan=plan, period=period)
    content = _finish(kind=kind, year=year, number=number, period=period, snapshot=snapshot)
    with transaction.atomic():
        try:
            with transaction.atomic():
                report = Report.objects.create(
                    kind=kind, period=period, plan=plan, year=year, number=number, as_of=now,
                    trigger=trigger, triggered_by=actor, **content,
                )
        except IntegrityError:
            # The number follows from the period, so any clash means another run issued it first.
            return Report.objects.get(kind=kind, period=period), False
        deliveries = Delivery.objects.bulk_create(
            Delivery(report=report, round=0, subject=_subject_for(report, r["audience"], r["unit_id"]),
                     recipient=r["recipient"], recipient_name=r["recipient_name"][:100],
                     audience=r["audience"], unit_id=r["unit_id"])
            for r in _recipients(kind, content["snapshot"])
        )
        deliveries_enqueue_on_commit(d.pk for d in deliveries)
        logger.info("issued %s %s (%s) with %d deliveries", kind, period, report.title, len(deliveries))
        return report, True


@transaction.atomic
def report_resend(*, report: Report, actor: User, reason: str, only_failed: bool) -> Resend:
    """An explicit re-send by the office, recorded: who, when, why, to whom."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("请说明重发原因。"))
    report = Report.objects.select_for_update().get(pk=report.pk)
    latest: dict[str, Delivery] = {}
    for d in report.deliveries.order_by("round", "id"):
        latest[d.recipient.lower()] = d
    # "Only the failed ones": refused or never accepted. Never what a server accepted, nor what
    # may have been delivered ("结果不明"): the office re-sends those only with a full re-send.
    targets = [d for d in latest.values() if not only_failed or d.status == Delivery.Status.FAILED]
    if not targets:
        raise ValidationError(_("没有需要重发的收件人。") if only_failed else _("该期没有收件人。"))
    round_ = (report.resends.aggregate(m=Max("round"))["m"] or 0) + 1
    resend = Resend(report=report, round=round_, actor=actor, reason=reason[:200], only_failed=only_failed)
    resend.full_clean()
    resend.save()
    deliveries = Delivery.objects.bulk_create(
        Delivery(report=report, round=round_, subject=d.subject, recipient=d.recipient,
                 recipient_name=d.recipient_name, audience=d.audience, unit_id=d.unit_id)
        for d in targets
    )
    deliveries_enqueue_on_commit(d.pk for d in deliveries)
    return resend


# --- Sending -------------------------------------------------------------------------------------

_TRANSIENT_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.ETIMEDOUT,
                     errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN, errno.EPIPE}


def mail_error_is_transient(exc: BaseException) -> bool:
    """SMTP 4xx, dropped or refused connections, timeouts and DNS hiccups pass; 5xx do not."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code < 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return False
    if isinstance(exc, SoftTimeLimitExceeded):
        return True  # a slow server or network, not a broken message
    if isinstance(exc, smtplib.SMTPException | ConnectionError | TimeoutError | socket.gaierror):
        return True
    return isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS


# A dropped database connection (restart, fail-over): the job retries, the work is not lost.
DATABASE_ERRORS = (OperationalError, InterfaceError)


class HandoverRefused(Exception):
    """Our claim on the delivery was taken back (the sweeper released it): stop before the end of DATA."""


def _reply_of(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return reply_text(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{addr}: {reply_text(code, msg)}" for addr, (code, msg) in exc.recipients.items())
    return f"{type(exc).__name__}: {exc}"[:2000]


def delivery_send(*, delivery_id: int, last_attempt: bool = False, claim_token: str | None = None) -> str:
    """Send one delivery if this call wins the claim. Returns "sent", "skipped", "uncertain" or
    "failed"; a transient error is raised as TransientMailError. Never inside a transaction.

    `claim_token` resumes a claim this job made before the database dropped (nothing was handed
    to a server then). Database errors before the hand-over propagate (the job retries); after
    the server accepted, the bookkeeping is retried by its own job (`delivery_record`)."""
    token = uuid.uuid4() if claim_token is None else uuid.UUID(claim_token)
    claimable = Q(status=Delivery.Status.PENDING)
    if claim_token is not None:
        claimable |= Q(status=Delivery.Status.CLAIMED, claim_token=token, handed_over_at__isnull=True)
    claimed = Delivery.objects.filter(claimable, id=delivery_id).update(
        status=Delivery.Status.CLAIMED, claim_token=token, claimed_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    if claimed != 1:
        return "skipped"  # sent already, being sent, or failed for good
    try:
        delivery = Delivery.objects.select_related("report", "reminder", "digest").get(id=delivery_id)
        message = delivery_message(delivery)
    except DATABASE_ERRORS as exc:
        raise TransientMailError(str(exc), claim_token=str(token)) from exc
    mine = Delivery.objects.filter(id=delivery_id, claim_token=token)
    handed_over: list[bool] = []

    def handover() -> None:
        # Conditional on our token: a claim the sweeper released is someone else's now.
        if mine.filter(status=Delivery.Status.CLAIMED).update(handed_over_at=timezone.now()) != 1:
            raise HandoverRefused
        handed_over.append(True)

    message.handover = handover
    backend = message.get_connection()
    # The SMTP backend (rectify/mail.py) calls handover() just before the end of DATA. Others
    # (file, console, locmem) deliver in one step: handed over before the call (a worker killed
    # during it leaves an unknown outcome), and an error they raise means nothing was delivered.
    in_one_step = not getattr(backend, "calls_handover", False)
    try:
        if in_one_step:
            handover()
        backend.send_messages([message])
    except HandoverRefused:
        return "skipped"
    except DATABASE_ERRORS as exc:
        raise TransientMailError(str(exc), claim_token=str(token)) from exc
    except Exception as exc:  # whatever the backend raised: recorded on the row, never lost
        if not getattr(message, "smtp_reply", ""):
            return _delivery_failed(delivery=delivery, token=token, exc=exc,
                                    handed_over=bool(handed_over) and not in_one_step, last_attempt=last_attempt)
        # The server had answered 250 already (the error came after, e.g. while saying QUIT): sent.
        logger.warning("delivery %s accepted, then %s: %s", delivery_id, type(exc).__name__, exc)
    reply = getattr(message, "smtp_reply", "") or f"{type(backend).__module__.rsplit('.', 1)[-1]}: accepted"
    try:
        delivery_record(delivery_id=delivery_id, claim_token=str(token), reply=reply)
    except DATABASE_ERRORS:
        # The server has the message; only the bookkeeping failed. Retried by a job of its own
        # (Redis is not the database); the row stays claimed and handed over meanwhile, which the
        # sweeper never sends again.
        from reports.jobs import delivery_record_job

        logger.warning("delivery %s accepted (%s) but not yet recorded: database unavailable", delivery_id, reply)
        enqueue(delivery_record_job, delivery_id, str(token), reply)
    return "sent"


def _delivery_failed(*, delivery: Delivery, token: uuid.UUID, exc: BaseException, handed_over: bool,
                     last_attempt: bool) -> str:
    mine = Delivery.objects.filter(id=delivery.pk, claim_token=token)
    answered = isinstance(exc, smtplib.SMTPResponseException)
    if handed_over and not answered:
        # The server had the whole message and gave no answer we could read: it may be delivered.
        mine.update(status=Delivery.Status.UNCERTAIN, smtp_reply=_reply_of(exc),
                    last_error=f"{type(exc).__name__}: {exc}"[:2000])
        logger.error("delivery %s to %s: outcome unknown after hand-over (%s)", delivery.pk, delivery.recipient, exc)
        return "uncertain"
    transient = mail_error_is_transient(exc)
    retry = transient and not last_attempt
    mine.update(
        status=Delivery.Status.PENDING if retry else Delivery.Status.FAILED,
        claim_token=None, handed_over_at=None, smtp_reply=_reply_of(exc),
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )
    if retry:
        raise TransientMailError(str(exc)) from exc
    logger.error("delivery %s to %s failed for good: %s", delivery.pk, delivery.recipient, exc)
    return "failed"


def delivery_record(*, delivery_id: int, claim_token: str, reply: str) -> bool:
    """Mark a delivery the server accepted as sent; also from "结果不明", which the sweeper may
    have concluded meanwhile. False when the claim is not ours (nothing to record)."""
    return Delivery.objects.filter(id=delivery_id, claim_token=uuid.UUID(claim_token)).exclude(
        status=Delivery.Status.SENT).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), smtp_reply=reply[:2000], last_error="",
    ) == 1


def deliveries_enqueue(ids: Iterable[int]) -> None:
    from reports.jobs import delivery_send_job  # jobs import services; import here, not at the top

    # A delivery the broker refuses stays pending; the sweeper queues it once the broker is back.
    for delivery_id in ids:
        if not enqueue(delivery_send_job, delivery_id):
            break


def deliveries_enqueue_on_commit(ids: Iterable[int]) -> None:
    # Queue only what the database has: a worker must never look for an uncommitted row.
    ids = list(ids)
    if ids:
        transaction.on_commit(lambda: deliveries_enqueue(ids))


def deliveries_sweep(*, now: dt.datetime | None = None) -> list[int]:
    """Release deliveries stuck in "claimed" (their worker died) and re-queue stale pending ones.

    A stuck claim that never reached a server is sent again. One that was handed over and never
    answered is decided conservatively: "结果不明", not sent again by itself (a duplicate official
    e-mail is worse than one the office is told to check); the office sees it in the outbox and
    may re-send the issue explicitly. Its claim token stays, so a late bookkeeping of a server's
    acceptance still turns it into "sent"."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.RECTIFY_CLAIM_STALE_SECONDS)
    stuck = Delivery.objects.filter(status=Delivery.Status.CLAIMED, claimed_at__lt=stale)
    uncertain = stuck.filter(handed_over_at__isnull=False).update(
        status=Delivery.Status.UNCERTAIN,
        last_error="已交给邮件服务器,但未收到答复(进程退出或超时):可能已送达,不再自动重发")
    if uncertain:
        logger.error("sweeper: %d deliveries handed over without an answer are now uncertain", uncertain)
    released = []
    for delivery_id in stuck.filter(handed_over_at__isnull=True).values_list("id", flat=True):
        if Delivery.objects.filter(id=delivery_id, status=Delivery.Status.CLAIMED, claimed_at__lt=stale,
                                   handed_over_at__isnull=True).update(
                status=Delivery.Status.PENDING, claim_token=None,
                last_error="发送中断(进程退出),已重新排队") == 1:
            released.append(delivery_id)
    # Pending rows are normally queued already (a national dispatch can wait minutes in line, a
    # retry waits out its backoff): re-queue only those waiting far longer, whose message the
    # broker must have lost (Redis restarted empty, or refused it).
    lost = now - dt.timedelta(seconds=settings.RECTIFY_PENDING_REQUEUE_SECONDS)
    waiting = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING)
        .filter(Q(claimed_at__lt=lost) | Q(claimed_at__isnull=True, created_at__lt=lost))
        .values_list("id", flat=True)
    )
    ids = sorted(set(released) | set(waiting))
    if ids:
        logger.warning("sweeper re-queues %d deliveries (%d were stuck in claimed)", len(ids), len(released))
        deliveries_enqueue(ids)
    return ids


# --- Schedules ------------------------------------------------------------------------------------


def _dispatch_weeks_missed(*, plan: Plan, now: dt.datetime) -> list[dt.date]:
    """Every week whose dispatch day has come since the last dispatch issued, at most
    CATCH_UP_WEEKS back, in order; with none issued yet, only the latest due week."""
    last = (Report.objects.filter(kind=ReportKind.DISPATCH, plan=plan).order_by("-period")
            .values_list("period", flat=True).first())
    floor = max(calendar.catch_up_floor_week(now), calendar.reporting_start(plan.issued_on))
    since = max(floor, dt.date.fromisoformat(last) + dt.timedelta(days=7)) if last else floor
    weeks = calendar.dispatch_weeks_due(now, since_week=since)
    return weeks if last else weeks[-1:]


def _bulletin_periods_missed(*, plan: Plan, now: dt.datetime) -> list[str]:
    """Likewise for bulletins, at most CATCH_UP_MONTHS back. With none issued yet and none due
    (before the month's first working day), this month's: a fresh install shows one at once."""
    last = (Report.objects.filter(kind=ReportKind.BULLETIN, plan=plan).order_by("-period")
            .values_list("period", flat=True).first())
    first = calendar.bulletin_first_period(plan.issued_on)
    floor = max(calendar.catch_up_floor_period(now), first)
    since = max(floor, calendar.bulletin_next_period(last)) if last else floor
    periods = calendar.bulletin_periods_due(now, since_period=since)
    if last:
        return periods
    this_month = bulletin_period(timezone.localdate(now))
    return periods[-1:] or ([this_month] if this_month >= first else [])


def catch_up(*, now: dt.datetime | None = None) -> list[str]:
    """What fell due while beat was down goes out now, once (the unique constraints decide):
    every missed dispatch and bulletin since the last one issued, oldest first."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    done: list[str] = []
    plan = plan_current()
    if plan is None:
        return done
    for week in _dispatch_weeks_missed(plan=plan, now=now):
        period = dispatch_period(week)
        _report, created = report_issue(kind=ReportKind.DISPATCH, now=now, period=period,
                                        trigger=Report.Trigger.CATCH_UP)
        if created:
            done.append(f"dispatch {period}")
    for period in _bulletin_periods_missed(plan=plan, now=now):
        _report, created = report_issue(kind=ReportKind.BULLETIN, now=now, period=period,
                                        trigger=Report.Trigger.CATCH_UP)
        if created:
            done.append(f"bulletin {period}")
    week = report_week(today)
    if now >= calendar.publication_draft_at(week) and not Publication.objects.filter(week=week).exists():
        publication_draft(week=week)
        done.append(f"publication {week}")
    reminders_at = timezone.make_aware(dt.datetime.combine(today, dt.time(settings.RECTIFY_REMINDER_HOUR, 30)))
    if now >= reminders_at:
        sent = reminders_run(now=now)
        if sent:
            done.append(f"{sent} reminders")
    return done


def dispatch_due(*, now: dt.datetime | None = None) -> list[Report]:
    """The daily dispatch tick: issue the weeks whose dispatch day is today (Thursday, or the
    next working day when Thursday is a holiday). Days missed altogether are the catch-up's."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if plan_current() is None:
        return []
    recent = [report_week(today) - dt.timedelta(days=7 * k) for k in (3, 2, 1, 0)]
    issued = []
    for week in recent:
        slot = calendar.dispatch_slot(week)
        if slot.date() == today and slot <= now:
            report, _created = report_issue(kind=ReportKind.DISPATCH, now=now, period=dispatch_period(week))
            issued.append(report)
    return issued


def bulletin_due(*, now: dt.datetime | None = None) -> Report | None:
    """The daily bulletin tick: on the month's first working day, issue its bulletin.
    (A first working day missed altogether is the catch-up tick's business.)"""
    now = now or timezone.now()
    period = bulletin_period(timezone.localdate(now))
    slot = calendar.bulletin_slot(period)
    if timezone.localdate(now) != slot.date() or now < slot or plan_current() is None:
        return None
    report, _created = report_issue(kind=ReportKind.BULLETIN, now=now, period=period)
    return report


# --- Reminders and escalation ---------------------------------------------------------------------


def _remind(
    *, kind: str, unit_id: int, unit_name: str, key: str, context: dict[str, Any],
    recipients: list[tuple[str, str]], task: Task | None, known: set[tuple[str, int, str]],
) -> int:
    """Log the reminder and note it for each recipient's next daily digest; the unique
    constraint makes it once ever."""
    if (kind, unit_id, key) in known or not recipients:
        return 0
    context = {**context, "unit": unit_name}
    try:
        with transaction.atomic():
            reminder = Reminder.objects.create(kind=kind, unit_id=unit_id, task=task, key=key, context=context)
            notices: dict[str, ReminderNotice] = {}
            for email, name in recipients:
                address = email.strip().lower()
                if address and address not in notices:
                    notices[address] = ReminderNotice(reminder=reminder, recipient=address,
                                                      recipient_name=name[:100])
            ReminderNotice.objects.bulk_create(notices.values())
    except IntegrityError:
        return 0  # another run logged it first
    known.add((kind, unit_id, key))
    return 1


@in_official_language
def _digests_make(*, day: dt.date) -> int:
    """One e-mail per recipient per day with every reminder waiting for them. A reminder logged
    after a person's digest of the day went out waits for the next day's (once a day, never two)."""
    # A reminder that waited for the next day about a task finished meanwhile has nothing to say.
    ReminderNotice.objects.filter(digest__isnull=True, reminder__task__status__in=FINISHED_STATUSES).delete()
    waiting: dict[str, list[ReminderNotice]] = {}
    for notice in (ReminderNotice.objects.filter(digest__isnull=True).select_related("reminder")
                   .order_by("reminder__created_at", "reminder_id")):
        waiting.setdefault(notice.recipient, []).append(notice)
    done_today = set(ReminderDigest.objects.filter(day=day, recipient__in=waiting).values_list("recipient", flat=True))
    deliveries = []
    for recipient, notices in waiting.items():
        if recipient in done_today:
            continue
        digest = ReminderDigest.objects.create(day=day, recipient=recipient, recipient_name=notices[0].recipient_name)
        ReminderNotice.objects.filter(pk__in=[n.pk for n in notices]).update(digest=digest)
        units = {n.reminder.unit_id for n in notices}
        subject, _text, _html = digest_render(day=day, reminders=[n.reminder for n in notices])
        deliveries.append(Delivery(digest=digest, subject=subject[:200], recipient=recipient,
                                   recipient_name=digest.recipient_name, audience=Delivery.Audience.REMINDER,
                                   unit_id=units.pop() if len(units) == 1 else None))
    created = Delivery.objects.bulk_create(deliveries)
    deliveries_enqueue_on_commit(d.pk for d in created)
    return len(created)


def _deadline_reminder_kind(days_left: int) -> str | None:
    for days in sorted(settings.RECTIFY_DEADLINE_REMINDER_DAYS):
        if 0 <= days_left <= days:
            return f"deadline_{days}"
    return None


def reminders_run(*, now: dt.datetime | None = None) -> int:
    """Deadlines in 7/3/1 days, this week's missing reports, overdue tasks with escalation:
    liaison first, the unit head after RECTIFY_ESCALATE_HEAD_AFTER_DAYS, then the office.
    Each recipient gets one digest a working day: on a holiday or weekend (rectify.calendar) the
    reminders are logged and wait for the next working day's digest. Returns the reminders logged.

    One transaction, runs one at a time (the plan's row is locked): a worker killed mid-run
    leaves nothing half-done, and a second run finds the day's digests already made."""
    now = now or timezone.now()
    plan = plan_current()
    if plan is None:
        return 0
    with transaction.atomic():
        # FOR NO KEY UPDATE: serialises runs without blocking writes that merely refer to the plan.
        list(Plan.objects.select_for_update(no_key=True).filter(pk=plan.pk).values_list("pk", flat=True))
        logged = _reminders_log(plan=plan, now=now)
        if calendar.is_working_day(timezone.localdate(now)):
            _digests_make(day=timezone.localdate(now))
    return logged


def _reminders_log(*, plan: Plan, now: dt.datetime) -> int:
    today = timezone.localdate(now)
    tasks = list(
        Task.objects.filter(plan=plan).exclude(status__in=FINISHED_STATUSES)
        .prefetch_related("task_units__unit").order_by("number")
    )
    liaisons = selectors.recipients_liaisons_by_unit()
    office = selectors.recipients_office()
    horizon = now - dt.timedelta(days=400)
    known = set(Reminder.objects.filter(created_at__gte=horizon).values_list("kind", "unit_id", "key"))
    sent = 0
    for task in tasks:
        if task.deadline is None:
            continue
        days_left = (task.deadline - today).days
        key = f"task:{task.pk}:{task.deadline.isoformat()}"
        base = {"number": task.number, "title": task.title, "deadline": task.deadline.isoformat(),
                "deadline_text": task.deadline_text, "progress": task.progress,
                "days_left": max(days_left, 0), "days_overdue": max(-days_left, 0)}
        answerable = [tu for tu in task.task_units.all() if tu.role != TaskUnit.Role.SUPPORTING]
        kind = _deadline_reminder_kind(days_left)
        if kind:
            for tu in answerable:
                sent += _remind(kind=kind, unit_id=tu.unit_id, unit_name=tu.unit.name, key=key, context=base,
                                recipients=liaisons.get(tu.unit_id, []), task=task, known=known)
        if days_left >= 0 or task.status in SIGNOFF_STATUSES:
            continue  # not overdue, or the unit has applied for sign-off and waits for the office
        overdue = -days_left
        for tu in answerable:
            sent += _remind(kind=Reminder.Kind.OVERDUE_LIAISON, unit_id=tu.unit_id, unit_name=tu.unit.name,
                            key=key, context=base, recipients=liaisons.get(tu.unit_id, []), task=task,
                            known=known)
            if overdue >= settings.RECTIFY_ESCALATE_HEAD_AFTER_DAYS and tu.unit.head_email:
                sent += _remind(kind=Reminder.Kind.OVERDUE_HEAD, unit_id=tu.unit_id, unit_name=tu.unit.name,
                                key=key, context=base,
                                recipients=[(tu.unit.head_email, tu.unit.head_name)], task=task, known=known)
        lead = next((tu for tu in answerable if tu.role == TaskUnit.Role.LEAD), None)
        if lead and overdue >= settings.RECTIFY_ESCALATE_OFFICE_AFTER_DAYS:
            sent += _remind(kind=Reminder.Kind.OVERDUE_OFFICE, unit_id=lead.unit_id, unit_name=lead.unit.name,
                            key=key, context=base, recipients=office, task=task, known=known)
    sent += _reminders_missing_reports(plan=plan, now=now, liaisons=liaisons, known=known)
    return sent


def _reminders_missing_reports(
    *, plan: Plan, now: dt.datetime, liaisons: dict[int, list[tuple[str, str]]], known: set,
) -> int:
    """On the cut-off day, before the cut-off: each unit with reports still missing, once."""
    week = report_week(timezone.localdate(now))
    cutoff = report_cutoff(week)
    if (not calendar.week_expects_reports(week) or timezone.localdate(cutoff) != timezone.localdate(now)
            or now >= cutoff):
        return 0
    filed = set(ProgressReport.objects.filter(task__plan=plan, week=week).values_list("task_id", "unit_id"))
    missing: dict[int, list[dict[str, Any]]] = {}
    names: dict[int, str] = {}
    for tu in (TaskUnit.objects.filter(task__plan=plan).exclude(task__status=TaskStatus.CLOSED)
               .select_related("task", "unit").order_by("task__number")):
        if (tu.task_id, tu.unit_id) not in filed:
            missing.setdefault(tu.unit_id, []).append({"number": tu.task.number, "title": tu.task.title})
            names[tu.unit_id] = tu.unit.name
    sent = 0
    cutoff_text = timezone.localtime(cutoff).strftime("%Y-%m-%d %H:%M")
    for unit_id, tasks in missing.items():
        sent += _remind(kind=Reminder.Kind.REPORT_MISSING, unit_id=unit_id, unit_name=names[unit_id],
                        key=f"week:{week.isoformat()}", context={"tasks": tasks, "cutoff": cutoff_text},
                        recipients=liaisons.get(unit_id, []), task=None, known=known)
    return sent


# --- Public disclosure -----------------------------------------------------------------------------


@in_official_language
def publication_draft(*, week: dt.date | None = None) -> tuple[Publication, bool]:
    """Draft the week's publication from the ledger; the publicity group reviews and approves it."""
    plan = _plan()
    week = week or report_week(timezone.localdate())
    existing = Publication.objects.filter(week=week).first()
    if existing is not None:
        return existing, False
    publish_on = publication_day(week)
    publication = Publication(
        plan=plan, week=week, publish_on=publish_on, snapshot=selectors.publication_compile(plan=plan, week=week),
        title=f"整改工作进展情况公开({publish_on.year}年{publish_on.month}月{publish_on.day}日)",
    )
    publication.full_clean(validate_unique=False)  # the unique constraint decides, below
    try:
        with transaction.atomic():
            publication.save()
    except IntegrityError:
        return Publication.objects.get(week=week), False
    return publication, True


@transaction.atomic
def publication_update(*, publication: Publication, intro: str) -> Publication:
    current = Publication.objects.select_for_update().get(pk=publication.pk)
    if current.status != Publication.Status.DRAFT:
        raise ValidationError(_("已发布的公开内容不能再修改。"))
    current.intro = intro.strip()
    current.full_clean()
    current.save(update_fields=["intro"])
    return current


@transaction.atomic
def publication_approve(*, publication: Publication, user: User) -> Publication:
    """宣传报道组 approves: from then on (and from its Friday) the public page shows it."""
    approved = Publication.objects.filter(pk=publication.pk, status=Publication.Status.DRAFT).update(
        status=Publication.Status.APPROVED, approved_by=user, approved_at=timezone.now(),
    )
    if approved != 1:
        raise ValidationError(_("该公开内容已审核发布,无需重复审核。"))
    return Publication.objects.get(pk=publication.pk)
