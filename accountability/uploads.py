"""Uploaded documents are judged by their content, not by the name or type the browser sent."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

# Caps for Office (zip) files: a small upload must not unpack into gigabytes.
ZIP_MAX_ENTRIES = 2000
ZIP_MAX_UNCOMPRESSED = 200 * 1024 * 1024
ZIP_MAX_RATIO = 200


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
_OOXML_PART = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}


def upload_max_bytes() -> int:
    return int(settings.RECTIFY_ACCOUNTABILITY_UPLOAD_MAX_MB) * 1024 * 1024


def zip_check(data: bytes, *, what: str | None = None) -> zipfile.ZipFile:
    """Open a zip (xlsx, docx…) only after capping its entries and unpacked size."""
    what = what or _("文件")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ValidationError(_("%(what)s已损坏,无法打开。") % {"what": what}) from None
    infos = archive.infolist()
    if len(infos) > ZIP_MAX_ENTRIES:
        raise ValidationError(_("%(what)s内部条目过多(%(len)s个),拒绝处理。") % {"what": what, "len": len(infos)})
    total = 0
    for info in infos:
        total += info.file_size
        if info.compress_size and info.file_size / info.compress_size > ZIP_MAX_RATIO:
            raise ValidationError(_("%(what)s的压缩比异常,拒绝处理。") % {"what": what})
    if total > ZIP_MAX_UNCOMPRESSED:
        raise ValidationError(_("%(what)s解压后过大,拒绝处理。") % {"what": what})
    return archive


def _detect(head: bytes, data: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        archive = zip_check(data)
        names = set(archive.namelist())
        if "[Content_Types].xml" not in names:
            return None
        for kind, prefix in _OOXML_PART.items():
            if any(n.startswith(prefix) for n in names):
                return kind
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
    detected = _detect(data[:16], data)
    if detected != expected_kind:
        raise ValidationError(_("文件内容与扩展名“.%(extension)s”不符,请上传真实的PDF、图片或Office文件。") % {"extension": extension})
    digest = hashlib.sha256(data).hexdigest()
    return CheckedFile(detected, extension, content_type, len(data), digest), data
