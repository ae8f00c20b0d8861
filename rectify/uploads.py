"""What every file that enters Rectify goes through: a type from its first bytes, and for Office
files (zip packages) an unpacking that counts what really comes out.

Three places take files — evidence (`tasks/evidence.py`), the accountability register
(`accountability/uploads.py`, `accountability/importing.py`) and the ledger import
(`tasks/importing.py`). Each keeps its own limits, allowed types and messages; the checks
themselves live here, once. A refusal is a `ZipRefused` naming the problem, which each caller
turns into its own Chinese message.

Nothing a zip says about itself is trusted: the entry count and central directory size are
checked before zipfile parses the directory; each entry is inflated here, from its own bytes,
with a cap on the total, so a header that understates a size cannot let a bomb through (Python's
zipfile would stop at the stated size and hand over a file that unpacks to gigabytes elsewhere);
afterwards the real size, compressed size and CRC must match the header. XML parts may not carry
a document type declaration: OOXML never needs one, and it is what XML bombs (billion laughs,
external entities) are made of — refused before any XML parser sees the file.

Photos and video from phones (HEIC/HEIF, MP4) are ISO base media files: a chain of boxes, the
first an `ftyp` naming the brands. `media_check` walks the top-level boxes without reading
their contents: they must be boxes these formats use and must tile the file exactly, so nothing
hides after them, and the end of the file may not hold a zip directory (a file that is an MP4
to a player and a zip to an unpacker is refused). OFD (GB/T 33190, the national e-document
format) is a zip with `OFD.xml` at its root, checked like Office packages.
"""

from __future__ import annotations

import enum
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

import defusedxml.ElementTree as SafeET

SNIFF_BYTES = 16
CONTENT_TYPES_PART = "[Content_Types].xml"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CHUNK = 64 * 1024
# Every central directory record needs 46 bytes plus its name; real Office files average far
# below this, so a directory bigger than entries × this cannot be an honest one.
_MAX_DIRECTORY_BYTES_PER_ENTRY = 1024
_XML_PART = re.compile(r"\.(xml|rels|vml)$", re.IGNORECASE)
# "<!DOCTYPE" in UTF-8 and (without the last byte, so both byte orders match) in UTF-16.
_DOCTYPES = (b"<!DOCTYPE", "<!DOCTYPE".encode("utf-16-le")[:-1])
_DOCTYPE_TAIL = 32
_DRIVE = re.compile(r"^[A-Za-z]:")
# Office package part folders, in the order a mixed package is named by.
_OOXML_FOLDERS = (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx"))


# Brands (ISO/IEC 23008-12 for HEIF; 14496-12/14 for MP4) as the ftyp box names them.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_MP4_BRANDS = frozenset({b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42",
                         b"avc1", b"M4V ", b"MSNV", b"dash", b"mmp4"})
# Top-level boxes of HEIF and MP4 files as phones and editors write them.
_TOP_LEVEL_BOXES = frozenset({b"ftyp", b"meta", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid",
                              b"moof", b"mfra", b"styp", b"sidx", b"ssix", b"prft", b"emsg", b"pdin",
                              b"udta"})
_MAX_BOXES = 100_000
_ZIP_END = b"PK\x05\x06"
OFD_ROOT_PART = "OFD.xml"


def sniff(head: bytes) -> str | None:
    """The type the first bytes show: jpeg, png, gif, webp, pdf, heif, mp4, zip, ole2 — or None."""
    if head[4:8] == b"ftyp":
        if head[8:12] in _HEIF_BRANDS:
            return "heif"
        if head[8:12] in _MP4_BRANDS:
            return "mp4"
        return None
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(_OLE2):
        return "ole2"
    return None


def ooxml_kind(names: Iterable[str]) -> str | None:
    """docx, xlsx or pptx for an Office Open XML package, from its part names; None otherwise."""
    names = set(names)
    if CONTENT_TYPES_PART not in names:
        return None
    for folder, kind in _OOXML_FOLDERS:
        if any(n.startswith(folder) for n in names):
            return kind
    return None


def has_macros(names: Iterable[str]) -> bool:
    return any(n.lower().endswith("vbaproject.bin") for n in names)


class ZipProblem(enum.StrEnum):
    NOT_A_ZIP = "not_a_zip"  # no readable central directory
    CORRUPT = "corrupt"  # an entry does not unpack, or unpacks to other than its header says
    TOO_MANY_ENTRIES = "too_many_entries"
    TOO_BIG_UNPACKED = "too_big_unpacked"
    RATIO = "ratio"
    ENCRYPTED = "encrypted"
    UNSAFE_NAME = "unsafe_name"
    XML_DTD = "xml_dtd"


class ZipRefused(Exception):
    """Why a zip was refused; `detail` is Chinese, for callers that show it."""

    def __init__(self, problem: ZipProblem, *, entry: str = "", count: int = 0, detail: str = "") -> None:
        super().__init__(problem, entry, count, detail)
        self.problem, self.entry, self.count, self.detail = problem, entry, count, detail


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int
    max_unpacked: int  # bytes, all entries together
    max_ratio: int | None = None  # unpacked / compressed, per entry


def _directory_facts(fh: IO[bytes]) -> tuple[int, int] | None:
    """(entries, central directory size) as the end record declares them; None if not found."""
    fh.seek(0, 2)
    size = fh.tell()
    start = max(0, size - (22 + 0xFFFF))
    fh.seek(start)
    tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    entries, directory_size = struct.unpack_from("<HI", tail, at + 10)
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF:  # zip64: the real values are elsewhere
        locator = at - 20
        if locator < 0 or tail[locator:locator + 4] != b"PK\x06\x07":
            return None
        fh.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
        record = fh.read(56)
        if len(record) < 56 or record[:4] != b"PK\x06\x06":
            return None
        entries, directory_size = struct.unpack_from("<QQ", record, 32)
    return entries, directory_size


def _name_is_safe(name: str) -> bool:
    path = name.replace("\\", "/")
    return not (path.startswith("/") or _DRIVE.match(path) or ".." in path.split("/"))


def zip_entries(fh: IO[bytes], limits: ZipLimits) -> list[zipfile.ZipInfo]:
    """The entries of a zip, refused before anything is unpacked when there are too many, when a
    name climbs out of the package or is absolute, when one is encrypted, or when the sizes the
    headers admit to already exceed the limit."""
    try:
        facts = _directory_facts(fh)
        if facts is None:
            raise ZipRefused(ZipProblem.NOT_A_ZIP)
        entries, directory_size = facts
        if entries > limits.max_entries or directory_size > limits.max_entries * _MAX_DIRECTORY_BYTES_PER_ENTRY:
            raise ZipRefused(ZipProblem.TOO_MANY_ENTRIES, count=entries)
        fh.seek(0)
        with zipfile.ZipFile(fh) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, struct.error):
        raise ZipRefused(ZipProblem.NOT_A_ZIP) from None
    if len(infos) > limits.max_entries:
        raise ZipRefused(ZipProblem.TOO_MANY_ENTRIES, count=len(infos))
    for info in infos:
        if not _name_is_safe(info.filename):
            raise ZipRefused(ZipProblem.UNSAFE_NAME, entry=info.filename)
        if info.flag_bits & 0x1:
            raise ZipRefused(ZipProblem.ENCRYPTED, entry=info.filename)
    if sum(info.file_size for info in infos) > limits.max_unpacked:
        raise ZipRefused(ZipProblem.TOO_BIG_UNPACKED)
    return infos


def _corrupt(info: zipfile.ZipInfo, why: str) -> ZipRefused:
    return ZipRefused(ZipProblem.CORRUPT, entry=info.filename, detail=f"内部文件“{info.filename}”{why}")


def _inflate(fh: IO[bytes], info: zipfile.ZipInfo, chunk_size: int) -> Iterator[bytes]:
    """The entry's bytes, inflated here from its compressed data; checked against its header."""
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise _corrupt(info, "的位置不对")
    name_length, extra_length = struct.unpack_from("<HH", local, 26)
    fh.seek(info.header_offset + 30 + name_length + extra_length)
    size, crc, consumed = 0, 0, 0
    if info.compress_type == zipfile.ZIP_STORED:
        left = info.compress_size
        while left:
            raw = fh.read(min(chunk_size, left))
            if not raw:
                raise _corrupt(info, "不完整")
            left -= len(raw)
            consumed += len(raw)
            size += len(raw)
            crc = zlib.crc32(raw, crc)
            yield raw
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        while not inflater.eof:
            data = fh.read(chunk_size)
            if not data:
                raise _corrupt(info, "不完整")
            consumed += len(data)
            while data and not inflater.eof:
                # At most chunk_size bytes out per call: a bomb never sits in memory whole.
                out = inflater.decompress(data, chunk_size)
                if not out and len(inflater.unconsumed_tail) == len(data):
                    raise _corrupt(info, "无法解压")
                data = inflater.unconsumed_tail
                if out:
                    size += len(out)
                    crc = zlib.crc32(out, crc)
                    yield out
        consumed -= len(inflater.unused_data)
    else:
        # Never written by Office; zipfile reads them, stopping at the stated size.
        with zipfile.ZipFile(fh) as archive, archive.open(info) as member:
            while chunk := member.read(chunk_size):
                size += len(chunk)
                crc = zlib.crc32(chunk, crc)
                yield chunk
        consumed = info.compress_size
    if (size, consumed, crc) != (info.file_size, info.compress_size, info.CRC):
        raise _corrupt(info, "的实际大小或校验和与声明不符")


def zip_unpack(
    fh: IO[bytes], entries: Iterable[zipfile.ZipInfo], limits: ZipLimits, *, chunk_size: int = _CHUNK,
) -> Iterator[tuple[zipfile.ZipInfo, bytes]]:
    """(entry, chunk) for everything in the zip, counted as it comes out: refused past the
    unpacked limit or compression ratio, on a broken entry, or on an XML part with a DTD."""
    total = 0
    for info in entries:
        if info.is_dir():
            continue
        is_xml, tail, size = bool(_XML_PART.search(info.filename)), b"", 0
        try:
            for chunk in _inflate(fh, info, chunk_size):
                size += len(chunk)
                total += len(chunk)
                if total > limits.max_unpacked:
                    raise ZipRefused(ZipProblem.TOO_BIG_UNPACKED, entry=info.filename)
                if limits.max_ratio and info.compress_size and size > limits.max_ratio * info.compress_size:
                    raise ZipRefused(ZipProblem.RATIO, entry=info.filename)
                if is_xml:
                    window = tail + chunk
                    if any(doctype in window for doctype in _DOCTYPES):
                        raise ZipRefused(ZipProblem.XML_DTD, entry=info.filename)
                    tail = window[-_DOCTYPE_TAIL:]
                yield info, chunk
        except (zlib.error, zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, OSError):
            raise _corrupt(info, "无法解压") from None


def zip_check(fh: IO[bytes], limits: ZipLimits) -> list[str]:
    """Check a whole zip (see `zip_entries` and `zip_unpack`); its entry names."""
    entries = zip_entries(fh, limits)
    for _ in zip_unpack(fh, entries, limits):
        pass
    return [info.filename for info in entries]


class MediaProblem(enum.StrEnum):
    TRUNCATED = "truncated"  # a box runs past the end
    NOT_MEDIA = "not_media"  # unknown boxes, a missing ftyp, meta or moov, brands that disagree
    HIDDEN_ZIP = "hidden_zip"  # a zip directory at the end: a zip to any unpacker


class MediaRefused(Exception):
    """Why a HEIF or MP4 file was refused; each caller words it."""

    def __init__(self, problem: MediaProblem) -> None:
        super().__init__(problem)
        self.problem = problem


def media_check(fh: IO[bytes]) -> str:
    """"heif" or "mp4" for an ISO base media file whose top-level boxes are sound (see the
    module's docstring); raise `MediaRefused` otherwise."""
    fh.seek(0, 2)
    size = fh.tell()
    at, boxes, kinds = 0, 0, set()
    brands: set[bytes] = set()
    while at < size:
        fh.seek(at)
        header = fh.read(16)
        if len(header) < 8:
            raise MediaRefused(MediaProblem.TRUNCATED)
        length, kind = struct.unpack(">I4s", header[:8])
        if length == 1:
            if len(header) < 16:
                raise MediaRefused(MediaProblem.TRUNCATED)
            length = struct.unpack(">Q", header[8:16])[0]
        elif length == 0:
            length = size - at  # "to the end of the file"
        if kind not in _TOP_LEVEL_BOXES or length < 8:
            raise MediaRefused(MediaProblem.NOT_MEDIA)
        if at + length > size:
            raise MediaRefused(MediaProblem.TRUNCATED)
        if boxes == 0:
            if kind != b"ftyp" or not 16 <= length <= 4096:
                raise MediaRefused(MediaProblem.NOT_MEDIA)
            fh.seek(at + 8)
            ftyp = fh.read(length - 8)
            brands = {ftyp[i:i + 4] for i in range(0, len(ftyp) - 3, 4) if i != 4}  # skip the minor version
        kinds.add(kind)
        boxes += 1
        if boxes > _MAX_BOXES:
            raise MediaRefused(MediaProblem.NOT_MEDIA)
        at += length
    fh.seek(max(0, size - (22 + 0xFFFF)))
    if _ZIP_END in fh.read():
        raise MediaRefused(MediaProblem.HIDDEN_ZIP)
    fh.seek(0)
    if brands & _HEIF_BRANDS and b"meta" in kinds:
        return "heif"
    if brands & _MP4_BRANDS and kinds & {b"moov", b"moof"}:
        return "mp4"
    raise MediaRefused(MediaProblem.NOT_MEDIA)


def ofd_root_is_sound(xml: bytes, names: Iterable[str]) -> bool:
    """OFD.xml's root element is ofd:OFD (any prefix; GB/T 33190 names it in its namespace) and
    every document it names (DocBody/DocRoot) is in the package."""
    try:
        root = SafeET.fromstring(xml)
    except (SafeET.ParseError, ValueError):  # DTDs and entities raise ValueErrors
        return False
    if root.tag.rpartition("}")[2] != "OFD":
        return False
    doc_roots = [(e.text or "").strip().lstrip("/") for e in root.iter() if e.tag.rpartition("}")[2] == "DocRoot"]
    return bool(doc_roots) and set(doc_roots) <= set(names)
