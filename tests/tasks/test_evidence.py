"""Evidence files: type by content, size limit, archive bombs, digests, safe downloads."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tasks.evidence import evidence_check
from tasks.models import Evidence, ProgressReport, Task, TaskChange
from tasks.services import task_report_progress
from tests.hostile_zips import BILLION_LAUGHS, header_lies, ooxml, with_names
from tests.workspace_files import docx_bomb, docx_bytes, exe_as_jpeg, pdf, png, png_bytes, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_storage")]


def test_real_png_pdf_and_docx_are_accepted_by_content():
    checked = evidence_check(png())
    assert (checked.kind, checked.content_type, checked.extension) == ("IMAGE", "image/png", "png")
    assert checked.sha256 == hashlib.sha256(png_bytes()).hexdigest()
    assert evidence_check(pdf()).content_type == "application/pdf"
    office = evidence_check(upload("整改方案.docx", docx_bytes()))
    assert (office.kind, office.extension) == ("OFFICE", "docx")


@pytest.mark.parametrize(("make", "message"), [
    (exe_as_jpeg, "内容不是允许的类型"),
    (lambda: upload("page.html", b"<html><script>alert(1)</script></html>", "text/html"), "内容不是允许的类型"),
    (lambda: upload("image.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>"), "内容不是允许的类型"),
    (lambda: upload("照片.pdf", png_bytes()), "扩展名与内容不符"),
    (lambda: upload("empty.png", b""), "空文件"),
    (lambda: upload("a.zip", b"PK\x03\x04" + b"\x00" * 60), "已损坏"),
    (lambda: upload("macro.docx", docx_bytes({"word/vbaProject.bin": b"x"})), "含有宏"),
    (lambda: upload("plain.docx", docx_bytes().replace(b"[Content_Types]", b"[Content_Typez]")), "不是Office文档"),
])
def test_hostile_or_wrong_files_are_refused_in_chinese(make, message):
    with pytest.raises(ValidationError) as info:
        evidence_check(make())
    assert message in " ".join(info.value.messages)


def test_file_over_the_size_limit_is_refused(settings):
    settings.RECTIFY_EVIDENCE_MAX_BYTES = 1024
    with pytest.raises(ValidationError, match="超过大小上限"):
        evidence_check(upload("big.png", png_bytes() + b"\x00" * 2048))


def test_archive_bomb_is_counted_by_what_really_unpacks(settings):
    settings.RECTIFY_EVIDENCE_MAX_UNPACKED = 1024 * 1024
    bomb = docx_bomb(5 * 1024 * 1024)
    assert bomb.size < 64 * 1024  # small on the wire, 5 MB unpacked
    with pytest.raises(ValidationError, match="疑似压缩炸弹"):
        evidence_check(bomb)
    evidence_check(docx_bomb(100 * 1024))  # a normal document with an image passes


@pytest.mark.parametrize(("data", "message"), [
    # Each of these was accepted before the shared check (rectify/uploads.py).
    (with_names("../../../etc/cron.d/x.xml"), "不安全的路径“../../../etc/cron.d/x.xml”"),
    (ooxml("docx", {"word/document.xml": BILLION_LAUGHS + "<w>&lol9;</w>"}), "文档类型声明"),
    (header_lies(ooxml("docx", {"word/a.xml": "x" * 1000}), "word/a.xml", file_size=300 * 1024 * 1024),
     "疑似压缩炸弹"),
    (header_lies(ooxml("docx", {"word/a.xml": "x" * 1000}), "word/a.xml", file_size=2000), "已损坏"),
])
def test_office_files_with_unsafe_names_xml_bombs_or_lying_headers_are_refused(data, message):
    with pytest.raises(ValidationError) as info:
        evidence_check(upload("报告.docx", data))
    assert message in " ".join(info.value.messages)


def test_refused_report_stores_no_file_and_no_row(plan, taiyuan_liaison, evidence_storage):
    task = Task.objects.get(plan=plan, number=12)
    before = (ProgressReport.objects.count(), Evidence.objects.count(), TaskChange.objects.count())
    with pytest.raises(ValidationError, match="完成率必须是0到100"):
        task_report_progress(task=task, unit=taiyuan_liaison.unit, author=taiyuan_liaison, percent=140,
                             text="进展", evidence=[png()])
    with pytest.raises(ValidationError, match="内容不是允许的类型"):
        task_report_progress(task=task, unit=taiyuan_liaison.unit, author=taiyuan_liaison, percent=40,
                             text="进展", evidence=[png(), exe_as_jpeg()])
    assert (ProgressReport.objects.count(), Evidence.objects.count(), TaskChange.objects.count()) == before
    assert not any(p.is_file() for p in evidence_storage.rglob("*"))


def test_report_with_evidence_keeps_digest_and_stores_outside_static(plan, taiyuan_liaison, evidence_storage):
    task = Task.objects.get(plan=plan, number=12)
    report = task_report_progress(task=task, unit=taiyuan_liaison.unit, author=taiyuan_liaison, percent=40,
                                  text="已完成排查", evidence=[png(), pdf()])
    files = list(report.evidence.order_by("original_name"))
    assert [f.original_name for f in files] == ["现场照片.png", "验收报告.pdf"]
    assert files[0].sha256 == hashlib.sha256(png_bytes()).hexdigest()
    assert (evidence_storage / files[0].file.name).read_bytes() == png_bytes()
    assert files[0].file.name.startswith(f"evidence/{task.pk}/") and files[0].file.name.endswith(".png")
    assert task.changes.filter(field="evidence", new__contains="现场照片.png").exists()


def test_download_is_an_attachment_only_for_who_may_see_the_task(
    client, plan, taiyuan_liaison, env_liaison, coal_liaison, leader, outsider
):
    task = Task.objects.get(plan=plan, number=12)
    report = task_report_progress(task=task, unit=taiyuan_liaison.unit, author=taiyuan_liaison, percent=40,
                                  text="进展", evidence=[upload('照片"<b>.png', png_bytes())])
    evidence = report.evidence.get()
    url = reverse("tasks:evidence_download", args=[evidence.pk])
    for user in (taiyuan_liaison, env_liaison, leader):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, user
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert b"".join(response.streaming_content) == png_bytes()
    for user in (coal_liaison, outsider):  # another unit's task, or no role at all: not found
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.force_login(taiyuan_liaison)
    assert client.post(url).status_code == 405
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_media_url_does_not_serve_evidence(client, plan, taiyuan_liaison):
    task = Task.objects.get(plan=plan, number=12)
    report = task_report_progress(task=task, unit=taiyuan_liaison.unit, author=taiyuan_liaison, percent=40,
                                  text="进展", evidence=[png()])
    client.force_login(taiyuan_liaison)
    name = report.evidence.get().file.name
    for prefix in ("/media/", "/static/", "/"):
        assert client.get(prefix + name).status_code == 404
