from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rectify.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database and the uploaded files, encrypted with RECTIFY_BACKUP_KEY, into a new directory with a SHA-256 manifest."

    def add_arguments(self, parser):
        parser.add_argument("--out", default=str(Path(settings.VAR_DIR) / "backups"),
                            help="Parent directory for the backup (default: var/backups).")

    def handle(self, *args, out: str, **options):
        try:
            target = backup_create(out_dir=Path(out))
        except BackupError as exc:  # e.g. no RECTIFY_BACKUP_KEY: a message, not a traceback
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Backup written to {target}"))
