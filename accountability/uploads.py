"""Uploaded documents are judged by their content, not by the name or type the browser sent.

Office files are unpacked by rectify/uploads.py under this register's caps (entries, size,
compression ratio); macro-enabled ones are refused, as they are for evidence."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rectify.uploads import SNIFF_BYTES, ZipLimits, ZipProblem, ZipRefused, has_macros, ooxml_kind, sniff
from rectify.uploads import zip_check as shared_zip_check

# Caps for Office (zip) files: a small upload must not unpack into gigabytes.
ZIP_MAX_ENTRIES = 2000
ZIP_MAX_UNCOMPRESSED = 200 * 1024 * 1024
ZIP_MAX_RATIO = 200
ZIP_LIMITS = ZipLimits(max_entries=ZIP_MAX_ENTRIES, max_unpacked=ZIP_MAX_UNCOMPRESSED, max_ratio=ZIP_MAX_RATIO)


@dataclass(frozen=True)
class CheckedFile:
    kind: str
    extension: str
    content_type: str
    size: int
    sha256: str


# extension → (kind, content type)
_TYPES = {
    "pdf": ("pdf", "application/pdf"),
    "png": ("png", "image/png"),
    "jpg": ("jpeg", "image/jpeg"),
    "jpeg": ("jpeg", "image/jpeg"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "doc": ("ole", "application/msword"),
    "xls": ("ole", "application/vnd.ms-excel"),
}
ALLOWED_EXTENSIONS = tuple(sorted(_TYPES))


def upload_max_bytes() -> int:
    return int(settings.RECTIFY_ACCOUNTABILITY_UPLOAD_MAX_MB) * 1024 * 1024


# What the register says for each problem a zip can have (what: 文件, 工作簿…).
_ZIP_MESSAGES = {
    ZipProblem.NOT_A_ZIP: gettext_lazy("%(what)s已损坏,无法打开。"),
    ZipProblem.CORRUPT: gettext_lazy("%(what)s已损坏,无法解压。"),
    ZipProblem.TOO_MANY_ENTRIES: gettext_lazy("%(what)s内部条目过多(%(len)s个),拒绝处理。"),
    ZipProblem.TOO_BIG_UNPACKED: gettext_lazy("%(what)s解压后过大,拒绝处理。"),
    ZipProblem.RATIO: gettext_lazy("%(what)s的压缩比异常,拒绝处理。"),
    ZipProblem.ENCRYPTED: gettext_lazy("%(what)s已加密,无法检查,拒绝处理。"),
    ZipProblem.UNSAFE_NAME: gettext_lazy("%(what)s内部含有不安全的路径“%(entry)s”,拒绝处理。"),
    ZipProblem.XML_DTD: gettext_lazy("%(what)s的内部XML含有文档类型声明(可能是XML炸弹),拒绝处理。"),
}


def zip_check(data: bytes, *, what: str | None = None) -> list[str]:
    """The entry names of a zip (xlsx, docx…), after unpacking it with capped entries, size and
    ratio; refuses in Chinese (or the reader's language)."""
    what = what or _("文件")
    try:
        return shared_zip_check(io.BytesIO(data), ZIP_LIMITS)
    except ZipRefused as refused:
        message = str(_ZIP_MESSAGES[refused.problem])
        raise ValidationError(message % {"what": what, "len": refused.count, "entry": refused.entry}) from None


def _detect(head: bytes, data: bytes) -> str | None:
    detected = sniff(head)
    if detected in ("pdf", "png", "jpeg"):
        return detected
    if detected == "ole2":
        return "ole"
    if detected == "zip":
        names = zip_check(data)
        if has_macros(names):
            raise ValidationError("文件含有宏,不接收含宏的Office文档。")
        return ooxml_kind(names)
    return None


def document_check(upload: UploadedFile) -> tuple[CheckedFile, bytes]:
    """Refuse what is too big, empty, or not what its name says; return facts and bytes."""
    limit = upload_max_bytes()
    if upload.size is not None and upload.size > limit:
        raise ValidationError(_("文件超过%(v)sMB的上限。") % {"v": limit // (1024 * 1024)})
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(_("文件超过%(v)sMB的上限。") % {"v": limit // (1024 * 1024)})
    if not data:
        raise ValidationError(_("文件是空的。"))
    extension = PurePath(upload.name or "").suffix.lower().lstrip(".")
    if extension not in _TYPES:
        raise ValidationError(
            _("不支持的文件类型“.%(extension)s”;可上传:%(names)s。") % {"extension": extension, "names": _('、').join(ALLOWED_EXTENSIONS)}
        )
    expected_kind, content_type = _TYPES[extension]
    detected = _detect(data[:SNIFF_BYTES], data)
    if detected != expected_kind:
        raise ValidationError(_("文件内容与扩展名“.%(extension)s”不符,请上传真实的PDF、图片或Office文件。") % {"extension": extension})
    digest = hashlib.sha256(data).hexdigest()
    return CheckedFile(detected, extension, content_type, len(data), digest), data
