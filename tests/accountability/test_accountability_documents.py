"""Documents are judged by content: PDF, PNG/JPEG, Office; size capped; SHA-256 kept."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from accountability.models import CaseDocument
from accountability.services import DocumentUpload, document_add
from tests.accountability.acc_helpers import *  # noqa: F403 (the register's cast: fixtures and helpers)
from tests.accountability.acc_helpers import PDF, PNG, docx_bytes, upload
from tests.hostile_zips import BILLION_LAUGHS, encrypted_flag, header_lies, ooxml, with_names

pytestmark = pytest.mark.django_db


def add(case, user, name, data):
    return document_add(case=case, actor=user, uploads=[DocumentUpload("", upload(name, data))])


@pytest.mark.parametrize(("name", "data", "content_type"), [
    ("报告.pdf", PDF, "application/pdf"),
    ("现场.png", PNG, "image/png"),
    ("现场.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 32, "image/jpeg"),
    ("决定.docx", docx_bytes(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("旧版.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 32, "application/msword"),
])
def test_real_files_are_kept_with_their_digest(case, acc_officer, name, data, content_type):
    [doc] = add(case, acc_officer, name, data)
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert doc.content_type == content_type and doc.size == len(data) and doc.original_name == name
    with doc.file.open("rb") as fh:
        assert fh.read() == data


@pytest.mark.parametrize(("name", "data", "message"), [
    ("报告.pdf", b"<html><script>alert(1)</script>", "内容与扩展名"),
    ("报告.pdf", PNG, "内容与扩展名"),
    ("照片.png", PDF, "内容与扩展名"),
    ("决定.docx", b"PK\x03\x04garbage", "已损坏"),
    ("决定.docx", b"", "空的"),
    ("程序.exe", b"MZ\x90\x00", "不支持的文件类型"),
    ("网页.html", b"<html></html>", "不支持的文件类型"),
    ("无扩展名", PDF, "不支持的文件类型"),
])
def test_files_that_are_not_what_they_say_are_refused(case, acc_officer, name, data, message):
    with pytest.raises(ValidationError, match=message):
        add(case, acc_officer, name, data)
    assert not CaseDocument.objects.exists()


def test_a_docx_that_is_really_an_xlsx_is_refused(case, acc_officer):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ValidationError, match="内容与扩展名"):
        add(case, acc_officer, "决定.docx", out.getvalue())


def test_a_zip_bomb_is_refused(case, acc_officer):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\x00" * (5 * 1024 * 1024))
    with pytest.raises(ValidationError, match="压缩比异常"):
        add(case, acc_officer, "决定.docx", out.getvalue())


def _five_mb_document() -> bytes:
    return ooxml("docx", {"word/media/filler.bin": b"\x00" * (5 * 1024 * 1024)})


@pytest.mark.parametrize(("data", "message"), [
    # Each of these was kept before: the sizes came from the headers and nothing was unpacked.
    (header_lies(_five_mb_document(), "word/media/filler.bin", file_size=1000), "压缩比异常"),
    (header_lies(ooxml("docx", {"word/a.xml": "x" * 1000}), "word/a.xml", file_size=900), "已损坏"),
    (encrypted_flag(ooxml("docx"), "word/document.xml"), "已加密"),
    (ooxml("docx", {"word/vbaProject.bin": b"x"}), "含有宏"),
    (ooxml("docx", {"word/document.xml": BILLION_LAUGHS + "<w>&lol9;</w>"}), "文档类型声明"),
    (with_names("../../../etc/cron.d/x.xml"), "不安全的路径"),
])
def test_office_files_are_unpacked_and_checked_not_judged_by_their_headers(case, acc_officer, data, message):
    with pytest.raises(ValidationError, match=message):
        add(case, acc_officer, "决定.docx", data)
    assert not CaseDocument.objects.exists()


@override_settings(RECTIFY_ACCOUNTABILITY_UPLOAD_MAX_MB=1)
def test_size_is_capped(case, acc_officer):
    with pytest.raises(ValidationError, match="1MB"):
        add(case, acc_officer, "大.pdf", PDF + b"0" * (1024 * 1024))
    assert not CaseDocument.objects.exists()


def test_upload_page_shows_the_reason_escaped(client, case, acc_officer):
    client.force_login(acc_officer)
    response = client.post(reverse("accountability:document_upload", args=[case.pk]), {
        "title": "<i>材料</i>", "version": case.version,
        "file": upload("<script>.pdf", b"<script>alert(1)</script>"),
    })
    assert response.status_code == 400
    text = response.content.decode()
    assert "内容与扩展名" in text and "&lt;script&gt;.pdf" in text and "&lt;i&gt;材料&lt;/i&gt;" in text
    assert "<script>" not in text and "<i>" not in text
    assert not CaseDocument.objects.exists()


def test_upload_page_accepts_a_pdf(client, case, acc_officer):
    client.force_login(acc_officer)
    response = client.post(reverse("accountability:document_upload", args=[case.pk]), {
        "title": "核查报告", "version": case.version, "file": upload(),
    })
    assert response.status_code == 302
    assert CaseDocument.objects.get().title == "核查报告"
