"""Evidence from phones and Chinese offices (issue 18 item 11): HEIC photos, MP4 video, OFD and
WPS files are accepted by their content, with size caps; hostile look-alikes are refused."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from rectify.uploads import sniff
from tasks.evidence import evidence_check
from tasks.models import Evidence, Task
from tasks.services import task_report_progress
from tests.hostile_zips import BILLION_LAUGHS
from tests.phone_files import (
    EXE,
    OFD_XML,
    box,
    ftyp,
    heic_bytes,
    mp4_bytes,
    ofd_bytes,
    ole2_bytes,
    wps_zip_bytes,
    zip_bytes,
)
from tests.workspace_files import docx_bytes, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_storage")]


@pytest.mark.parametrize(("name", "data", "kind", "mime", "ext"), [
    ("IMG_0412.HEIC", heic_bytes(), "IMAGE", "image/heic", "heic"),
    ("现场.heif", heic_bytes(), "IMAGE", "image/heic", "heic"),
    ("现场核查.mp4", mp4_bytes(), "VIDEO", "video/mp4", "mp4"),
    ("验收意见.ofd", ofd_bytes(), "OFD", "application/ofd", "ofd"),
    ("整改报告.wps", ole2_bytes(), "OFFICE", "application/wps-office.wps", "wps"),
    ("台账.et", ole2_bytes(), "OFFICE", "application/wps-office.et", "et"),
    ("汇报.dps", ole2_bytes(), "OFFICE", "application/wps-office.dps", "dps"),
    ("整改报告(新版).wps", wps_zip_bytes(), "OFFICE", "application/wps-office.wps", "wps"),
])
def test_phone_and_wps_files_are_accepted_by_content(name, data, kind, mime, ext):
    checked = evidence_check(upload(name, data))
    assert (checked.kind, checked.content_type, checked.extension) == (kind, mime, ext)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()


def test_sniff_names_heif_and_mp4_by_their_brands():
    assert sniff(heic_bytes()[:16]) == "heif"
    assert sniff(mp4_bytes()[:16]) == "mp4"
    assert sniff(ftyp(b"qt  ")[:16]) is None  # an unknown brand is no type at all


@pytest.mark.parametrize(("name", "data", "message"), [
    ("photo.heic", EXE, "内容不是允许的类型"),  # a renamed program
    ("video.mp4", EXE, "内容不是允许的类型"),
    # An MP4 that is also a zip: a zip tucked into a free box at the end, or plainly appended.
    ("核查.mp4", mp4_bytes() + box(b"free", docx_bytes()), "末尾藏有压缩包"),
    ("核查.mp4", mp4_bytes() + docx_bytes(), "不是有效的HEIC照片或MP4视频"),
    ("核查.mp4", mp4_bytes(mdat=b"PK\x05\x06" + b"\x00" * 18), "末尾藏有压缩包"),
    ("核查.mp4", mp4_bytes()[:-40], "不完整"),  # cut off in upload
    ("核查.mp4", ftyp(b"isom", b"isom") + box(b"mdat", b"\x00" * 64), "不是有效的HEIC照片或MP4视频"),  # no moov
    ("photo.heic", ftyp(b"heic", b"mif1", b"heic") + box(b"mdat", b"\x00" * 16), "不是有效的HEIC照片"),  # no meta
    ("photo.heic", ftyp(b"heic", b"heic") + box(b"MZ\x90\x00", b"\x00" * 16), "不是有效的HEIC照片"),
    ("photo.heic", mp4_bytes(), "扩展名与内容不符"),
    ("核查.mp4", heic_bytes(), "扩展名与内容不符"),
    # OFD without OFD.xml, with one that is no OFD, with an XML bomb in it.
    ("验收.ofd", ofd_bytes(root=None), "缺少OFD.xml"),
    ("验收.ofd", ofd_bytes(root="<html/>"), "不是有效的OFD文档"),
    ("验收.ofd", ofd_bytes(root=OFD_XML.replace("Doc_0/Document.xml", "Doc_9/Document.xml")), "不是有效的OFD文档"),
    ("验收.ofd", ofd_bytes(root=OFD_XML.replace("<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>", "")),
     "不是有效的OFD文档"),
    ("验收.ofd", ofd_bytes(root=BILLION_LAUGHS + "<ofd:OFD>&lol9;</ofd:OFD>"), "文档类型声明"),
    ("验收.ofd", zip_bytes({"a.txt": "x"}), "缺少OFD.xml"),
    ("验收.zip", ofd_bytes(), "扩展名与内容不符"),
    ("报告.docx", ofd_bytes(), "扩展名与内容不符"),
    ("整改报告.wps", EXE, "内容不是允许的类型"),
    ("台账.et", wps_zip_bytes(), "扩展名与内容不符"),  # a 文字 document is not a 表格 sheet
    ("宏.wps", docx_bytes({"word/vbaProject.bin": b"x"}), "含有宏"),
])
def test_hostile_phone_files_are_refused_in_chinese(name, data, message):
    with pytest.raises(ValidationError) as info:
        evidence_check(upload(name, data))
    assert message in " ".join(info.value.messages)


def test_video_has_its_own_size_cap_and_photos_keep_theirs(settings):
    settings.RECTIFY_EVIDENCE_MAX_BYTES = 1024
    settings.RECTIFY_EVIDENCE_MAX_VIDEO_BYTES = 8 * 1024
    assert evidence_check(upload("核查.mp4", mp4_bytes(mdat=b"\x00" * 4096))).kind == "VIDEO"
    with pytest.raises(ValidationError, match="超过大小上限"):  # a photo as big as that video is not
        evidence_check(upload("photo.heic", heic_bytes() + box(b"free", b"\x00" * 4096)))
    with pytest.raises(ValidationError, match="超过大小上限"):
        evidence_check(upload("核查.mp4", mp4_bytes(mdat=b"\x00" * 9000)))


def test_ofd_xml_size_is_capped():
    big = OFD_XML.replace("<ofd:DocBody>", "<ofd:DocBody>" + "<!-- x -->" * 120_000)
    with pytest.raises(ValidationError, match="不是有效的OFD文档"):
        evidence_check(upload("验收.ofd", ofd_bytes(root=big)))


def test_heic_and_mp4_are_stored_and_served_as_downloads(client, plan, taiyuan_liaison, evidence_storage):
    task = Task.objects.get(plan=plan, number=12)
    report = task_report_progress(
        task=task, unit=taiyuan_liaison.unit, author=taiyuan_liaison, percent=40, text="现场核查",
        evidence=[upload("IMG_0412.HEIC", heic_bytes()), upload("现场核查.mp4", mp4_bytes()),
                  upload("验收意见.ofd", ofd_bytes())],
    )
    files = {e.original_name: e for e in report.evidence.all()}
    assert {e.kind for e in files.values()} == {Evidence.Kind.IMAGE, Evidence.Kind.VIDEO, Evidence.Kind.OFD}
    assert files["IMG_0412.HEIC"].file.name.endswith(".heic")
    client.force_login(taiyuan_liaison)
    response = client.get(reverse("tasks:evidence_download", args=[files["现场核查.mp4"].pk]))
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == mp4_bytes()


def test_report_form_offers_the_phone_types_and_tells_the_video_cap(client, plan, taiyuan_liaison, settings):
    settings.RECTIFY_EVIDENCE_MAX_VIDEO_BYTES = 100 * 1024 * 1024
    task = Task.objects.get(plan=plan, number=12)
    client.force_login(taiyuan_liaison)
    page = client.get(reverse("tasks:report", args=[task.pk])).content.decode()
    accept = page.split('accept="', 1)[1].split('"', 1)[0].split(",")
    assert {".heic", ".heif", ".mp4", ".ofd", ".wps", ".et", ".dps", ".jpg", ".docx"} <= set(accept)
    assert 'data-max-video-bytes="104857600"' in page and "超过大小上限(100 MB)" in page
