import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasks.deadlines import DeadlineError, ParsedDeadline, add_months, format_deadline, parse_deadline
from tasks.models import DeadlineClass

ISSUED = dt.date(2017, 12, 19)


def parse(value):
    return parse_deadline(value, plan_year=2017, plan_issued=ISSUED)


@pytest.mark.parametrize(
    ("text", "date", "klass"),
    [
        ("2017年9月底前整改到位", dt.date(2017, 9, 30), DeadlineClass.BY_DEADLINE),
        ("2017年底前", dt.date(2017, 12, 31), DeadlineClass.BY_DEADLINE),
        ("2018年6月底前", dt.date(2018, 6, 30), DeadlineClass.BY_DEADLINE),
        ("2025年12月31日前", dt.date(2025, 12, 31), DeadlineClass.BY_DEADLINE),
        ("2017年10月底前", dt.date(2017, 10, 31), DeadlineClass.BY_DEADLINE),
        ("年内", dt.date(2017, 12, 31), DeadlineClass.BY_DEADLINE),
        ("6月底前", dt.date(2018, 6, 30), DeadlineClass.BY_DEADLINE),  # next June, after issue
        ("立行立改", dt.date(2018, 6, 19), DeadlineClass.IMMEDIATE),
        ("立行立改、长期坚持", None, DeadlineClass.LONG_TERM),
        ("长期坚持", None, DeadlineClass.LONG_TERM),
        ("短期攻坚、中期推进和长期坚持", None, DeadlineClass.LONG_TERM),
        ("2018年底前完成,长期坚持", dt.date(2018, 12, 31), DeadlineClass.LONG_TERM),
        ("２０１８年６月底前", dt.date(2018, 6, 30), DeadlineClass.BY_DEADLINE),  # full-width
        ("2018 年 6 月\n底前", dt.date(2018, 6, 30), DeadlineClass.BY_DEADLINE),  # stray spaces
        ("2018-03-15", dt.date(2018, 3, 15), DeadlineClass.BY_DEADLINE),
        ("2018/3/15", dt.date(2018, 3, 15), DeadlineClass.BY_DEADLINE),
        ("2018年上半年", dt.date(2018, 6, 30), DeadlineClass.BY_DEADLINE),
        ("2018年第三季度", dt.date(2018, 9, 30), DeadlineClass.BY_DEADLINE),
        ("“十三五”期间", dt.date(2020, 12, 31), DeadlineClass.BY_DEADLINE),
        ("2017年底前完成一期,2018年底前全部完成", dt.date(2018, 12, 31), DeadlineClass.BY_DEADLINE),
    ],
)
def test_official_wordings(text, date, klass):
    parsed = parse(text)
    assert parsed == ParsedDeadline(date, klass, text.strip())


def test_dates_and_excel_serials():
    assert parse(dt.date(2018, 6, 30)).date == dt.date(2018, 6, 30)
    assert parse(dt.datetime(2018, 6, 30, 0, 0)).date == dt.date(2018, 6, 30)
    assert parse(43281).date == dt.date(2018, 6, 30)  # Excel serial
    assert parse(43281.0).text == "2018年6月底前"
    assert parse("43281").date == dt.date(2018, 6, 30)


@pytest.mark.parametrize("text", ["下季度", "尽快", "", "  ", None, "2018年13月底前", "2018年2月30日前", True, -3, 1e12])
def test_unreadable_wording_is_an_error_not_a_guess(text):
    with pytest.raises(DeadlineError) as info:
        parse(text)
    assert str(info.value)  # a message for the official, in Chinese
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(info.value))


def test_unreadable_message_quotes_the_wording():
    with pytest.raises(DeadlineError, match="无法识别'下季度'"):
        parse("下季度")


@given(st.one_of(st.text(max_size=60), st.integers(), st.floats(), st.dates(), st.none()))
def test_parser_never_crashes(value):
    try:
        result = parse(value)
    except DeadlineError:
        return
    assert result.deadline_class in DeadlineClass.values
    assert result.date is None or isinstance(result.date, dt.date)
    if result.deadline_class == DeadlineClass.BY_DEADLINE:
        assert result.date is not None


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_formatted_wording_reads_back_as_the_same_date(day):
    assert parse(format_deadline(day)).date == day


def test_add_months_keeps_month_ends():
    assert add_months(dt.date(2017, 10, 31), 4) == dt.date(2018, 2, 28)
    assert add_months(dt.date(2017, 9, 30), 1) == dt.date(2017, 10, 31)
    assert add_months(dt.date(2017, 12, 19), 6) == dt.date(2018, 6, 19)
    assert add_months(dt.date(2018, 1, 30), 1) == dt.date(2018, 2, 28)
