"""Office packages and the hostile ones, built byte by byte for the upload and import tests.

The header tricks patch real zips: `header_lies` changes the size (and checksum) a zip declares
for one entry, in its local header and central directory alike; `encrypted_flag` sets the
"encrypted" bit without encrypting anything. Both leave the compressed data as it was.
"""

from __future__ import annotations

import io
import struct
import zipfile

from openpyxl import Workbook

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?>'
                 '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]>\n"
)
_MAIN_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}


def ooxml(kind: str = "docx", extra: dict[str, bytes | str] | None = None,
          compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A minimal Office package: [Content_Types].xml, the main part, and `extra` entries."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        extra = extra or {}
        if _MAIN_PART[kind] not in extra:
            z.writestr(_MAIN_PART[kind], "<root/>")
        for name, data in extra.items():
            z.writestr(name, data)
    return out.getvalue()


def workbook(rows: list[list[object]]) -> bytes:
    """A real xlsx as openpyxl writes it (shared strings, styles, one sheet)."""
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def replace_entry(data: bytes, name: str, content: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, content if info.filename == name else src.read(info))
    return out.getvalue()


def laughing_workbook() -> bytes:
    """An xlsx whose first sheet declares the billion-laughs entities and uses the last one."""
    data = workbook([["序号", "问题"], [1, "甲"]])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    body = sheet.split("?>", 1)[-1]  # openpyxl writes no XML declaration
    body = body.replace("</sheetData>", '<row r="3"><c r="A3" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
                        "</sheetData>", 1)
    return replace_entry(data, "xl/worksheets/sheet1.xml", (BILLION_LAUGHS + body).encode())


def with_names(*names: str) -> bytes:
    """A docx with extra entries named as given, for names that climb out of the package."""
    return ooxml("docx", {name: "<a/>" for name in names})


def many_entries(count: int, kind: str = "docx") -> bytes:
    return ooxml(kind, {f"{kind[0]}/part{i}.xml": "" for i in range(count)}, zipfile.ZIP_STORED)


def _central_records(data: bytes) -> list[tuple[int, str]]:
    """(offset, name) of every central directory record."""
    end = data.rindex(b"PK\x05\x06")
    count, _, start = struct.unpack_from("<HII", data, end + 10)
    records, pos = [], start
    for _ in range(count):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        records.append((pos, data[pos + 46:pos + 46 + name_len].decode()))
        pos += 46 + name_len + extra_len + comment_len
    return records


def _patch(data: bytes, name: str, local_at: int, central_at: int, fmt: str, value: int) -> bytes:
    buf = bytearray(data)
    for offset, entry in _central_records(data):
        if entry == name:
            struct.pack_into(fmt, buf, offset + central_at, value)
            local = struct.unpack_from("<I", data, offset + 42)[0]
            struct.pack_into(fmt, buf, local + local_at, value)
            return bytes(buf)
    raise KeyError(name)


def header_lies(data: bytes, name: str, *, file_size: int, crc: int | None = None) -> bytes:
    """The zip claims `file_size` unpacked bytes for `name`, whatever really comes out; with
    `crc`, a checksum to match (the CRC of the first `file_size` bytes fools zipfile)."""
    data = _patch(data, name, 22, 24, "<I", file_size)
    return data if crc is None else _patch(data, name, 14, 16, "<I", crc)


def encrypted_flag(data: bytes, name: str) -> bytes:
    flags = zipfile.ZipFile(io.BytesIO(data)).getinfo(name).flag_bits
    return _patch(data, name, 6, 8, "<H", flags | 0x1)
