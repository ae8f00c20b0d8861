"""The working calendar (rectify/calendar.py): the office's table over chinesecalendar, the
fallback rule, the notice page, and what the cut-off, dispatch and bulletin days do with it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from rectify import calendar
from rectify.holiday_notice import notice_parse
from rectify.models import CalendarDay, CalendarYear
from rectify.services import calendar_year_enter
from reports import jobs, services
from reports.models import Reminder, Report, ReportKind
from tasks.models import Task
from tasks.services import task_report_progress
from tests.calendar_helpers import NOTICE_2025, NOTICE_2026, NOTICE_2027, NOTICE_URL, notice_enter
from tests.reports_helpers import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(plan, office_user, leader, coal_liaison, taiyuan_liaison):
    return plan


# --- Working days ------------------------------------------------------------------------------


def test_the_table_wins_over_chinesecalendar_and_the_fallback_covers_unknown_years():
    assert calendar.year_source(2018) == "package" and calendar.year_source(2027) == "fallback"
    # A year nobody entered: weekends plus the fixed-date holidays, nothing lunar.
    assert [calendar.is_working_day(dt.date(2027, m, d)) for m, d in
            ((1, 1), (5, 3), (10, 1), (10, 4), (2, 8))] == [False, True, False, True, True]
    assert calendar.first_working_day(2027, 1) == dt.date(2027, 1, 4)
    assert calendar.first_working_day(2027, 10) == dt.date(2027, 10, 4)
    # The office's table overrides the package where both speak (a made-up extra holiday).
    CalendarDay.objects.create(date=dt.date(2018, 3, 1), kind=CalendarDay.Kind.HOLIDAY, name="试验")
    calendar.calendar_cache_clear()
    assert calendar.first_working_day(2018, 3) == dt.date(2018, 3, 2)
    assert calendar.is_working_day(dt.date(2018, 2, 11))  # 调休 Sunday from the package still counts


def test_a_year_entered_is_complete_and_replaces_the_fallback():
    calendar_year_enter(year=2027, notice=NOTICE_2027, actor=None)
    assert calendar.year_source(2027) == "table"
    assert not calendar.is_working_day(dt.date(2027, 2, 8))      # 春节
    assert calendar.is_working_day(dt.date(2027, 2, 14))         # make-up Sunday
    assert calendar.is_working_day(dt.date(2027, 3, 1))          # an ordinary Monday
    assert calendar.first_working_day(2027, 10) == dt.date(2027, 10, 8)
    assert calendar.first_working_day(2027, 5) == dt.date(2027, 5, 6)
    assert calendar.add_working_days(dt.date(2027, 9, 30), 2) == dt.date(2027, 10, 9)  # make-up Saturday


def test_the_notice_parser_reads_ranges_make_up_days_and_years():
    days = {d.date: (d.kind, d.name) for d in notice_parse(NOTICE_2027, year=2027)}
    assert days[dt.date(2027, 2, 5)] == ("holiday", "春节") and days[dt.date(2027, 2, 13)] == ("holiday", "春节")
    assert days[dt.date(2027, 2, 14)] == ("workday", "春节")
    assert days[dt.date(2027, 9, 26)] == ("workday", "国庆节")
    assert sum(1 for kind, _ in days.values() if kind == "holiday") == 3 + 9 + 3 + 5 + 1 + 3 + 7
    crossing = notice_parse("一、元旦：2017年12月30日至2018年1月1日放假，共3天。", year=2018)
    assert [d.date for d in crossing] == [dt.date(2017, 12, 30), dt.date(2017, 12, 31), dt.date(2018, 1, 1)]


@pytest.mark.parametrize(("year", "text"), [(2025, NOTICE_2025), (2026, NOTICE_2026)])
def test_the_real_notices_give_exactly_what_chinesecalendar_ships(year, text):
    import chinese_calendar

    calendar_year_enter(year=year, notice=text, actor=None)
    assert calendar.year_source(year) == "table"
    day, differences = dt.date(year, 1, 1), []
    while day.year == year:
        if calendar.is_working_day(day) != chinese_calendar.is_workday(day):
            differences.append(day)
        day += dt.timedelta(days=1)
    assert differences == []


@pytest.mark.parametrize(("text", "message"), [
    ("一、元旦：1月1日放假，共1天。\n二、春节：2月30日至3月2日放假调休。", "第2行"),
    ("一、元旦：1月1日放假。\n二、春节：放假调休，共8天。", "没有找到日期"),
    ("一、劳动节：5月1日至5日放假。5月6日（星期四）上班。", "本来就上班"),
    ("一、国庆节：10月1日至7日放假。10月3日（星期日）上班。", "另一类型"),
    ("节假日期间要安排好值班。", "没有读到任何"),
])
def test_the_notice_parser_names_the_bad_line(text, message):
    with pytest.raises(ValidationError) as caught:
        notice_parse(text, year=2027)
    assert any(message in m for m in caught.value.messages), caught.value.messages


# --- The admin page -------------------------------------------------------------------------------


def test_the_office_pastes_the_notice_previews_and_confirms(client, office_user):
    client.force_login(office_user)
    assert "兜底规则" in client.get("/admin/rectify/calendaryear/").content.decode()
    preview, confirmed = notice_enter(client)
    assert "2027年:读到37天" in preview and "2027年2月14日" in preview and "调休上班" in preview
    assert confirmed.status_code == 302
    assert CalendarYear.objects.get().year == 2027 and CalendarYear.objects.get().entered_by == office_user
    assert CalendarDay.objects.filter(date__year=2027).count() == 31 + 6
    # Entering the year again replaces it exactly (a corrected notice): nothing doubled.
    notice_enter(client, text=NOTICE_2027.replace("五、端午节：6月9日放假，共1天。", "五、端午节：6月10日放假，共1天。"))
    assert CalendarDay.objects.filter(date=dt.date(2027, 6, 10)).exists()
    assert not CalendarDay.objects.filter(date=dt.date(2027, 6, 9)).exists()


def test_a_bad_notice_writes_nothing_and_says_which_line(client, office_user):
    client.force_login(office_user)
    bad = NOTICE_2027.replace("4月3日至5日放假", "4月31日至5月2日放假")
    response = client.post(NOTICE_URL, {"notice": bad, "confirm": "1"})
    html = response.content.decode()
    assert response.status_code == 200 and "第5行" in html and "4月31日不是有效日期" in html
    assert not CalendarDay.objects.exists() and not CalendarYear.objects.exists()


def test_only_the_office_keeps_the_calendar(client, plan, office_user, coal_liaison, leader):
    for user in (coal_liaison, leader):
        client.force_login(user)
        assert client.get(NOTICE_URL).status_code == 302  # not staff: the admin's login
    staff_liaison = coal_liaison
    staff_liaison.is_staff = True
    staff_liaison.save()
    client.force_login(staff_liaison)
    assert client.get(NOTICE_URL).status_code == 403
    assert client.post(NOTICE_URL, {"notice": NOTICE_2027, "confirm": "1"}).status_code == 403
    assert not CalendarYear.objects.exists()


def test_banner_from_november_when_next_year_is_missing(client, cast, office_user, coal_liaison):
    client.force_login(office_user)
    with time_machine.travel(at(2026, 10, 31, 10), tick=False):
        assert "calendar-missing" not in client.get("/tasks/queue/").content.decode()
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        html = client.get("/tasks/queue/").content.decode()
        assert "尚未录入2027年的节假日安排" in html and NOTICE_URL in html
        client.force_login(coal_liaison)
        assert "calendar-missing" not in client.get("/tasks/mine/").content.decode()  # the office's job
        client.force_login(office_user)
        notice_enter(client)
        assert "calendar-missing" not in client.get("/tasks/queue/").content.decode()
    with time_machine.travel(at(2028, 3, 1, 10), tick=False):  # a year still missing in the year itself
        client.force_login(office_user)
        assert "尚未录入2028年的节假日安排" in client.get("/tasks/queue/").content.decode()


# --- What the schedules do with it: the 2018 cases of issue 16 ---------------------------------------


def test_cutoff_and_dispatch_days_move_off_the_2018_holidays():
    # Spring Festival 15–21 February: Thursday the 15th is a holiday.
    assert calendar.report_cutoff(dt.date(2018, 2, 12)) == at(2018, 2, 14, 18)
    assert calendar.dispatch_slot(dt.date(2018, 2, 12)) == at(2018, 2, 22, 9)
    assert calendar.report_cutoff(dt.date(2018, 2, 19)) == at(2018, 2, 22, 18)  # Wednesday 21st off
    assert calendar.dispatch_slot(dt.date(2018, 2, 19)) == at(2018, 2, 23, 9)
    # 清明 5–7 April: the dispatch goes out on the make-up Sunday.
    assert calendar.dispatch_slot(dt.date(2018, 4, 2)) == at(2018, 4, 8, 9)
    # National Day week: no working day at all, so no reports are expected of it.
    assert not calendar.week_expects_reports(dt.date(2018, 10, 1))
    assert calendar.dispatch_slot(dt.date(2018, 10, 1)) == at(2018, 10, 8, 9)
    assert calendar.week_expects_reports(dt.date(2018, 10, 8))


def test_beat_ticks_through_2018s_holidays(cast):
    def tick(day: dt.date) -> None:
        with time_machine.travel(at(day.year, day.month, day.day, 9, 0), tick=False):
            jobs.dispatch_weekly()
            jobs.bulletin_monthly()

    for start, end in ((dt.date(2018, 2, 8), dt.date(2018, 2, 26)), (dt.date(2018, 3, 29), dt.date(2018, 4, 12)),
                       (dt.date(2018, 9, 27), dt.date(2018, 10, 12))):
        day = start
        while day <= end:
            tick(day)
            day += dt.timedelta(days=1)
    issued = {r.period: r.as_of.astimezone(at(2018, 1, 1).tzinfo).date()
              for r in Report.objects.filter(kind=ReportKind.DISPATCH)}
    assert issued == {
        "2018-02-05": dt.date(2018, 2, 8), "2018-02-12": dt.date(2018, 2, 22), "2018-02-19": dt.date(2018, 2, 23),
        "2018-03-26": dt.date(2018, 3, 29), "2018-04-02": dt.date(2018, 4, 8), "2018-04-09": dt.date(2018, 4, 12),
        "2018-09-24": dt.date(2018, 9, 27), "2018-10-01": dt.date(2018, 10, 8), "2018-10-08": dt.date(2018, 10, 11),
    }
    assert not {dt.date(2018, 2, 15), dt.date(2018, 4, 5), dt.date(2018, 10, 4)} & set(issued.values())
    bulletins = {r.period: r.as_of.date() for r in Report.objects.filter(kind=ReportKind.BULLETIN)}
    assert bulletins == {"2018-04": dt.date(2018, 4, 2), "2018-10": dt.date(2018, 10, 8)}


def test_the_holiday_weeks_dispatch_lists_nobody_as_not_reported(cast, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2018, 10, 8, 9, 0), tick=False):
        holiday, _ = services.report_issue(kind=ReportKind.DISPATCH, period="2018-10-01")
    assert holiday.snapshot["units_missing"] == [] and holiday.snapshot["totals"]["reports_expected"] == 0
    assert "本周为节假日" in holiday.body_text and "本周为节假日" in holiday.body_html
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False):
        ordinary, _ = services.report_issue(kind=ReportKind.DISPATCH, period="2018-10-08")
    assert ordinary.snapshot["units_missing"] and "本周为节假日" not in ordinary.body_text


def test_a_report_by_the_moved_cutoff_is_on_time_and_the_reminder_waits_for_a_working_day(
        cast, coal_liaison, django_capture_on_commit_callbacks):
    task = Task.objects.filter(task_units__unit=coal_liaison.unit).order_by("number").first()
    for day in (dt.date(2018, 2, 21), dt.date(2018, 2, 22)):  # Wednesday off, Thursday the cut-off
        with time_machine.travel(at(day.year, day.month, day.day, 8, 30), tick=False):
            services.reminders_run()
        if day == dt.date(2018, 2, 21):
            assert not Reminder.objects.filter(kind="report_missing").exists()
    reminder = Reminder.objects.get(kind="report_missing", unit=coal_liaison.unit)
    assert reminder.key == "week:2018-02-19" and reminder.context["cutoff"] == "2018-02-22 18:00"
    assert reminder.created_at.astimezone(at(2018, 1, 1).tzinfo).date() == dt.date(2018, 2, 22)
    with time_machine.travel(at(2018, 2, 22, 17, 0), tick=False):
        report = task_report_progress(task=task, unit=coal_liaison.unit, author=coal_liaison, percent=50,
                                      text="节后第一天报送")
    assert not report.is_late


# --- Catch-up and numbers ----------------------------------------------------------------------------


def test_weekend_outage_then_catch_up_issues_the_missed_week_once(cast, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2018, 10, 11, 9, 0), tick=False):
        jobs.dispatch_weekly()  # week 2018-10-08, on time
    # Beat down from Thursday 18 October 08:00 to Monday 22 October 10:00.
    with time_machine.travel(at(2018, 10, 22, 10, 7), tick=False):
        done = services.catch_up()
    with time_machine.travel(at(2018, 10, 22, 10, 22), tick=False):
        again = services.catch_up()
    assert [d for d in done if d.startswith("dispatch")] == ["dispatch 2018-10-15"]
    assert not [d for d in again if d.startswith("dispatch")]
    missed = Report.objects.get(kind=ReportKind.DISPATCH, period="2018-10-15")
    assert missed.trigger == Report.Trigger.CATCH_UP and missed.issue_label == "2018年第42期"


def test_five_missed_weeks_come_out_at_once_numbered_in_period_order(cast):
    with time_machine.travel(at(2018, 9, 13, 9, 0), tick=False):
        jobs.dispatch_weekly()  # week 2018-09-10
    with time_machine.travel(at(2018, 10, 19, 14, 7), tick=False):  # five weeks later
        done = services.catch_up()
    weeks = ["2018-09-17", "2018-09-24", "2018-10-01", "2018-10-08", "2018-10-15"]
    assert [d for d in done if d.startswith("dispatch")] == [f"dispatch {w}" for w in weeks]
    numbers = list(Report.objects.filter(kind=ReportKind.DISPATCH).order_by("period").values_list("number", flat=True))
    assert numbers == list(range(37, 43))
    ids = list(Report.objects.filter(kind=ReportKind.DISPATCH).order_by("period").values_list("id", flat=True))
    assert ids == sorted(ids)  # issued oldest first


def test_catch_up_reaches_back_eight_weeks_and_three_bulletins_at_most(cast):
    with time_machine.travel(at(2018, 3, 8, 9, 0), tick=False):
        services.report_issue(kind=ReportKind.DISPATCH)
        services.report_issue(kind=ReportKind.BULLETIN)
    with time_machine.travel(at(2018, 9, 14, 10, 7), tick=False):
        done = services.catch_up()
    dispatched = [d.split()[1] for d in done if d.startswith("dispatch")]
    assert dispatched == [(dt.date(2018, 7, 16) + dt.timedelta(weeks=i)).isoformat() for i in range(9)]
    assert [d for d in done if d.startswith("bulletin")] == ["bulletin 2018-07", "bulletin 2018-08", "bulletin 2018-09"]


def test_backfilled_bulletins_are_numbered_by_their_month():
    periods = {p: calendar.bulletin_issue(p, first_period="2018-01") for p in ("2018-11", "2018-09", "2018-10")}
    assert periods == {"2018-11": (2018, 11), "2018-09": (2018, 9), "2018-10": (2018, 10)}
    assert calendar.bulletin_issue("2018-03", first_period="2018-03") == (2018, 1)  # a plan issued in February
    assert calendar.dispatch_issue(dt.date(2018, 12, 31), start_week=dt.date(2017, 12, 25)) == (2019, 1)
    assert calendar.dispatch_issue(dt.date(2018, 12, 24), start_week=dt.date(2017, 12, 25)) == (2018, 52)


def test_report_compliance_does_not_count_the_holiday_week_as_due(plan, coal_liaison):
    from tasks.dashboards import snapshot_get

    coal = coal_liaison.unit
    task = Task.objects.filter(task_units__unit=coal, task_units__role__in=["LEAD", "RESPONSIBLE"]).first()
    with time_machine.travel(at(2018, 10, 20), tick=False):
        snapshot = snapshot_get(plan=plan, as_of=dt.date(2018, 10, 20))
    # Weeks 2017-12-25 … 2018-10-15 are 43; the National Day week has no working day to report on.
    assert snapshot.reports[(task.pk, coal.pk)] == (0, 42)


def test_a_csv_file_or_spreadsheet_rows_enter_a_year_too(client, office_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(office_user)
    rows = "日期,类型,节日\n2028-01-01,放假,元旦\n2028-01-29,上班,春节\n2028-01-26,放假,春节\n"
    upload = SimpleUploadedFile("2028.csv", rows.encode("gb18030"), content_type="text/csv")
    preview = client.post(NOTICE_URL, {"year": "2028", "csv_file": upload, "preview": "1"}).content.decode()
    assert "2028年:读到3天" in preview and "2028-01-29,上班,春节" in preview  # the rows, ready to confirm
    confirmed = client.post(NOTICE_URL, {"year": "2028", "notice": rows, "confirm": "1"})
    assert confirmed.status_code == 302
    assert calendar.is_working_day(dt.date(2028, 1, 29)) and not calendar.is_working_day(dt.date(2028, 1, 26))
    bad = client.post(NOTICE_URL, {"year": "2028", "notice": "2028-02-30\t放假\t春节", "confirm": "1"})
    assert "第1行" in bad.content.decode() and CalendarDay.objects.count() == 3
