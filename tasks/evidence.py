"""Evidence files (佐证材料): checked by content, hashed, stored outside the web root.

The type comes from the file's first bytes (magic numbers), never from its name or the
browser's Content-Type; the name's extension must agree with the content. Office files are
zip archives, checked by rectify/uploads.py: unpacked in a stream and refused past a size
limit or entry count (archive bombs), when a header lies, when a name climbs out of the
package, when encrypted, or when an XML part declares a DTD (XML bombs); macro-enabled ones
are refused here. Phone photos and video (HEIC/HEIF, MP4) have their box structure walked, OFD
documents must carry an OFD.xml whose root is ofd:OFD, and WPS files are either OLE2 compound
files (like .doc) or Office Open XML packages under WPS's own extensions. HEIC is kept and
served as it came (a download like every file here; nothing converts it). Storage writes happen outside database transactions;
`evidence_files_discard` removes them again when the database write fails.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from rectify.models import User
from rectify.uploads import (
    CONTENT_TYPES_PART,
    OFD_ROOT_PART,
    SNIFF_BYTES,
    MediaProblem,
    MediaRefused,
    ZipLimits,
    ZipProblem,
    ZipRefused,
    has_macros,
    media_check,
    ofd_root_is_sound,
    ooxml_kind,
    sniff,
    zip_entries,
    zip_unpack,
)
from tasks.models import Evidence, ProgressReport, SignoffStep, Task, Unit

_CHUNK = 64 * 1024
_MAX_ZIP_ENTRIES = 5000

# kind, MIME type, the extension it is stored with, the extensions a name may carry.
_IMAGE_TYPES = {
    "jpeg": (Evidence.Kind.IMAGE, "image/jpeg", "jpg", {"jpg", "jpeg"}),
    "png": (Evidence.Kind.IMAGE, "image/png", "png", {"png"}),
    "gif": (Evidence.Kind.IMAGE, "image/gif", "gif", {"gif"}),
    "webp": (Evidence.Kind.IMAGE, "image/webp", "webp", {"webp"}),
    "pdf": (Evidence.Kind.PDF, "application/pdf", "pdf", {"pdf"}),
    "heif": (Evidence.Kind.IMAGE, "image/heic", "heic", {"heic", "heif"}),
    "mp4": (Evidence.Kind.VIDEO, "video/mp4", "mp4", {"mp4"}),
}
_OFD = (Evidence.Kind.OFD, "application/ofd", "ofd", {"ofd"})
_MAX_OFD_ROOT = 1024 * 1024  # OFD.xml only points at the documents; real ones are a few KB
_OOXML = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_OLE2_TYPES = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    # WPS Office's own formats (文字, 表格, 演示), as its installers register them.
    "wps": "application/wps-office.wps",
    "et": "application/wps-office.et",
    "dps": "application/wps-office.dps",
}
# The newer WPS files are Office Open XML packages under WPS's extensions.
_WPS_OOXML = {"wps": "docx", "et": "xlsx", "dps": "pptx"}
ALLOWED_EXTENSIONS = sorted(
    {e for *_, names in _IMAGE_TYPES.values() for e in names} | set(_OOXML)
    | set(_OLE2_TYPES) | _OFD[3]
)


@dataclass(frozen=True)
class CheckedUpload:
    upload: UploadedFile
    name: str
    kind: str
    content_type: str
    extension: str
    size: int
    sha256: str


def _clean_name(raw: str) -> str:
    name = posixpath.basename((raw or "").replace("\\", "/"))
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".") or "file"
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 140] + dot + ext[:9]) if dot else name[:150]
    return name


def _name_extension(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def _zip_message(refused: ZipRefused, name: str) -> str:
    if refused.problem == ZipProblem.TOO_MANY_ENTRIES:
        return _("文件“%(name)s”包含的条目过多,疑似压缩炸弹,已拒收。") % {"name": name}
    if refused.problem in (ZipProblem.TOO_BIG_UNPACKED, ZipProblem.RATIO):
        return _("文件“%(name)s”解压后超过%(mb)s MB,疑似压缩炸弹,已拒收。") % {
            "name": name, "mb": settings.RECTIFY_EVIDENCE_MAX_UNPACKED // (1024 * 1024)}
    if refused.problem == ZipProblem.ENCRYPTED:
        return _("文件“%(name)s”已加密,无法检查,已拒收。") % {"name": name}
    if refused.problem == ZipProblem.UNSAFE_NAME:
        return _("文件“%(name)s”内部含有不安全的路径“%(entry)s”,已拒收。") % {"name": name, "entry": refused.entry}
    if refused.problem == ZipProblem.XML_DTD:
        return _("文件“%(name)s”的内部XML含有文档类型声明(可能是XML炸弹),已拒收。") % {"name": name}
    return _("文件“%(name)s”已损坏,无法读取。") % {"name": name}


def _media_message(refused: MediaRefused, name: str) -> str:
    if refused.problem == MediaProblem.HIDDEN_ZIP:
        return _("文件“%(name)s”的末尾藏有压缩包,已拒收。") % {"name": name}
    if refused.problem == MediaProblem.TRUNCATED:
        return _("文件“%(name)s”不完整(可能未传完),请重新上传。") % {"name": name}
    return _("文件“%(name)s”不是有效的HEIC照片或MP4视频,已拒收。") % {"name": name}


def _zip_type(upload: UploadedFile, name: str, name_ext: str) -> tuple[str, str, str, set[str]]:
    """(kind, MIME type, extension, allowed name extensions) of an Office Open XML, WPS or OFD
    file, after unpacking it safely."""
    limits = ZipLimits(max_entries=_MAX_ZIP_ENTRIES, max_unpacked=settings.RECTIFY_EVIDENCE_MAX_UNPACKED)
    try:
        entries = zip_entries(upload, limits)
        names = [e.filename for e in entries]
        is_ofd = OFD_ROOT_PART in names
        if not is_ofd and name_ext in _OFD[3]:
            raise ValidationError(_("文件“%(name)s”不是OFD文档(缺少OFD.xml),已拒收。") % {"name": name})
        if not is_ofd and CONTENT_TYPES_PART not in names:
            raise ValidationError(_("文件“%(name)s”是压缩包而不是Office文档,已拒收。") % {"name": name})
        if has_macros(names):
            raise ValidationError(_("文件“%(name)s”含有宏,不接收含宏的Office文档。") % {"name": name})
        ofd_root = b""
        for entry, chunk in zip_unpack(upload, entries, limits):
            if is_ofd and entry.filename == OFD_ROOT_PART:
                ofd_root += chunk
                if len(ofd_root) > _MAX_OFD_ROOT:
                    raise ValidationError(_("文件“%(name)s”不是有效的OFD文档,已拒收。") % {"name": name})
    except ZipRefused as refused:
        raise ValidationError(_zip_message(refused, name)) from None
    if is_ofd:
        if not ofd_root_is_sound(ofd_root, names):
            raise ValidationError(_("文件“%(name)s”不是有效的OFD文档,已拒收。") % {"name": name})
        return _OFD
    kind = ooxml_kind(names)
    if kind is None:
        raise ValidationError(_("文件“%(name)s”不是可识别的Office文档,已拒收。") % {"name": name})
    if _WPS_OOXML.get(name_ext) == kind:
        return Evidence.Kind.OFFICE, _OLE2_TYPES[name_ext], name_ext, {name_ext}
    return Evidence.Kind.OFFICE, _OOXML[kind], kind, {kind}


def evidence_check(upload: UploadedFile) -> CheckedUpload:
    """Accept an image, a video, a PDF, an OFD or an Office/WPS document by its content; raise
    in Chinese otherwise."""
    name = _clean_name(upload.name or "")
    size = upload.size or 0
    if size == 0:
        raise ValidationError(_("文件“%(name)s”是空文件。") % {"name": name})
    upload.seek(0)
    sniffed = sniff(upload.read(SNIFF_BYTES))
    if sniffed in ("heif", "mp4"):
        try:
            sniffed = media_check(upload)  # only seeks from box to box: cheap on any size
        except MediaRefused as refused:
            raise ValidationError(_media_message(refused, name)) from None
    limit = settings.RECTIFY_EVIDENCE_MAX_VIDEO_BYTES if sniffed == "mp4" else settings.RECTIFY_EVIDENCE_MAX_BYTES
    if size > limit:
        raise ValidationError(
            _("文件“%(name)s”超过大小上限(%(mb)s MB)。") % {"name": name, "mb": limit // (1024 * 1024)}
        )
    name_ext = _name_extension(name)
    if sniffed in _IMAGE_TYPES:
        kind, mime, ext, names = _IMAGE_TYPES[sniffed]
    elif sniffed == "zip":
        kind, mime, ext, names = _zip_type(upload, name, name_ext)
    elif sniffed == "ole2" and name_ext in _OLE2_TYPES:
        kind, mime, ext, names = Evidence.Kind.OFFICE, _OLE2_TYPES[name_ext], name_ext, {name_ext}
    else:
        raise ValidationError(
            _("文件“%(name)s”的内容不是允许的类型(JPG/PNG/GIF/WEBP/HEIC图片、MP4视频、PDF、OFD、"
              "Word/Excel/PowerPoint/WPS文档)。") % {"name": name}
        )
    if name_ext not in names:
        raise ValidationError(
            _("文件“%(name)s”的扩展名与内容不符(内容是.%(ext)s文件)。") % {"name": name, "ext": ext}
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks(_CHUNK):
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(upload=upload, name=name, kind=kind, content_type=mime, extension=ext,
                         size=size, sha256=digest.hexdigest())


def evidence_check_all(uploads: Sequence[UploadedFile]) -> list[CheckedUpload]:
    if len(uploads) > settings.RECTIFY_EVIDENCE_MAX_FILES:
        raise ValidationError(
            _("一次最多上传%(n)s个文件。") % {"n": settings.RECTIFY_EVIDENCE_MAX_FILES}
        )
    return [evidence_check(u) for u in uploads]


def evidence_files_store(*, task: Task, checked: Iterable[CheckedUpload]) -> list[str]:
    """Write the files to storage (no transaction open: storage may be slow or remote)."""
    stored: list[str] = []
    try:
        for item in checked:
            item.upload.seek(0)
            stored.append(default_storage.save(f"evidence/{task.pk}/{uuid.uuid4().hex}.{item.extension}",
                                               item.upload))
    except Exception:
        evidence_files_discard(stored)
        raise
    return stored


def evidence_files_discard(names: Iterable[str]) -> None:
    for name in names:
        default_storage.delete(name)


def evidence_rows_create(
    *, task: Task, unit: Unit, actor: User | None, checked: Sequence[CheckedUpload],
    stored: Sequence[str], report: ProgressReport | None = None, signoff_step: SignoffStep | None = None,
) -> list[Evidence]:
    now = timezone.now()
    rows = []
    for item, name in zip(checked, stored, strict=True):
        row = Evidence(
            task=task, unit=unit, report=report, signoff_step=signoff_step, uploaded_by=actor,
            file=name, original_name=item.name, kind=item.kind, content_type=item.content_type,
            size=item.size, sha256=item.sha256, uploaded_at=now,
        )
        row.full_clean()
        row.save()
        rows.append(row)
    return rows


def download_name(evidence: Evidence) -> str:
    """The name a download carries: the uploader's name, never with a misleading extension."""
    stem = re.sub(r"[\r\n\"]", "", evidence.original_name)
    return stem
