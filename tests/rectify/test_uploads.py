"""The checks every file goes through (rectify/uploads.py): types by content, zip bombs by
ratio, size and entry count, lying headers, broken zips, unsafe names and XML bombs. The last
test sends renamed programs, pages and empty files through all four doors."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accountability.importing import workbook_bytes_check
from accountability.uploads import document_check
from rectify import uploads
from rectify.uploads import (
    ZipLimits,
    ZipProblem,
    ZipRefused,
    has_macros,
    ooxml_kind,
    sniff,
    zip_check,
    zip_entries,
    zip_unpack,
)
from tasks.evidence import evidence_check
from tasks.importing import LedgerFileError, ledger_import, ledger_source_open
from tasks.models import Task
from tests.hostile_zips import (
    BILLION_LAUGHS,
    encrypted_flag,
    header_lies,
    laughing_workbook,
    many_entries,
    ooxml,
    with_names,
    workbook,
)

MB = 1024 * 1024
ROOMY = ZipLimits(max_entries=500, max_unpacked=50 * MB)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"


def refused(data: bytes, limits: ZipLimits = ROOMY) -> ZipRefused:
    with pytest.raises(ZipRefused) as info:
        zip_check(io.BytesIO(data), limits)
    return info.value


@pytest.mark.parametrize(("head", "kind"), [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),
    (b"GIF89a\x01\x00", "gif"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "webp"),
    (b"%PDF-1.7\n", "pdf"),
    (b"PK\x03\x04\x14\x00", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "ole2"),
    (EXE, None),
    (HTML, None),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
    (b"PK\x05\x06" + b"\x00" * 18, None),  # an empty zip is no Office file
    (b"", None),
])
def test_type_comes_from_the_first_bytes(head, kind):
    assert sniff(head[:uploads.SNIFF_BYTES]) == kind


def test_office_kind_and_macros_come_from_part_names():
    assert ooxml_kind(["[Content_Types].xml", "word/document.xml"]) == "docx"
    assert ooxml_kind(["[Content_Types].xml", "xl/workbook.xml"]) == "xlsx"
    assert ooxml_kind(["[Content_Types].xml", "ppt/presentation.xml"]) == "pptx"
    assert ooxml_kind(["word/document.xml"]) is None  # a zip, not a package
    assert ooxml_kind(["[Content_Types].xml", "readme.txt"]) is None
    assert has_macros(["xl/vbaProject.bin"]) and has_macros(["word/VBAPROJECT.BIN"])
    assert not has_macros(["xl/workbook.xml"])


def test_real_packages_pass_and_every_byte_is_seen():
    data = workbook([["序号", "问题"], [1, "甲"]])
    names = zip_check(io.BytesIO(data), ROOMY)
    assert {"[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"} <= set(names)
    archive = zipfile.ZipFile(io.BytesIO(data))
    seen: dict[str, bytes] = {}
    fh = io.BytesIO(data)
    for info, chunk in zip_unpack(fh, zip_entries(fh, ROOMY), ROOMY, chunk_size=7):
        seen[info.filename] = seen.get(info.filename, b"") + chunk
    assert seen == {i.filename: archive.read(i) for i in archive.infolist() if i.file_size}
    # Stored entries, bzip2 entries and a workbook embedded in a document are fine too; the
    # embedded one is counted at its own size, never opened.
    zip_check(io.BytesIO(ooxml("docx", {"word/embeddings/sheet.xlsx": data}, zipfile.ZIP_STORED)), ROOMY)
    zip_check(io.BytesIO(ooxml("docx", compression=zipfile.ZIP_BZIP2)), ROOMY)


def test_a_bomb_by_ratio_is_refused_when_a_ratio_is_set():
    bomb = ooxml("docx", {"word/media/filler.bin": b"\x00" * (5 * MB)})
    assert len(bomb) < 64 * 1024
    zip_check(io.BytesIO(bomb), ROOMY)  # no ratio limit: 5 MB is within 50 MB
    problem = refused(bomb, ZipLimits(max_entries=500, max_unpacked=50 * MB, max_ratio=200))
    assert (problem.problem, problem.entry) == (ZipProblem.RATIO, "word/media/filler.bin")


def test_a_bomb_by_size_stops_unpacking_at_the_limit():
    bomb = ooxml("docx", {"word/media/filler.bin": b"\x00" * (20 * MB)})
    limits = ZipLimits(max_entries=500, max_unpacked=MB)
    fh = io.BytesIO(bomb)
    out = 0
    with pytest.raises(ZipRefused) as info:
        for _, chunk in zip_unpack(fh, zip_entries(fh, ZipLimits(500, 50 * MB)), limits):
            out += len(chunk)
    assert info.value.problem == ZipProblem.TOO_BIG_UNPACKED
    assert out <= MB  # refused on the way, not after inflating 20 MB
    assert refused(bomb, limits).problem == ZipProblem.TOO_BIG_UNPACKED


def test_a_bomb_by_entry_count_is_refused_before_zipfile_reads_the_directory(monkeypatch):
    many = many_entries(600)
    assert refused(many).problem == ZipProblem.TOO_MANY_ENTRIES
    assert refused(many).count == 602

    def no_parsing(*args, **kwargs):
        raise AssertionError("the directory was parsed")

    monkeypatch.setattr(uploads.zipfile, "ZipFile", no_parsing)
    assert refused(many).problem == ZipProblem.TOO_MANY_ENTRIES


def test_a_header_that_understates_a_size_does_not_cap_the_count():
    real = b"\x00" * (5 * MB)
    honest = ooxml("docx", {"word/media/filler.bin": real})
    # Says 1000 bytes with the checksum of the first 1000: Python's zipfile believes it…
    lying = header_lies(honest, "word/media/filler.bin", file_size=1000, crc=zlib.crc32(real[:1000]))
    assert len(zipfile.ZipFile(io.BytesIO(lying)).read("word/media/filler.bin")) == 1000
    # …but here what comes out is counted: past the limit it is a bomb, within it a liar.
    assert refused(lying, ZipLimits(max_entries=500, max_unpacked=MB)).problem == ZipProblem.TOO_BIG_UNPACKED
    corrupt = refused(lying)
    assert corrupt.problem == ZipProblem.CORRUPT and "与声明不符" in corrupt.detail


def test_a_header_that_overstates_a_size_is_refused():
    honest = ooxml("docx", {"word/a.xml": "x" * 1000})
    lying = header_lies(honest, "word/a.xml", file_size=300 * MB)
    assert refused(lying).problem == ZipProblem.TOO_BIG_UNPACKED  # refused without unpacking
    assert refused(lying, ZipLimits(max_entries=500, max_unpacked=400 * MB)).problem == ZipProblem.CORRUPT


def test_truncated_and_corrupt_zips_are_refused():
    data = workbook([["序号", "问题"], [1, "甲"]])
    assert refused(data[: len(data) // 2]).problem == ZipProblem.NOT_A_ZIP
    assert refused(b"PK\x03\x04" + b"\x00" * 60).problem == ZipProblem.NOT_A_ZIP
    assert refused(b"").problem == ZipProblem.NOT_A_ZIP
    # Central directory intact, compressed data damaged.
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename)
    damaged = data[:start] + bytes(b ^ 0x5A for b in data[start:start + info.compress_size]) + data[
        start + info.compress_size:]
    problem = refused(damaged)
    assert problem.problem == ZipProblem.CORRUPT and problem.entry == "xl/worksheets/sheet1.xml"


def test_encrypted_entries_are_refused():
    assert refused(encrypted_flag(ooxml("docx"), "word/document.xml")).problem == ZipProblem.ENCRYPTED


@pytest.mark.parametrize("name", ["../../etc/cron.d/x.xml", "/etc/passwd", "C:/Windows/x.xml",
                                  "word\\..\\..\\x.xml", "word/../../x.xml"])
def test_names_that_climb_out_or_are_absolute_are_refused(name):
    problem = refused(with_names(name))
    assert (problem.problem, problem.entry) == (ZipProblem.UNSAFE_NAME, name)


def test_names_that_only_look_odd_pass():
    zip_check(io.BytesIO(with_names("word/..hidden.xml", "word/a..b.xml", "word/media/图 1.png")), ROOMY)


def test_an_xlsx_with_a_billion_laughs_part_is_refused_before_any_parser():
    problem = refused(laughing_workbook())
    assert (problem.problem, problem.entry) == (ZipProblem.XML_DTD, "xl/worksheets/sheet1.xml")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be", "utf-16"])
def test_a_dtd_is_found_in_any_encoding_and_across_chunks(encoding):
    xml = ("<?xml version='1.0'?>" + " " * 999 + BILLION_LAUGHS.split("\n", 1)[1] + "<a>&lol9;</a>").encode(encoding)
    data = ooxml("docx", {"word/document.xml": xml})
    fh = io.BytesIO(data)
    with pytest.raises(ZipRefused) as info:
        for _ in zip_unpack(fh, zip_entries(fh, ROOMY), ROOMY, chunk_size=1024):
            pass
    assert info.value.problem == ZipProblem.XML_DTD


def test_a_dtd_outside_xml_parts_is_left_alone():
    # An SVG picture in a document may carry a DOCTYPE; nothing here parses it.
    svg = b'<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd"><svg/>'
    zip_check(io.BytesIO(ooxml("docx", {"word/media/image1.svg": svg})), ROOMY)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["报告.pdf", "照片.jpg", "台账.xlsx"])
@pytest.mark.parametrize("data", [EXE, HTML, b""], ids=["exe", "html", "empty"])
def test_every_door_refuses_renamed_programs_and_pages_and_empty_files(plan, tmp_path, name, data):
    for check in (evidence_check, document_check, workbook_bytes_check):
        with pytest.raises(ValidationError):
            check(SimpleUploadedFile(name, data))
    path = tmp_path / name
    path.write_bytes(data)
    if data == HTML:
        # The ledger import takes any text as csv (officials name files anyhow): it finds no
        # ledger in a page, and writes nothing.
        before = Task.objects.count()
        result = ledger_import(source=ledger_source_open(path), plan=plan, dry_run=False)
        assert not result.applied and result.errors and Task.objects.count() == before
    else:
        with pytest.raises(LedgerFileError):
            ledger_source_open(path)
