"""Backup and restore of the database and the uploaded files, encrypted, verified by SHA-256.

A backup is a directory holding the database (`pg_dump -Fc` for PostgreSQL, an SQLite online
backup otherwise), a tar of MEDIA_ROOT and the manifest: the SHA-256 of both, of every
uploaded file, the row count of every model and a fingerprint of the ledger. All three are
encrypted (AES-256-GCM, rectify/backup_crypto.py) with RECTIFY_BACKUP_KEY: the register is
confidential, so without the key nothing is backed up or restored, and a wrong key or an altered
file is refused. A restore checks the backup against its manifest *before* it touches
anything, then replaces the database and the files and checks the result against the manifest
again. Plain copies exist only in a private temporary directory while pg_dump/pg_restore run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import FileField
from django.utils import timezone

from rectify.backup_crypto import (
    BackupKeyError,
    DecryptingReader,
    EncryptingWriter,
    backup_key,
    decrypt_bytes,
    decrypt_file,
    encrypt_bytes,
    encrypt_file,
)

BACKUP_PREFIX = "rectify-backup-"
SEALED = ".enc"
MANIFEST = "manifest.json" + SEALED
MEDIA_TAR = "media.tar" + SEALED


class BackupError(Exception):
    """The backup is incomplete or does not match its manifest; nothing was restored."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def media_digests() -> dict[str, str]:
    root = _media_root()
    if not root.exists():
        return {}
    return {
        str(path.relative_to(root)): sha256_file(path)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def model_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def ledger_fingerprint() -> str:
    """A digest of what the ledger says: every task's state, units, reports and history."""
    from tasks.models import ProgressReport, Task, TaskChange, TaskUnit

    rows: dict[str, Any] = {
        "tasks": list(
            Task.objects.order_by("plan_id", "number").values_list(
                "plan__code", "number", "title", "deadline", "deadline_text", "deadline_class",
                "original_deadline", "status", "progress", "closed_on", "version",
            )
        ),
        "units": list(
            TaskUnit.objects.order_by("task__plan_id", "task__number", "unit__code").values_list(
                "task__number", "unit__code", "role", "responsible_person"
            )
        ),
        "reports": list(
            ProgressReport.objects.order_by("task_id", "unit_id", "week").values_list(
                "task__number", "unit__code", "week", "percent", "text", "is_late"
            )
        ),
        "changes": TaskChange.objects.count(),
    }
    canonical = json.dumps(rows, default=str, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def stored_file_mismatches() -> list[str]:
    """Files whose recorded SHA-256 (any model with a FileField and a `sha256` field) differs
    from the file on disk, or that are missing."""
    problems = []
    for model in apps.get_models():
        file_fields = [f.name for f in model._meta.fields if isinstance(f, FileField)]
        if not file_fields or "sha256" not in {f.name for f in model._meta.fields}:
            continue
        for obj in model._default_manager.all().iterator():
            stored = getattr(obj, file_fields[0])
            path = Path(stored.path) if stored else None
            if path is None or not path.exists():
                problems.append(f"{model._meta.label}#{obj.pk}: 文件缺失")
            elif sha256_file(path) != obj.sha256:
                problems.append(f"{model._meta.label}#{obj.pk}: SHA-256不一致")
    return problems


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _pg_env() -> tuple[list[str], dict[str, str]]:
    db = connection.settings_dict
    args = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"] or "postgres"]
    env = {"PGPASSWORD": db["PASSWORD"] or "", "PATH": "/usr/bin:/bin:/usr/local/bin"}
    return args, env


def backup_create(*, out_dir: Path) -> Path:
    """Write an encrypted backup into a new directory under `out_dir`; refuses without a key."""
    key = _key()
    target = Path(out_dir) / f"{BACKUP_PREFIX}{timezone.localtime():%Y%m%d-%H%M%S}"
    target.mkdir(parents=True, exist_ok=False)
    with tempfile.TemporaryDirectory(prefix="rectify-backup-") as work:  # mode 0700
        if _is_postgres():
            args, env = _pg_env()
            plain = Path(work) / "database.dump"
            subprocess.run(
                ["pg_dump", "-Fc", "--no-owner", *args, "-f", str(plain), connection.settings_dict["NAME"]],
                check=True, env=env, capture_output=True,
            )
        else:
            plain = Path(work) / "database.sqlite3"
            connection.ensure_connection()
            with sqlite3.connect(plain) as dest:
                connection.connection.backup(dest)
        database_file = target / f"{plain.name}{SEALED}"
        encrypt_file(plain, database_file, key)
    media_tar = target / MEDIA_TAR
    with media_tar.open("wb") as out:
        sealed = EncryptingWriter(out, key)
        with tarfile.open(fileobj=sealed, mode="w|") as tar:  # streamed: no plain tar on disk
            root = _media_root()
            if root.exists():
                tar.add(root, arcname="media")
        sealed.close()
    manifest = {
        "created_at": timezone.localtime().isoformat(),
        "engine": connection.vendor,
        "database": {"file": database_file.name, "sha256": sha256_file(database_file)},
        "media": {"file": MEDIA_TAR, "sha256": sha256_file(media_tar), "files": media_digests()},
        "counts": model_counts(),
        "ledger": ledger_fingerprint(),
    }
    encrypt_bytes(json.dumps(manifest, ensure_ascii=False, indent=2).encode(), target / MANIFEST, key)
    return target


def _key() -> bytes:
    try:
        return backup_key()
    except BackupKeyError as exc:
        raise BackupError(str(exc)) from None


def backup_verify(source: Path) -> dict[str, Any]:
    """Decrypt the manifest and check the backup's own files; raises BackupError."""
    key = _key()
    manifest_path = Path(source) / MANIFEST
    if not manifest_path.exists():
        raise BackupError(f"{source} 不是备份目录:缺少{MANIFEST}")
    try:
        manifest: dict[str, Any] = json.loads(decrypt_bytes(manifest_path, key))
    except BackupKeyError as exc:
        raise BackupError(str(exc)) from None
    for part in ("database", "media"):
        path = Path(source) / manifest[part]["file"]
        if not path.exists() or sha256_file(path) != manifest[part]["sha256"]:
            raise BackupError(f"备份文件{path.name}缺失或已损坏(SHA-256不符),未做任何恢复。")
    if manifest["engine"] != connection.vendor:
        raise BackupError(f"备份来自{manifest['engine']}数据库,当前是{connection.vendor},未做任何恢复。")
    return manifest


def backup_restore(*, source: Path) -> dict[str, Any]:
    """Replace the database and the uploaded files with the backup's, then verify them."""
    manifest = backup_verify(source)
    key = _key()
    sealed_database = Path(source) / manifest["database"]["file"]
    with tempfile.TemporaryDirectory(prefix="rectify-restore-") as work:  # mode 0700
        database_file = Path(work) / sealed_database.name.removesuffix(SEALED)
        try:
            decrypt_file(sealed_database, database_file, key)
        except BackupKeyError as exc:
            raise BackupError(str(exc)) from None
        if _is_postgres():
            args, env = _pg_env()
            connection.close()
            subprocess.run(
                ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", *args,
                 "-d", connection.settings_dict["NAME"], str(database_file)],
                check=True, env=env, capture_output=True,
            )
        else:
            connection.ensure_connection()
            with sqlite3.connect(database_file) as src:
                src.backup(connection.connection)
    root = _media_root()
    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = root.parent / f".restore-{root.name}"
    if staging.exists():
        shutil.rmtree(staging)
    with (Path(source) / MEDIA_TAR).open("rb") as sealed, \
            tarfile.open(fileobj=DecryptingReader(sealed, key), mode="r|") as tar:
        tar.extractall(staging, filter="data")  # refuses absolute paths, links out, devices
    extracted = staging / "media"
    if extracted.exists():
        extracted.rename(root)
    else:
        root.mkdir(parents=True)
    shutil.rmtree(staging)
    problems = []
    if media_digests() != manifest["media"]["files"]:
        problems.append("恢复后的文件与备份清单不一致")
    if model_counts() != manifest["counts"]:
        problems.append("恢复后的记录数与备份清单不一致")
    if ledger_fingerprint() != manifest["ledger"]:
        problems.append("恢复后的台账指纹与备份清单不一致")
    problems.extend(stored_file_mismatches())
    if problems:
        raise BackupError(";".join(problems))
    return manifest


def backups_prune(*, out_dir: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest backups in `out_dir` (only directories this module
    wrote: named rectify-backup-… with a manifest). Returns what was removed."""
    backups = sorted(
        (p for p in Path(out_dir).glob(f"{BACKUP_PREFIX}*") if p.is_dir() and (p / MANIFEST).exists()),
        key=lambda p: p.name,
    )
    removed = backups[:-keep] if keep > 0 else []
    for path in removed:
        shutil.rmtree(path)
    return removed


def backup_scheduled() -> Path:
    """The nightly backup (beat job `backup-nightly`): a new backup, then the retention."""
    out_dir = Path(settings.RECTIFY_BACKUP_DIR)
    target = backup_create(out_dir=out_dir)
    backups_prune(out_dir=out_dir, keep=settings.RECTIFY_BACKUP_KEEP)
    return target
