"""Reads of the register. Case lists go through `cases_visible_to`; figures and public
results carry no names unless a decision released them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accountability.access import cases_visible_to
from accountability.models import (
    STAGE_ORDER,
    AccountablePerson,
    Case,
    CaseAccessLog,
    CaseSource,
    Outcome,
    PublicResult,
    Rank,
    Stage,
    StageRecord,
)
from accountability.public import public_entry_display, public_entry_freeze
from rectify.search import search_terms
from tasks.models import Region


def stage_limit_days() -> int:
    return int(settings.RECTIFY_ACCOUNTABILITY_STAGE_DAYS)


def stage_overdue_since(today: dt.date) -> dt.date:
    """A stage entered before this day (and not the last one) is overdue."""
    return today - dt.timedelta(days=stage_limit_days())


@dataclass(frozen=True)
class CaseFilters:
    stage: str = ""
    source: str = ""
    city: str = ""  # a city's region code
    q: str = ""
    overdue: bool = False


def case_list(*, user: Any, filters: CaseFilters | None = None) -> QuerySet[Case]:
    """The rows of the case list, in a fixed number of queries whatever their number."""
    filters = filters or CaseFilters()
    cases = cases_visible_to(user).select_related("region__parent")
    if filters.stage in Stage.values:
        cases = cases.filter(stage=filters.stage)
    if filters.source in CaseSource.values:
        cases = cases.filter(source=filters.source)
    if filters.city:
        city = Region.objects.filter(code=filters.city, level=Region.Level.CITY).first()
        cases = cases.filter(region__path__startswith=city.path) if city else cases.none()
    # Each term of the query (segmented like the ledger's search: rectify/search.py) must
    # appear in the reference, the title, the problem text, a person's name or a unit's name.
    for term in search_terms(filters.q):
        cases = cases.filter(
            Q(reference__icontains=term) | Q(title__icontains=term) | Q(problem_text__icontains=term)
            | Q(pk__in=AccountablePerson.objects.filter(name__icontains=term).values("case_id"))
            | Q(pk__in=Case.units.through.objects.filter(unit__name__icontains=term).values("case_id"))
        )
    if filters.overdue:
        cases = cases.exclude(stage=Stage.PUBLIC).filter(
            stage_entered_on__lt=stage_overdue_since(timezone.localdate())
        )
    return cases.prefetch_related("units").annotate(person_count=Count("persons", distinct=True)).order_by(
        "-transferred_on", "reference"
    )


def case_detail_related(case: Case) -> dict[str, Any]:
    return {
        "records": case.stage_records.select_related("handler").prefetch_related("documents"),
        "persons": case.persons.all(),
        "documents": case.documents.select_related("uploaded_by", "stage_record"),
        "units": case.units.all(),
        "tasks": case.tasks.select_related("plan"),
        "public_result": PublicResult.objects.filter(case=case).select_related(
            "prepared_by", "reviewed_by"
        ).first(),
    }


def access_log(*, case: Case | None = None, denied_only: bool = False) -> QuerySet[CaseAccessLog]:
    logs = CaseAccessLog.objects.select_related("case", "user")
    if case is not None:
        logs = logs.filter(case=case)
    if denied_only:
        logs = logs.filter(granted=False)
    return logs.order_by("-at", "-id")


def _with_public_data(results: QuerySet[PublicResult]) -> QuerySet[PublicResult]:
    return results.select_related("case__region__parent").prefetch_related(
        "case__units", Prefetch("case__persons", queryset=AccountablePerson.objects.order_by("id"))
    )


def results_awaiting_review() -> QuerySet[PublicResult]:
    """What the publicity group sees: the proposed summaries, with nothing of the case."""
    return PublicResult.objects.filter(
        status=PublicResult.Status.DRAFT, case__stage=Stage.PUBLIC
    ).order_by("updated_at", "id")


def results_review_queue() -> list[tuple[PublicResult, dict[str, Any]]]:
    """Each awaiting result with exactly what the public page would show of it once approved."""
    return [
        (r, public_entry_display(public_entry_freeze(r, r.case), result_id=r.pk, published_on=None))
        for r in _with_public_data(results_awaiting_review())
    ]


def public_results() -> list[dict[str, Any]]:
    """The accountability results on the public disclosure page: the copy the publicity group
    approved last (accountability/public.py), of cases made public. Newest first."""
    results = (
        PublicResult.objects.filter(published_entry__isnull=False, case__stage=Stage.PUBLIC)
        .only("id", "published_entry", "published_on").order_by("-published_on", "-id")
    )
    return [public_entry_display(r.published_entry, result_id=r.pk, published_on=r.published_on)
            for r in results]


# --- Figures for the bulletin and the dashboard -------------------------------------


@dataclass(frozen=True)
class BulletinFigures:
    as_of: dt.date
    stage_limit_days: int
    cases_total: int
    cases_by_stage: list[tuple[str, str, int]]
    persons_total: int
    persons_by_rank: list[tuple[str, str, int]]
    persons_by_outcome: list[tuple[str, str, int]]
    cases_by_region: list[tuple[str, str, int]]
    overdue_by_stage: list[tuple[str, str, int]]
    overdue_total: int
    published_total: int
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(), "stage_limit_days": self.stage_limit_days,
            "cases_total": self.cases_total,
            "cases_by_stage": {code: n for code, _, n in self.cases_by_stage},
            "persons_total": self.persons_total,
            "persons_by_rank": {code: n for code, _, n in self.persons_by_rank},
            "persons_by_outcome": {code: n for code, _, n in self.persons_by_outcome},
            "cases_by_region": {code: n for code, _, n in self.cases_by_region},
            "overdue_by_stage": {code: n for code, _, n in self.overdue_by_stage},
            "overdue_total": self.overdue_total, "published_total": self.published_total,
        }


PROVINCE_LEVEL = ("province", gettext_lazy("省直"))
NO_RANK = ("", gettext_lazy("未定"))


def bulletin_figures(*, as_of: dt.date | None = None) -> BulletinFigures:
    """Counts as the register stood at the end of `as_of` (today by default), read back from
    the stage trail so a past bulletin can be recomputed. Five queries, whatever the size.

    - cases: registered (transferred) by then, each at the stage its trail held that day;
    - persons: of those cases, by rank; by outcome only once decided by then;
    - regions: rolled up to the 11 cities by `Region.path`; cases above city level count as
      省直, cases without a region are left out of this table only;
    - overdue: cases whose stage (not 向社会公开) was entered more than the stage time limit
      (RECTIFY_ACCOUNTABILITY_STAGE_DAYS) before `as_of`.
    """
    as_of = as_of or timezone.localdate()
    cases = {
        c["pk"]: c
        for c in Case.objects.filter(transferred_on__lte=as_of).values("pk", "region__path")
    }
    stage_at: dict[int, tuple[str, dt.date]] = {}
    for rec in (
        StageRecord.objects.filter(case_id__in=list(cases), on__lte=as_of)
        .order_by("case_id", "on", "at", "id")
        .values("case_id", "stage", "on")
    ):
        stage_at[rec["case_id"]] = (rec["stage"], rec["on"])  # the last one that day wins
    by_stage = Counter(stage for stage, _ in stage_at.values())
    overdue_from = as_of - dt.timedelta(days=stage_limit_days())
    overdue = Counter(
        stage for stage, since in stage_at.values() if stage != Stage.PUBLIC and since < overdue_from
    )

    cities = {r.path: r for r in Region.objects.filter(level=Region.Level.CITY)}
    by_region: Counter[str] = Counter()
    for c in cases.values():
        path = c["region__path"]
        if not path:
            continue
        city_path = "/".join(path.split("/")[:2]) + "/"
        by_region[cities[city_path].code if city_path in cities else PROVINCE_LEVEL[0]] += 1
    region_rows = [
        (r.code, r.name, by_region[r.code]) for r in sorted(cities.values(), key=lambda r: r.code)
    ]
    region_rows.append((PROVINCE_LEVEL[0], PROVINCE_LEVEL[1], by_region[PROVINCE_LEVEL[0]]))

    persons = list(
        AccountablePerson.objects.filter(case_id__in=list(cases), created_at__date__lte=as_of).values("rank", "outcome", "decided_on")
    )
    by_rank = Counter(p["rank"] for p in persons)
    by_outcome = Counter(
        p["outcome"] for p in persons
        if p["outcome"] and (p["decided_on"] is None or p["decided_on"] <= as_of)
    )
    published = PublicResult.objects.filter(
        published_entry__isnull=False, published_on__lte=as_of, case_id__in=list(cases)
    ).count()
    rank_rows = [(r.value, r.label, by_rank[r.value]) for r in Rank]
    if by_rank[""]:
        rank_rows.append((NO_RANK[0], NO_RANK[1], by_rank[""]))
    return BulletinFigures(
        as_of=as_of,
        stage_limit_days=stage_limit_days(),
        cases_total=len(stage_at),
        cases_by_stage=[(s.value, s.label, by_stage[s.value]) for s in STAGE_ORDER],
        persons_total=len(persons),
        persons_by_rank=rank_rows,
        persons_by_outcome=[(o.value, o.label, by_outcome[o.value]) for o in Outcome],
        cases_by_region=region_rows,
        overdue_by_stage=[(s.value, s.label, overdue[s.value]) for s in STAGE_ORDER if s != Stage.PUBLIC],
        overdue_total=sum(overdue.values()),
        published_total=published,
    )
