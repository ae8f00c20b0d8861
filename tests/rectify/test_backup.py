"""Back up, wipe, restore: the ledger and every uploaded file come back bit for bit."""

import shutil

import pytest
from django.core.management import call_command

from rectify.backup import BackupError, backup_create, backup_restore, ledger_fingerprint, media_digests
from tasks.models import ProgressReport, Task
from tasks.services import task_report_progress

pytestmark = pytest.mark.django_db(transaction=True)


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
    (backup / "media.tar").write_bytes(b"truncated")
    Task.objects.filter(number=1).delete()
    after_wipe = ledger_fingerprint()
    with pytest.raises(BackupError, match="已损坏"):
        backup_restore(source=backup)
    assert ledger_fingerprint() == after_wipe  # untouched


def test_not_a_backup_directory(tmp_path, db):
    with pytest.raises(BackupError, match="不是备份目录"):
        backup_restore(source=tmp_path)
