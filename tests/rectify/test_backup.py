"""Back up, wipe, restore: the ledger and every uploaded file come back bit for bit; backups
are encrypted, scheduled and pruned."""

import base64
import os
import shutil

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from accountability.models import Case, CaseSource
from rectify import jobs
from rectify.backup import (
    MEDIA_TAR,
    BackupError,
    backup_create,
    backup_restore,
    ledger_fingerprint,
    media_digests,
)
from tasks.models import ProgressReport, Task
from tasks.services import task_report_progress

pytestmark = pytest.mark.django_db(transaction=True)


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture(autouse=True)
def backup_key(settings):
    settings.RECTIFY_BACKUP_KEY = new_key()
    return settings.RECTIFY_BACKUP_KEY


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    (settings.MEDIA_ROOT / "evidence" / "2018").mkdir(parents=True)
    (settings.MEDIA_ROOT / "evidence" / "2018" / "现场照片.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    (settings.MEDIA_ROOT / "evidence" / "验收报告.pdf").write_bytes(b"%PDF-1.4\n" + b"x" * 5000)
    return settings.MEDIA_ROOT


def test_backup_wipe_restore_round_trip(plan, coal_liaison, media, tmp_path):
    task = plan.tasks.filter(task_units__unit=coal_liaison.unit).first()
    task_report_progress(task=task, unit=coal_liaison.unit, author=coal_liaison, percent=35, text="进展")
    before_ledger, before_files = ledger_fingerprint(), media_digests()
    backup = backup_create(out_dir=tmp_path / "backups")

    # Wipe: the ledger and the files are gone.
    Task.objects.all().delete()
    shutil.rmtree(media)
    assert not Task.objects.exists() and media_digests() == {}

    call_command("restore", str(backup), "--yes")
    assert ledger_fingerprint() == before_ledger
    assert media_digests() == before_files and len(before_files) == 2
    assert ProgressReport.objects.get().percent == 35


def test_a_corrupt_backup_restores_nothing(plan, media, tmp_path):
    backup = backup_create(out_dir=tmp_path / "backups")
    (backup / MEDIA_TAR).write_bytes(b"truncated")
    Task.objects.filter(number=1).delete()
    after_wipe = ledger_fingerprint()
    with pytest.raises(BackupError, match="已损坏"):
        backup_restore(source=backup)
    assert ledger_fingerprint() == after_wipe  # untouched


def test_not_a_backup_directory(tmp_path, db):
    with pytest.raises(BackupError, match="不是备份目录"):
        backup_restore(source=tmp_path)


SECRET_TEXT = "某县副县长违规审批问题线索(保密)"
SECRET_FILE = "纪委核查报告-机密.pdf"


def test_a_backup_holds_nothing_in_the_clear(plan, media, tmp_path):
    Case.objects.create(reference="移交问题清单第1项", source=CaseSource.TRANSFERRED, title=SECRET_TEXT,
                        problem_text=SECRET_TEXT, transferred_on="2018-01-10", stage_entered_on="2018-01-10")
    (media / SECRET_FILE).write_bytes(b"%PDF-1.4\n" + SECRET_TEXT.encode() * 10)
    backup = backup_create(out_dir=tmp_path / "backups")
    for path in backup.iterdir():
        data = path.read_bytes()
        for secret in (SECRET_TEXT, SECRET_FILE, "PDF-1.4", "SQLite format", "PGDMP", "ledger"):
            assert secret.encode() not in data, (path.name, secret)


def test_no_key_no_backup_and_no_restore(plan, media, tmp_path, settings):
    backup = backup_create(out_dir=tmp_path / "backups")
    settings.RECTIFY_BACKUP_KEY = ""
    with pytest.raises(BackupError, match="RECTIFY_BACKUP_KEY"):
        backup_create(out_dir=tmp_path / "other")
    assert not (tmp_path / "other").exists()  # nothing written
    with pytest.raises(CommandError, match="RECTIFY_BACKUP_KEY"):
        call_command("backup", "--out", str(tmp_path / "other"))
    with pytest.raises(CommandError, match="RECTIFY_BACKUP_KEY"):
        call_command("restore", str(backup), "--yes")
    settings.RECTIFY_BACKUP_KEY = "not-a-key"
    with pytest.raises(BackupError, match="无效"):
        backup_create(out_dir=tmp_path / "other")


def test_a_wrong_key_or_an_altered_file_restores_nothing(plan, media, tmp_path, settings):
    backup = backup_create(out_dir=tmp_path / "backups")
    Task.objects.filter(number=1).delete()
    after_wipe, files = ledger_fingerprint(), media_digests()
    settings.RECTIFY_BACKUP_KEY = new_key()
    with pytest.raises(BackupError, match="密钥不正确"):
        backup_restore(source=backup)
    assert (ledger_fingerprint(), media_digests()) == (after_wipe, files)  # untouched


def test_the_nightly_job_backs_up_and_keeps_the_newest(plan, media, tmp_path, settings):
    settings.RECTIFY_BACKUP_DIR = str(tmp_path / "nightly")
    settings.RECTIFY_BACKUP_KEEP = 2
    nightly = tmp_path / "nightly"
    nightly.mkdir()
    made = [backup_create(out_dir=tmp_path / stamp).rename(nightly / f"rectify-backup-{stamp}")
            for stamp in ("20181001-043000", "20181002-043000", "20181003-043000")]
    (tmp_path / "nightly" / "unrelated-dir").mkdir()
    newest = jobs.backup_nightly_job.apply().get()
    kept = sorted(p.name for p in (tmp_path / "nightly").iterdir())
    assert kept == sorted([made[-1].name, os.path.basename(newest), "unrelated-dir"])
    schedule = django_settings.CELERY_BEAT_SCHEDULE["backup-nightly"]
    assert schedule["task"] == "rectify.jobs.backup_nightly"
    assert schedule["schedule"].hour == {4} and schedule["schedule"].minute == {30}
