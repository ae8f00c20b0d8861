"""Turning what officials write (unit names, region names, task numbers) into ledger rows.

Used by the case form and by the xlsx import, so both accept the same wordings.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tasks.models import Plan, Region, Task, Unit, UnitAlias

# 、,,;;/ and line breaks separate names in one cell; stray spaces are where breaks were.
_SEPARATORS = re.compile(r"[、,,;;/\n\r]+|\s{2,}")


def split_names(raw: str) -> list[str]:
    return [part.strip() for part in _SEPARATORS.split(raw or "") if part.strip()]


class UnitResolver:
    """Loads every unit name and alias once, then resolves a whole sheet without queries."""

    def __init__(self) -> None:
        self.by_name: dict[str, Unit] = {u.name: u for u in Unit.objects.all()}
        for u in list(self.by_name.values()):
            if u.full_name:
                self.by_name.setdefault(u.full_name, u)
        units = {u.pk: u for u in self.by_name.values()}
        for alias in UnitAlias.objects.all():
            if alias.unit_id in units:
                self.by_name.setdefault(alias.alias, units[alias.unit_id])

    def split(self, raw: str) -> tuple[list[Unit], list[str]]:
        """(the units named, the names not in the unit table), each once, in the order written."""
        found: list[Unit] = []
        unknown: list[str] = []
        for name in split_names(raw):
            unit = self.by_name.get(name)
            if unit is None:
                if name not in unknown:
                    unknown.append(name)
            elif unit not in found:
                found.append(unit)
        return found, unknown

    def resolve(self, raw: str) -> list[Unit]:
        found, unknown = self.split(raw)
        if unknown:
            raise ValidationError(_("找不到单位:%(names)s") % {"names": _('、').join(unknown)})
        return found


class RegionResolver:
    """City and county names; a county name repeated across cities needs its city in front
    ("大同市城区"); "山西省" means the province itself."""

    def __init__(self) -> None:
        regions = list(Region.objects.select_related("parent"))
        self.by_name: dict[str, Region] = {}
        seen: dict[str, int] = {}
        for r in regions:
            seen[r.name] = seen.get(r.name, 0) + 1
        for r in regions:
            if r.level == Region.Level.COUNTY and r.parent:
                self.by_name[f"{r.parent.name}{r.name}"] = r
            if seen[r.name] == 1:
                self.by_name[r.name] = r
        self.ambiguous = {name for name, n in seen.items() if n > 1}

    def region_named_first(self, unit_name: str) -> Region | None:
        """The region a unit's name starts with ("太原市环保局" → 太原市, "晋中市昔阳县环保局" →
        昔阳县), the longest such name; None when it names none."""
        best = ""
        for name in self.by_name:
            if len(name) > len(best) and unit_name.startswith(name) and len(unit_name) > len(name):
                best = name
        return self.by_name.get(best) if best else None

    def resolve(self, raw: str) -> Region | None:
        name = re.sub(r"\s+", "", raw or "")
        if not name:
            return None
        region = self.by_name.get(name)
        if region is None:
            if name in self.ambiguous:
                raise ValidationError(_("“%(name)s”在多个市都有,请写明所属的市,例如“大同市%(name)s”") % {"name": name})
            raise ValidationError(_("找不到行政区“%(name)s”") % {"name": name})
        return region


def tasks_resolve(raw: str, *, plan: Plan | None) -> list[Task]:
    numbers: list[int] = []
    for part in split_names(raw.replace(" ", "、")):
        digits = part.removeprefix("任务").removesuffix("号")
        # isdecimal, not isdigit: "²" is a digit that int() refuses; "１２" is fine.
        if not digits.isdecimal() or len(digits) > 9:
            raise ValidationError(_("任务序号“%(part)s”不是数字") % {"part": part})
        numbers.append(int(digits))
    if not numbers:
        return []
    if plan is None:
        raise ValidationError(_("尚未导入整改方案,不能关联任务"))
    tasks = {t.number: t for t in Task.objects.filter(plan=plan, number__in=numbers)}
    missing = [str(n) for n in numbers if n not in tasks]
    if missing:
        raise ValidationError(_("整改方案中没有序号为%(names)s的任务") % {"names": _('、').join(missing)})
    return [tasks[n] for n in dict.fromkeys(numbers)]


def region_label(region: Region | None) -> str:
    """A county with its city in front ("晋中市昔阳县"): county names repeat across cities."""
    if region is None:
        return ""
    if region.level == Region.Level.COUNTY and region.parent_id:
        return f"{region.parent.name}{region.name}"
    return region.name
