"""Loading a plan (regions, units, sections, measures, tasks) from its JSON description.

The format is described in fixtures/README.md. Loading is idempotent: a plan whose code is
already in the database is returned as it is, never loaded twice.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from tasks.deadlines import DeadlineError, add_months, format_deadline, parse_deadline
from tasks.models import DeadlineClass, Measure, Plan, Problem, Region, Unit, UnitAlias
from tasks.services import MilestoneSpec, TaskUnitSpec, task_create

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"


def plan_fixture_path(code: str) -> Path:
    return FIXTURES_DIR / f"{code}.json"


def plan_fixture_read(code: str) -> dict[str, Any]:
    with plan_fixture_path(code).open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _date(raw: str | None, shift_months: int) -> dt.date | None:
    if not raw:
        return None
    return add_months(dt.date.fromisoformat(raw), shift_months)


# A year in running text, with a month (and day) or 底 (year end) when written: 2017年关闭退出煤矿,
# 2017年10月底前, 2017年底实现, 2018年度.
_DATED_TEXT = re.compile(r"(?P<y>(?:19|20)\d\d)年(?:(?P<end>底)|(?P<m>1[0-2]|0?[1-9])月(?:(?P<d>[0-3]?\d)日)?)?")


def demo_text_shift(text: str, *, shift_months: int, issued: dt.date) -> str:
    """Dates written in a task's or measure's text, moved by the demo's shift like every date
    field, so no "2017年关闭…" stands next to a 2026 deadline. A bare year moves as the plan's
    issue date does."""
    if not shift_months or not text:
        return text

    def shifted(match: re.Match[str]) -> str:
        year = int(match["y"])
        if match["m"]:
            moved = add_months(dt.date(year, int(match["m"]), 1), shift_months)
            out = f"{moved.year}年{moved.month}月"
            if match["d"]:
                out += f"{min(int(match['d']), calendar.monthrange(moved.year, moved.month)[1])}日"
            return out
        if match["end"]:
            moved = add_months(dt.date(year, 12, 1), shift_months)
            return f"{moved.year}年底" if moved.month == 12 else f"{moved.year}年{moved.month}月底"
        return f"{add_months(dt.date(year, issued.month, 1), shift_months).year}年"

    return _DATED_TEXT.sub(shifted, text)


def regions_load(rows: list[dict[str, Any]]) -> dict[str, Region]:
    """Create or update regions in tree order; their own units come with them."""
    by_code = {r.code: r for r in Region.objects.all()}
    # 城区, 矿区, 郊区 exist in several cities: their units carry the city's name too.
    names = [row["name"] for row in rows]
    repeated = {name for name in names if names.count(name) > 1}
    for row in rows:  # parents precede children in the file
        parent = by_code[row["parent"]] if row["parent"] else None
        region = by_code.get(row["code"]) or Region(code=row["code"])
        region.name, region.level, region.parent = row["name"], row["level"], parent
        region.path = (parent.path if parent else "") + f"{region.code}/"
        region.full_clean()
        region.save()
        by_code[region.code] = region
        if region.level != Region.Level.PROVINCE:
            label = f"{parent.name}{region.name}" if parent and region.name in repeated else region.name
            for suffix, name, kind in (
                ("party", f"{label}委", Unit.Kind.PARTY_COMMITTEE),
                ("gov", f"{label}政府", Unit.Kind.GOVERNMENT),
            ):
                Unit.objects.update_or_create(
                    code=f"{region.code}-{suffix}",
                    defaults={"name": name, "full_name": name, "kind": kind, "region": region},
                )
    return by_code


def units_load(rows: list[dict[str, Any]], regions: dict[str, Region]) -> None:
    for row in rows:
        unit, _ = Unit.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"], "full_name": row.get("full_name", ""),
                "kind": row["kind"], "region": regions[row["region"]],
            },
        )
        for alias in row.get("aliases", []):
            if alias != unit.name:
                UnitAlias.objects.get_or_create(alias=alias, defaults={"unit": unit})


@transaction.atomic
def plan_load(*, data: dict[str, Any], shift_months: int = 0) -> tuple[Plan, bool]:
    """Load a plan; returns (plan, created). `shift_months` moves every date (demo mode).

    When shifted, dated deadline wording is rewritten to match the shifted date, so the page
    never shows "2017年底前" next to a date in another year.
    """
    meta = data["plan"]
    existing = Plan.objects.filter(code=meta["code"]).first()
    if existing is not None:
        return existing, False
    regions = regions_load(data["regions"])
    units_load(data["units"], regions)
    units = {u.code: u for u in Unit.objects.all()}

    original_issued = dt.date.fromisoformat(meta["issued_on"])
    plan = Plan(
        code=meta["code"], title=meta["title"], issuing_body=meta.get("issuing_body", ""),
        issued_on=_date(meta["issued_on"], shift_months),
        inspection_team=meta.get("inspection_team", ""),
        inspection_start=_date(meta.get("inspection_start"), shift_months),
        inspection_end=_date(meta.get("inspection_end"), shift_months),
        feedback_on=_date(meta.get("feedback_on"), shift_months),
        region=regions.get(meta.get("region", "140000")),
    )
    plan.full_clean()
    plan.save()
    problems = {}
    for row in data["problems"]:
        problems[row["code"]] = Problem.objects.create(
            plan=plan, code=row["code"], ordinal=row["ordinal"], kind=row["kind"],
            title=row["title"], heading=row["heading"],
        )
    def moved(text: str) -> str:
        return demo_text_shift(text, shift_months=shift_months, issued=original_issued)

    measures = {}
    for row in data["measures"]:
        measures[row["number"]] = Measure.objects.create(
            plan=plan, problem=problems[row["problem"]], number=row["number"],
            heading=moved(row["heading"]), text=moved(row.get("text", "")),
        )
    for row in data["tasks"]:
        try:
            parsed = parse_deadline(
                row["deadline_text"], plan_year=original_issued.year, plan_issued=original_issued
            )
        except DeadlineError as exc:
            raise ValidationError(f"任务{row['number']} 整改时限: {exc}") from None
        if parsed.deadline_class != row["deadline_class"]:
            raise ValidationError(
                f"任务{row['number']}: 整改时限“{row['deadline_text']}”应属"
                f"{DeadlineClass(parsed.deadline_class).label},文件中写的是{row['deadline_class']}。"
            )
        deadline = add_months(parsed.date, shift_months) if parsed.date else None
        text = row["deadline_text"]
        if shift_months and deadline and parsed.deadline_class == DeadlineClass.BY_DEADLINE:
            text = format_deadline(deadline)
        measure = measures[row["measure"]]
        task_create(
            plan=plan, number=row["number"], title=moved(row["title"]), target=moved(row.get("target", "")),
            actions=moved(row.get("actions", "")), deadline=deadline, deadline_text=text,
            deadline_class=parsed.deadline_class, leading_official=row.get("leading_official", ""),
            measure_id=measure.pk, problem_id=measure.problem_id,
            units=[
                TaskUnitSpec(units[u["unit"]], u["role"], u.get("person", ""))
                for u in row["units"]
            ],
            milestones=[
                MilestoneSpec(moved(m["title"]), _date(m["due"], shift_months))  # type: ignore[arg-type]
                for m in row.get("milestones", [])
            ],
        )
    return plan, True
