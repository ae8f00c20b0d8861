"""Every write to the register: the stage machine, persons, documents, the public summary.

Stages move one step forward at a time (线索交办 → 问题核查 → 审核处理建议 → 沟通问责情况 →
落实处理意见 → 向社会公开), only by the accountability group, each step with its date,
handler, note and documents. A case may go back to any earlier stage, with a reason. Every
refusal is a ValidationError with a Chinese reason, raised before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accountability.access import user_may_handle_cases, user_may_review_publication
from accountability.models import (
    STAGE_ORDER,
    AccountablePerson,
    Case,
    CaseDocument,
    CaseSource,
    Outcome,
    PublicField,
    PublicResult,
    Rank,
    Stage,
    StageRecord,
    stage_index,
)
from accountability.public import public_entry_freeze
from rectify.i18n import date_long
from rectify.models import User
from tasks.lights import task_days_overdue
from tasks.models import Region, Task, TaskChange, TaskUnit, Unit
from tasks.services import StaleEditError, unit_create

from .uploads import CheckedFile, document_check

FALSE_CLOSURE_NOTE = "回头看重新打开"  # how tasks.services.task_reopen marks its history


def _require_handler(actor: User | None) -> None:
    if not user_may_handle_cases(actor):
        raise ValidationError(_("只有责任追究组成员可以办理责任追究问题。"), code="forbidden_role")


def _lock(case: Case, expected_version: int | None) -> Case:
    current = Case.objects.select_for_update().get(pk=case.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleEditError(_("该问题已被他人办理,请查看最新情况后再提交。"), code="stale")
    return current


def _bump(case: Case, *also: Case) -> Case:
    """Count the write in the case's version; refresh the caller's instance(s) too."""
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1, updated_at=timezone.now())
    for instance in (case, *also):
        instance.refresh_from_db()
    return case


def _check_day(on: dt.date, *, not_before: dt.date | None, what: str) -> None:
    today = timezone.localdate()
    if on > today:
        raise ValidationError(_("%(what)s不能晚于今天(%(today)s)。") % {"what": what, "today": date_long(today)})
    if not_before and on < not_before:
        raise ValidationError(_("%(what)s不能早于上一阶段的日期(%(not_before)s)。") % {"what": what, "not_before": date_long(not_before)})


# --- Documents ----------------------------------------------------------------


@dataclass(frozen=True)
class DocumentUpload:
    title: str
    file: UploadedFile


@dataclass(frozen=True)
class _StoredFile:
    title: str
    original_name: str
    checked: CheckedFile
    name: str
    created: bool  # written by this upload, not already there for another document


def _store_files(uploads: Iterable[DocumentUpload]) -> list[_StoredFile]:
    """Check every file first, then write them (outside the transaction: storage may be slow).
    Names are their SHA-256, so a re-upload reuses the file; `_discard_files` removes what a
    refused write left behind."""
    checked: list[tuple[DocumentUpload, CheckedFile, bytes]] = []
    for upload in uploads:
        try:
            facts, data = document_check(upload.file)
        except ValidationError as exc:
            raise ValidationError(f"{upload.file.name}:{exc.messages[0]}") from None
        checked.append((upload, facts, data))
    stored = []
    for upload, facts, data in checked:
        name = f"accountability/{facts.sha256[:2]}/{facts.sha256}.{facts.extension}"
        created = not default_storage.exists(name)
        if created:
            name = default_storage.save(name, ContentFile(data))
        title = (upload.title or "").strip() or (upload.file.name or "材料")
        stored.append(_StoredFile(title[:200], (upload.file.name or "")[:255], facts, name, created))
    return stored


def _discard_files(files: Sequence[_StoredFile]) -> None:
    """The files this upload wrote, after the database refused it (a stale page, a skipped
    stage): nothing of a refused upload stays, unless a document has come to use the file."""
    for f in files:
        if f.created and not CaseDocument.objects.filter(file=f.name).exists():
            default_storage.delete(f.name)


def _documents_create(
    *, case: Case, actor: User | None, files: Sequence[_StoredFile], record: StageRecord | None,
) -> list[CaseDocument]:
    docs = []
    for f in files:
        doc = CaseDocument(
            case=case, stage_record=record, stage=case.stage, title=f.title,
            file=f.name, original_name=f.original_name, content_type=f.checked.content_type,
            size=f.checked.size, sha256=f.checked.sha256, uploaded_by=actor,
        )
        doc.full_clean()
        doc.save()
        docs.append(doc)
    return docs


def document_add(
    *, case: Case, actor: User | None, uploads: Sequence[DocumentUpload],
    expected_version: int | None = None,
) -> list[CaseDocument]:
    _require_handler(actor)
    if not uploads:
        raise ValidationError(_("请选择要上传的文件。"))
    files = _store_files(uploads)
    try:
        with transaction.atomic():
            current = _lock(case, expected_version)
            docs = _documents_create(case=current, actor=actor, files=files, record=None)
            _bump(current, case)
    except Exception:
        _discard_files(files)
        raise
    return docs


# --- Cases ----------------------------------------------------------------------


@dataclass(frozen=True)
class NewUnit:
    """A unit a case names that the unit table lacks, with the region it belongs to."""

    name: str
    region: Region


def case_units_add(*, actor: User | None, new_units: Sequence[NewUnit]) -> list[Unit]:
    """Add the units a case names to the unit table (recorded in the units' history); only the
    accountability group may, and only while registering or correcting a case."""
    _require_handler(actor)
    return [unit_create(actor=actor, name=u.name, region=u.region) for u in new_units]


@transaction.atomic
def case_create(
    *, actor: User | None, reference: str, source: str, title: str, problem_text: str,
    transferred_on: dt.date, region: Region | None = None, units: Iterable[Unit] = (),
    tasks: Iterable[Task] = (), handling_authority: str = "", note: str = "",
    new_units: Sequence[NewUnit] = (),
) -> Case:
    """Register a case at 线索交办; its stage trail starts with the clue's date. `new_units`
    are added to the unit table first, in the same transaction."""
    _require_handler(actor)
    reference = reference.strip()
    if not reference:
        raise ValidationError(_("请填写问题编号。"))
    if Case.objects.filter(reference=reference).exists():
        raise ValidationError(_("编号“%(reference)s”已登记,不能重复登记。") % {"reference": reference})
    if not problem_text.strip():
        raise ValidationError(_("请填写移交的问题原文。"))
    _check_day(transferred_on, not_before=None, what=_("交办日期"))
    case = Case(
        reference=reference, source=source, title=(title.strip() or problem_text.strip()[:60])[:200],
        problem_text=problem_text.strip(), region=region, handling_authority=handling_authority.strip(),
        transferred_on=transferred_on, stage=Stage.CLUE, stage_entered_on=transferred_on,
        created_by=actor,
    )
    case.full_clean()
    case.save()
    case.units.set([*units, *case_units_add(actor=actor, new_units=new_units)])
    case.tasks.set(list(tasks))
    StageRecord.objects.create(
        case=case, kind=StageRecord.Kind.OPENED, stage=Stage.CLUE, on=transferred_on,
        handler=actor, note=note.strip() or f"登记({CaseSource(source).label})",
    )
    return case


@transaction.atomic
def case_update(
    *, case: Case, actor: User | None, title: str, problem_text: str, region: Region | None,
    units: Iterable[Unit], tasks: Iterable[Task], handling_authority: str,
    expected_version: int | None = None, new_units: Sequence[NewUnit] = (),
) -> Case:
    """Correct a case's description. Its reference, source and dates are its identity and
    its trail: they do not change here."""
    _require_handler(actor)
    current = _lock(case, expected_version)
    if not problem_text.strip():
        raise ValidationError(_("请填写移交的问题原文。"))
    current.title = (title.strip() or problem_text.strip()[:60])[:200]
    current.problem_text = problem_text.strip()
    current.region = region
    current.handling_authority = handling_authority.strip()
    current.full_clean()
    current.save(update_fields=["title", "problem_text", "region", "handling_authority", "updated_at"])
    current.units.set([*units, *case_units_add(actor=actor, new_units=new_units)])
    current.tasks.set(list(tasks))
    _bump(current, case)
    public_result_sources_changed(case=current)
    return current


def case_raise_from_task(
    *, actor: User | None, task: Task, source: str, reference: str, problem_text: str,
    title: str = "", handling_authority: str = "", on: dt.date | None = None,
) -> Case:
    """Raise a case from the ledger: a task overdue beyond the threshold, a closure found
    false by a look-back check (回头看), or a supervision finding."""
    _require_handler(actor)
    on = on or timezone.localdate()
    if source == CaseSource.TASK_OVERDUE:
        threshold = settings.RECTIFY_ACCOUNTABILITY_OVERDUE_DAYS
        days = task_days_overdue(task, on)
        if days < threshold:
            raise ValidationError(
                _("任务%(number)s逾期%(days)s天,未超过%(threshold)s天的问责时限,不能以“整改任务逾期”立案。") % {"number": task.number, "days": days, "threshold": threshold}
            )
    elif source == CaseSource.FALSE_CLOSURE:
        reopened = TaskChange.objects.filter(
            task=task, field="status", note__startswith=FALSE_CLOSURE_NOTE
        ).exists()
        if not reopened:
            raise ValidationError(_("任务%(number)s没有“回头看”重新打开的记录,不能以“虚假销号”立案。") % {"number": task.number})
    elif source != CaseSource.SUPERVISION:
        raise ValidationError(_("从台账发起的问题,来源只能是任务逾期、虚假销号或督办发现。"))
    task_units = list(
        task.task_units.exclude(role=TaskUnit.Role.SUPPORTING).select_related("unit__region")
    )
    lead = next((tu for tu in task_units if tu.role == TaskUnit.Role.LEAD), None)
    return case_create(
        actor=actor, reference=reference, source=source, title=title or f"任务{task.number}:{task.title}",
        problem_text=problem_text, transferred_on=on, region=lead.unit.region if lead else None,
        units=[tu.unit for tu in task_units], tasks=[task], handling_authority=handling_authority,
    )


def _persons_undecided(case: Case) -> list[AccountablePerson]:
    return [p for p in case.persons.all() if not p.is_decided]


def _advance_check(case: Case, actor: User | None, to_stage: str, on: dt.date) -> None:
    _require_handler(actor)
    if to_stage not in Stage.values:
        raise ValidationError(_("目标阶段无效。"))
    current, target = Stage(case.stage), Stage(to_stage)
    nxt = case.next_stage
    if nxt is None:
        raise ValidationError(_("该问题已向社会公开,办理阶段已全部完成。"))
    if target != nxt:
        raise ValidationError(
            _("不能跳过办理阶段:当前为“%(current)s”,下一阶段只能是“%(nxt)s”,不能直接进入“%(target)s”。") % {"current": current.label, "nxt": nxt.label, "target": target.label}
        )
    _check_day(on, not_before=case.stage_entered_on, what=_("阶段日期"))
    if stage_index(target) >= stage_index(Stage.EXECUTION):
        if not case.persons.exists():
            raise ValidationError(_("进入“落实处理意见”前,须登记至少一名被问责人及其处理结果。"))
        undecided = _persons_undecided(case)
        if undecided:
            names = "、".join(p.name for p in undecided)
            raise ValidationError(_("以下被问责人尚未填写职级或处理结果,不能进入“%(target)s”:%(names)s。") % {"target": target.label, "names": names})
    if target == Stage.PUBLIC:
        result = PublicResult.objects.filter(case=case).first()
        if result is None or not result.summary.strip():
            raise ValidationError(_("进入“向社会公开”前,须拟定公开摘要并选定可公开的字段。"))


def case_advance(
    *, case: Case, actor: User | None, to_stage: str, on: dt.date, note: str = "",
    documents: Sequence[DocumentUpload] = (), expected_version: int | None = None,
) -> StageRecord:
    """Move a case one stage forward, with the stage's date, note and documents."""
    _advance_check(case, actor, to_stage, on)
    files = _store_files(documents)  # outside the transaction: see _store_files
    try:
        with transaction.atomic():
            current = _lock(case, expected_version)
            _advance_check(current, actor, to_stage, on)  # again, under the row lock
            record = StageRecord.objects.create(
                case=current, kind=StageRecord.Kind.ADVANCED, from_stage=current.stage, stage=to_stage,
                on=on, handler=actor, note=note.strip(),
            )
            current.stage, current.stage_entered_on = to_stage, on
            current.save(update_fields=["stage", "stage_entered_on", "updated_at"])
            _documents_create(case=current, actor=actor, files=files, record=record)
            _bump(current, case)
    except Exception:
        _discard_files(files)
        raise
    return record


@transaction.atomic
def case_return(
    *, case: Case, actor: User | None, to_stage: str, on: dt.date, reason: str,
    expected_version: int | None = None,
) -> StageRecord:
    """Send a case back to an earlier stage; the reason is required and kept in the trail."""
    _require_handler(actor)
    if not reason.strip():
        raise ValidationError(_("退回到之前的阶段必须说明原因。"))
    current = _lock(case, expected_version)
    if to_stage not in Stage.values or stage_index(to_stage) >= current.stage_index:
        raise ValidationError(_("只能退回到“%(stage)s”之前的阶段。") % {"stage": Stage(current.stage).label})
    _check_day(on, not_before=current.stage_entered_on, what=_("退回日期"))
    record = StageRecord.objects.create(
        case=current, kind=StageRecord.Kind.RETURNED, from_stage=current.stage, stage=to_stage,
        on=on, handler=actor, reason=reason.strip(),
    )
    if current.stage == Stage.PUBLIC:
        # Withdrawn from the public page until published and approved again.
        PublicResult.objects.filter(case=current).update(
            status=PublicResult.Status.DRAFT, published_on=None, published_entry=None, reviewed_by=None, reviewed_at=None,
            version=F("version") + 1,
        )
    current.stage, current.stage_entered_on = to_stage, on
    current.save(update_fields=["stage", "stage_entered_on", "updated_at"])
    _bump(current, case)
    return record


# --- Persons ----------------------------------------------------------------------


@transaction.atomic
def person_save(
    *, case: Case, actor: User | None, name: str, position: str, unit_name: str,
    rank: str = "", outcome: str = "", decided_on: dt.date | None = None, deciding_body: str = "",
    person: AccountablePerson | None = None, expected_version: int | None = None,
) -> AccountablePerson:
    """Add or correct a person held accountable. Once the decision is being carried out
    (落实处理意见 and after) a person must have rank and outcome."""
    _require_handler(actor)
    current = _lock(case, expected_version)
    if person is not None and person.case_id != current.pk:
        raise ValidationError(_("被问责人不属于该问题。"))
    if rank and rank not in Rank.values:
        raise ValidationError(_("职级无效。"))
    if outcome and outcome not in Outcome.values:
        raise ValidationError(_("处理结果无效。"))
    if current.stage_index >= stage_index(Stage.EXECUTION) and not (rank and outcome):
        raise ValidationError(
            _("该问题已进入“%(stage)s”,被问责人须填写职级和处理结果。") % {"stage": Stage(current.stage).label}
        )
    if outcome and not (decided_on and deciding_body.strip()):
        raise ValidationError(_("填写处理结果时,须同时填写处理日期和决定机关。"))
    if decided_on:
        _check_day(decided_on, not_before=None, what=_("处理日期"))
    person = person or AccountablePerson(case=current)
    person.name, person.position, person.unit_name = name.strip(), position.strip(), unit_name.strip()
    person.rank, person.outcome = rank, outcome
    person.decided_on, person.deciding_body = decided_on, deciding_body.strip()
    person.full_clean()
    person.save()
    _bump(current, case)
    public_result_sources_changed(case=current)
    return person


@transaction.atomic
def person_delete(
    *, person: AccountablePerson, actor: User | None, expected_version: int | None = None,
) -> None:
    _require_handler(actor)
    current = _lock(person.case, expected_version)
    if current.stage_index >= stage_index(Stage.EXECUTION):
        raise ValidationError(_("处理意见已在落实,不能删除被问责人;如需更正,请先将问题退回到之前的阶段。"))
    person.delete()
    _bump(current, person.case)
    public_result_sources_changed(case=current)


# --- Public result ----------------------------------------------------------------


def public_result_sources_changed(*, case: Case) -> PublicResult | None:
    """After a write to a case: if what its approved result would now publish differs from the
    approved copy, the result becomes a draft for the publicity group again. The approved copy
    keeps showing until then. Called inside the writing service's transaction."""
    result = PublicResult.objects.select_for_update().filter(
        case=case, status=PublicResult.Status.APPROVED).first()
    if result is None or public_entry_freeze(result, case) == result.published_entry:
        return None
    result.status = PublicResult.Status.DRAFT
    result.reviewed_by, result.reviewed_at = None, None
    result.review_note = _("公开内容的来源(问题或被问责人)已修改,需重新审核后才更新公开页面。")
    result.version += 1
    result.save()
    return result


def _summary_check(case: Case, summary: str, released: Sequence[str]) -> None:
    """The summary may not name what the decision did not release."""
    if not summary.strip():
        raise ValidationError(_("请填写公开摘要。"))
    unknown = set(released) - set(PublicField.values)
    if unknown:
        raise ValidationError(_("可公开字段无效。"))
    if PublicField.PERSON_NAMES not in released:
        named = [p.name for p in case.persons.all() if p.name and p.name in summary]
        if named:
            raise ValidationError(
                _("公开摘要中出现了未决定公开的被问责人姓名:%(names)s。请删去,或在可公开字段中勾选姓名。") % {"names": _('、').join(named)}
            )


@transaction.atomic
def public_result_prepare(
    *, case: Case, actor: User | None, summary: str, released_fields: Sequence[str],
    expected_version: int | None = None,
) -> PublicResult:
    """Draft (or redraft) the summary the decision allows to publish; it then waits for the
    publicity group's approval, even if an earlier draft was approved."""
    _require_handler(actor)
    current = _lock(case, expected_version)
    if current.stage_index < stage_index(Stage.EXECUTION):
        raise ValidationError(_("处理意见落实后(“落实处理意见”阶段起)才能拟定公开摘要。"))
    released = [f for f in PublicField.values if f in set(released_fields)]
    _summary_check(current, summary, released)
    result = PublicResult.objects.filter(case=current).first() or PublicResult(case=current)
    result.summary, result.released_fields = summary.strip(), released
    result.status, result.prepared_by = PublicResult.Status.DRAFT, actor
    result.reviewed_by = result.reviewed_at = None  # the approved copy (if any) keeps showing
    result.review_note = ""
    if result.pk:
        result.version += 1
    result.full_clean()
    result.save()
    _bump(current, case)
    return result


def _review_lock(result: PublicResult, actor: User | None, expected_version: int | None) -> PublicResult:
    if not user_may_review_publication(actor):
        raise ValidationError(_("只有宣传报道组可以审核公开结果。"), code="forbidden_role")
    current = PublicResult.objects.select_for_update().select_related("case").get(pk=result.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleEditError(_("公开摘要已被修改,请查看最新内容后再审核。"), code="stale")
    if current.status != PublicResult.Status.DRAFT:
        raise ValidationError(_("该公开摘要不在待审核状态。"))
    return current


@transaction.atomic
def public_result_approve(
    *, result: PublicResult, actor: User | None, expected_version: int | None = None,
    note: str = "",
) -> PublicResult:
    current = _review_lock(result, actor, expected_version)
    if current.case.stage != Stage.PUBLIC:
        raise ValidationError(_("问题尚未进入“向社会公开”阶段,不能批准公开。"))
    _summary_check(current.case, current.summary, current.released_fields)
    current.status = PublicResult.Status.APPROVED
    current.reviewed_by, current.reviewed_at = actor, timezone.now()
    current.review_note = note.strip()
    current.published_on = timezone.localdate()
    current.published_entry = public_entry_freeze(current, current.case)  # what /public/ shows
    current.version += 1
    current.save()
    return current


@transaction.atomic
def public_result_reject(
    *, result: PublicResult, actor: User | None, note: str, expected_version: int | None = None,
) -> PublicResult:
    if not note.strip():
        raise ValidationError(_("退回修改必须说明原因。"))
    current = _review_lock(result, actor, expected_version)
    current.status = PublicResult.Status.REJECTED
    current.reviewed_by, current.reviewed_at = actor, timezone.now()
    current.review_note = note.strip()
    current.version += 1
    current.save()
    return current


__all__ = [
    "STAGE_ORDER",
    "DocumentUpload",
    "case_advance",
    "case_create",
    "case_update",
    "case_raise_from_task",
    "case_return",
    "document_add",
    "person_delete",
    "person_save",
    "public_result_approve",
    "public_result_prepare",
    "public_result_reject",
    "public_result_sources_changed",
]
