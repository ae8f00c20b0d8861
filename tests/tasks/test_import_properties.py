"""Property-based tests for what the importer reads: deadlines, values and unit cells."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.deadlines import DeadlineError, month_end, parse_deadline
from tasks.importing import UnitDirectory, _integer, _percent, _split_units
from tasks.models import DeadlineClass, Unit

pytestmark = pytest.mark.slow  # hypothesis: hundreds of examples per property

ISSUED = dt.date(2017, 12, 19)
EPOCH = dt.date(1899, 12, 30)
FULL_WIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789%,;:()"}


def parse(value):
    return parse_deadline(value, plan_year=2017, plan_issued=ISSUED)


def full_width(text: str) -> str:
    return text.translate(FULL_WIDTH)


dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31))
years = st.integers(min_value=2000, max_value=2099)
months = st.integers(min_value=1, max_value=12)
tails = st.sampled_from(["", "前", "底前", "底前整改到位", "底前完成", "底", "末"])
spaces = st.sampled_from(["", " ", "\n", "  ", "\u3000"])


@given(dates)
def test_excel_serials_in_every_form_read_as_the_same_day(day):
    serial = (day - EPOCH).days
    for value in (serial, float(serial), str(serial), f"{serial}.0", full_width(str(serial))):
        assert parse(value).date == day
        assert parse(value).deadline_class == DeadlineClass.BY_DEADLINE


@given(years, months, st.sampled_from(["底前", "底前整改到位", "底前完成", "底", "末"]), spaces)
def test_month_end_wordings(year, month, tail, gap):
    text = f"{year}年{gap}{month}月{tail}"
    parsed = parse(text)
    assert parsed.date == month_end(year, month)
    assert parsed.text == text.strip()


@given(years, months, tails)
def test_full_width_and_spaces_change_nothing(year, month, tail):
    text = f"{year}年{month}月{tail}"
    plain = parse(text)
    for variant in (full_width(text), " ".join(text), f"  {text}\n"):
        other = parse(variant)
        assert (other.date, other.deadline_class) == (plain.date, plain.deadline_class)


@given(st.text(alphabet="0123456789年月日底前内末上下半季度第一二三四立行改长期坚持、,;十五期间 ", max_size=40))
def test_parser_returns_a_date_a_class_or_an_error(text):
    try:
        parsed = parse(text)
    except DeadlineError as exc:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(exc))
        return
    assert parsed.deadline_class in DeadlineClass.values
    if "长期" in text.replace(" ", ""):
        assert parsed.deadline_class == DeadlineClass.LONG_TERM
    elif "立行立改" in text.replace(" ", ""):
        assert parsed.deadline_class == DeadlineClass.IMMEDIATE and parsed.date >= ISSUED
    else:
        assert parsed.deadline_class == DeadlineClass.BY_DEADLINE and parsed.date is not None


@given(st.integers(min_value=0, max_value=100), st.sampled_from(["{}", "{}%", " {} % ", "{}％"]), st.booleans())
def test_percent_values(number, template, wide):
    text = template.format(number)
    assert _percent(full_width(text) if wide else text) == number
    assert _percent(number) == number


@given(st.integers(min_value=1, max_value=10**6), st.booleans())
def test_row_numbers(number, wide):
    assert _integer(full_width(str(number)) if wide else str(number)) == number
    assert _integer(float(number)) == number


separators = st.sampled_from(["、", ",", "，", ";", "；", "\n", " ", "\r\n", " 、 ", "/"])


@pytest.mark.django_db
def test_any_known_units_joined_by_any_separators_read_back(plan):
    directory = UnitDirectory()
    names = sorted(Unit.objects.exclude(kind=Unit.Kind.OTHER).values_list("name", flat=True))

    @settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(st.lists(st.sampled_from(names), min_size=1, max_size=8, unique=True), st.data())
    def check(picked, data):
        text = picked[0]
        for name in picked[1:]:
            text += data.draw(separators) + name
        cell = directory.resolve(full_width(text) if data.draw(st.booleans()) else text)
        assert [u.name for u in cell.units] == picked
        assert not cell.unknown and not cell.errors

    check()


words = st.text(alphabet="甲乙丙丁县市区委政府", min_size=1, max_size=4)


@given(st.lists(st.tuples(words, words, words), min_size=1, max_size=6), st.data())
def test_splitting_keeps_separators_inside_parentheses(parts, data):
    # "寿阳县(市、区)委": the 、 inside the parentheses does not split the unit.
    tokens = [f"{a}({b}、{c})委" for a, b, c in parts]
    text = tokens[0]
    for token in tokens[1:]:
        text += data.draw(separators) + token
    assert _split_units(text) == tokens
