"""Small files of the kinds phones and Chinese offices send: HEIC, MP4, OFD, WPS (issue 18 item 11),
built here byte by byte, and the hostile ones."""

from __future__ import annotations

import io
import struct
import zipfile

from tests.workspace_files import docx_bytes

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    return box(b"ftyp", major + b"\x00\x00\x00\x00" + b"".join(compatible))


def heic_bytes() -> bytes:
    """What an iPhone writes, cut down: ftyp heic (mif1, heic), a meta box, the coded image."""
    meta = box(b"meta", b"\x00\x00\x00\x00" + box(b"hdlr", b"\x00" * 8 + b"pict" + b"\x00" * 13))
    return ftyp(b"heic", b"mif1", b"heic") + meta + box(b"mdat", b"\x00\x00\x00\x10" + b"\x26\x01" * 32)


def mp4_bytes(mdat: bytes = b"\x00" * 256) -> bytes:
    """An Android camera's MP4, cut down: ftyp isom, a moov with its header, the media data."""
    moov = box(b"moov", box(b"mvhd", b"\x00" * 100))
    return ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41") + moov + box(b"mdat", mdat)


def zip_bytes(entries: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buf.getvalue()


OFD_XML = ('<?xml version="1.0" encoding="UTF-8"?>'
           '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" DocType="OFD" Version="1.0">'
           '<ofd:DocBody><ofd:DocInfo><ofd:DocID>a1</ofd:DocID></ofd:DocInfo>'
           '<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>')


def ofd_bytes(root: str | None = OFD_XML) -> bytes:
    """An OFD package: OFD.xml at the root pointing at Doc_0 (root=None leaves OFD.xml out)."""
    entries: dict[str, str | bytes] = {
        "Doc_0/Document.xml": '<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"/>',
        "Doc_0/Pages/Page_0/Content.xml": '<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"/>',
    }
    if root is not None:
        entries = {"OFD.xml": root, **entries}
    return zip_bytes(entries)


def ole2_bytes() -> bytes:
    """The first sector of an OLE2 compound file, as the old .wps/.et/.dps (and .doc) are."""
    return OLE2 + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00" + b"\x00" * (512 - 32)


def wps_zip_bytes() -> bytes:
    """The newer WPS 文字 file: an Office Open XML package saved as .wps."""
    return docx_bytes()


EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
