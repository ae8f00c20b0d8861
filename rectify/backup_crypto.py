"""Encryption of backups: AES-256-GCM, streamed in chunks, with a key from the environment.

`RECTIFY_BACKUP_KEY` is 32 random bytes in URL-safe base64 (the shape of a Fernet key:
`python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"`).
Without it nothing is backed up or restored.

File layout: MAGIC, an 8-byte random file id, then chunks of (4-byte big-endian length,
ciphertext). Chunk i is sealed with nonce = file id + i (4 bytes) and the associated data
says whether it is the last chunk, so a reordered, truncated, extended or tampered file and a
wrong key are all refused (`InvalidTag`), never restored half-way.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

MAGIC = b"RECTIFY-BACKUP-AESGCM-1\n"
CHUNK = 1 << 20
_LAST, _MORE = b"last", b"more"


class BackupKeyError(Exception):
    """No usable key, or the backup was not sealed with this key (or was altered)."""


def backup_key() -> bytes:
    raw = getattr(settings, "RECTIFY_BACKUP_KEY", "") or ""
    if not raw:
        raise BackupKeyError(
            "未设置备份密钥RECTIFY_BACKUP_KEY:备份含保密的责任追究台账,不加密不备份,无密钥也不能恢复。"
            "请在环境变量中设置32字节的URL安全base64密钥。"
        )
    try:
        key = base64.urlsafe_b64decode(raw.encode())
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise BackupKeyError("备份密钥RECTIFY_BACKUP_KEY无效:应为32字节的URL安全base64编码。")
    return key


def _nonce(file_id: bytes, index: int) -> bytes:
    return file_id + struct.pack(">I", index)


class EncryptingWriter:
    """A write-only binary file that seals what is written into `out`, chunk by chunk."""

    def __init__(self, out: IO[bytes], key: bytes) -> None:
        self._out, self._aead = out, AESGCM(key)
        self._file_id = os.urandom(8)
        self._buffer = bytearray()
        self._index = 0
        out.write(MAGIC + self._file_id)

    def _seal(self, data: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._file_id, self._index), data, _LAST if last else _MORE)
        self._out.write(struct.pack(">I", len(sealed)) + sealed)
        self._index += 1

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep at least one byte back for the last chunk
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def close(self) -> None:
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()

    def flush(self) -> None:
        pass


def decrypted_chunks(source: IO[bytes], key: bytes) -> Iterator[bytes]:
    if source.read(len(MAGIC)) != MAGIC:
        raise BackupKeyError("备份文件不是本系统加密的格式,未做任何恢复。")
    file_id = source.read(8)
    aead, index, seen_last = AESGCM(key), 0, False
    while header := source.read(4):
        if seen_last or len(header) != 4:
            raise BackupKeyError("备份文件已损坏(末尾有多余内容),未做任何恢复。")
        (length,) = struct.unpack(">I", header)
        sealed = source.read(length)
        plain = None
        for aad in (_MORE, _LAST):
            try:
                plain = aead.decrypt(_nonce(file_id, index), sealed, aad)
            except InvalidTag:
                continue
            seen_last = aad == _LAST
            break
        if plain is None:
            raise BackupKeyError("备份密钥不正确,或备份文件已被改动,未做任何恢复。")
        yield plain
        index += 1
    if not seen_last:
        raise BackupKeyError("备份文件不完整(被截断),未做任何恢复。")


class DecryptingReader:
    """A read-only binary stream over a sealed file (for tarfile's streaming mode)."""

    def __init__(self, source: IO[bytes], key: bytes) -> None:
        self._chunks = decrypted_chunks(source, key)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


def encrypt_file(plain: Path, sealed: Path, key: bytes) -> None:
    with plain.open("rb") as src, sealed.open("wb") as out:
        writer = EncryptingWriter(out, key)
        for block in iter(lambda: src.read(CHUNK), b""):
            writer.write(block)
        writer.close()


def decrypt_file(sealed: Path, plain: Path, key: bytes) -> None:
    with sealed.open("rb") as src, plain.open("wb") as out:
        for chunk in decrypted_chunks(src, key):
            out.write(chunk)


def decrypt_bytes(sealed: Path, key: bytes) -> bytes:
    with sealed.open("rb") as src:
        return b"".join(decrypted_chunks(src, key))


def encrypt_bytes(data: bytes, sealed: Path, key: bytes) -> None:
    with sealed.open("wb") as out:
        writer = EncryptingWriter(out, key)
        writer.write(data)
        writer.close()
