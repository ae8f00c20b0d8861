"""Demo cases for the register: a few transferred problems at different stages, persons held
accountable, and one case made public with an approved summary. All names are invented.

Written through the services, as the demo users 'accountability' and 'publicity' (created by
tasks.demo.demo_users_ensure). Dates are placed relative to the plan's feedback date, so they
follow the shift that tasks.demo applies.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accountability.models import STAGE_ORDER, Case, CaseSource, Outcome, PublicField, Rank, Stage
from accountability.services import (
    case_advance,
    case_create,
    person_save,
    public_result_approve,
    public_result_prepare,
)
from rectify.models import User
from tasks.models import Plan, Region, Task, Unit

_STAGE_NOTES = {
    Stage.VERIFICATION: "成立核查组,调阅审批档案,现场核查并询问有关人员。",
    Stage.PROPOSAL_REVIEW: "核查报告及处理建议报省责任追究组审核。",
    Stage.COMMUNICATION: "与干部管理权限机关沟通问责情况,听取被问责人陈述。",
    Stage.EXECUTION: "处理决定已送达,处分决定存入本人档案。",
    Stage.PUBLIC: "经批准向社会公开问责结果。",
}

# (reference, title, problem text, region, units, task numbers, authority, final stage, persons)
_CASES = (
    (
        "移交问题清单第1项",
        "某市违规审批煤矿项目,生态破坏问题长期未整改",
        "督察发现,有关部门在未落实生态修复方案的情况下审批煤矿改扩建项目,采空区生态破坏问题长期未得到整改。",
        "晋中市", ("省煤炭工业厅", "晋中市政府"), (), "省纪委省监委", Stage.PUBLIC,
        (("王某某", "晋中市某县副县长", Rank.DIVISION, "某县人民政府", Outcome.PARTY_WARNING),
         ("李某某", "某县煤炭局局长", Rank.SECTION, "某县煤炭局", Outcome.ADMIN_DEMERIT)),
    ),
    (
        "移交问题清单第2项",
        "汾河流域某县污水处理厂长期超标排放",
        "督察发现,某县污水处理厂长期超标排放,主管部门监管不力,整改敷衍。",
        "临汾市", ("临汾市政府", "省住房城乡建设厅"), (), "临汾市纪委市监委", Stage.EXECUTION,
        (("赵某某", "某县住建局局长", Rank.SECTION, "某县住建局", Outcome.ADMONISHING_TALK),),
    ),
    (
        "移交问题清单第3项",
        "自然保护区内违规开采问题查处不力",
        "督察发现,省级自然保护区内仍有采石场违规开采,有关部门查处不力。",
        "忻州市", ("忻州市政府", "省林业厅"), (), "忻州市纪委市监委", Stage.PROPOSAL_REVIEW,
        (("孙某某", "某县林业局副局长", "", "某县林业局", ""),),
    ),
    (
        "移交问题清单第4项",
        "大气污染防治工作不力,散乱污企业反弹",
        "督察发现,某市散乱污企业整治不彻底,关停后又死灰复燃。",
        "太原市", ("太原市政府",), (), "太原市纪委市监委", Stage.CLUE, (),
    ),
)


@transaction.atomic
def accountability_demo_load(*, today: dt.date | None = None) -> int:
    """Create the demo cases once; returns how many were created (0 if already there)."""
    today = today or timezone.localdate()
    handler = User.objects.filter(username="accountability").first()
    reviewer = User.objects.filter(username="publicity").first()
    plan = Plan.objects.order_by("-issued_on").first()
    if handler is None or plan is None or Case.objects.exists():
        return 0
    start = min(max((plan.feedback_on or plan.issued_on) + dt.timedelta(days=45), today - dt.timedelta(days=70)), today)
    regions = {r.name: r for r in Region.objects.filter(level=Region.Level.CITY)}
    units = {u.name: u for u in Unit.objects.all()}
    accountability_task = Task.objects.filter(plan=plan, measure__number=15).first()
    created = 0
    for i, (ref, title, text, region, unit_names, _, authority, final, persons) in enumerate(_CASES):
        day = start + dt.timedelta(days=3 * i)
        case = case_create(
            actor=handler, reference=ref, source=CaseSource.TRANSFERRED, title=title,
            problem_text=text, transferred_on=day, region=regions.get(region),
            units=[units[n] for n in unit_names if n in units],
            tasks=[accountability_task] if accountability_task else [], handling_authority=authority,
        )
        created += 1
        people = []
        for stage in STAGE_ORDER[1 : STAGE_ORDER.index(final) + 1]:
            day = min(day + dt.timedelta(days=12), today)
            if stage == Stage.VERIFICATION:  # verification names the persons responsible
                people = [
                    person_save(case=case, actor=handler, name=name, position=position, rank=rank,
                                unit_name=unit)
                    for name, position, rank, unit, _ in persons
                ]
            if stage == Stage.EXECUTION:  # the decisions, with their date and deciding body
                for person, (name, position, rank, unit, outcome) in zip(people, persons, strict=True):
                    person_save(case=case, actor=handler, person=person, name=name, position=position,
                                rank=rank, unit_name=unit, outcome=outcome, decided_on=day,
                                deciding_body=authority)
            if stage == Stage.PUBLIC:
                public_result_prepare(
                    case=case, actor=handler,
                    summary="经调查核实,有关责任人员对违规审批和整改不力问题负有责任,已依规依纪依法作出处理。",
                    released_fields=[PublicField.TITLE, PublicField.REGION, PublicField.PERSONS_COUNT,
                                     PublicField.OUTCOMES, PublicField.DECIDED_ON],
                )
            case_advance(case=case, actor=handler, to_stage=stage, on=day, note=_STAGE_NOTES[stage])
            case.refresh_from_db()
            if stage == Stage.PUBLIC and reviewer is not None:
                public_result_approve(result=case.public_result, actor=reviewer)
    return created
