"""Helpers shared by the register's tests (imported by name: tests/ is not a package)."""

from __future__ import annotations

import io
import zipfile

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from rectify.models import User
from rectify.roles import Role
from tasks.models import Unit

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def upload(name: str = "核查报告.pdf", data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def cast_user(username: str, *roles: Role, unit: Unit | None = None, **extra) -> User:
    user = User.objects.create_user(username=username, password="pw-for-tests", unit=unit,
                                    full_name=username, **extra)
    user.groups.add(*(Group.objects.get_or_create(name=r.value)[0] for r in roles))
    return user
