"""The register's helpers and fixtures, shared by its tests with
`from tests.accountability.acc_helpers import *` (the star brings the fixtures `case` and
`admin_acc_officer`).

The register's users (acc_officer, office_head, publicity_officer) are in the shared cast
(tests/cast.py, fixtures in tests/conftest.py); here: the officer as admin staff and a case.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from accountability.models import Case, CaseSource
from accountability.services import case_create
from rectify.models import User
from tasks.models import Region, Unit

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


@pytest.fixture
def admin_acc_officer(acc_officer) -> User:
    """The officer as admin staff with view permissions on the register."""
    acc_officer.is_staff = True
    acc_officer.save()
    acc_officer.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="accountability", codename__startswith="view_")
    )
    return acc_officer


@pytest.fixture
def case(acc_officer) -> Case:
    return case_create(
        actor=acc_officer, reference="移交问题清单第9项", source=CaseSource.TRANSFERRED,
        title="某县违规审批问题", problem_text="督察发现某县违规审批采矿项目,整改不力。",
        transferred_on=dt.date(2018, 1, 10), region=Region.objects.get(name="昔阳县"),
        units=[Unit.objects.get(name="晋中市政府")], handling_authority="晋中市纪委市监委",
    )
