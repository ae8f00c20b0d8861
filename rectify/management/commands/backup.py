from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from rectify.backup import backup_create


class Command(BaseCommand):
    help = "Back up the database and the uploaded files into a new directory, with a SHA-256 manifest."

    def add_arguments(self, parser):
        parser.add_argument("--out", default=str(Path(settings.VAR_DIR) / "backups"),
                            help="Parent directory for the backup (default: var/backups).")

    def handle(self, *args, out: str, **options):
        target = backup_create(out_dir=Path(out))
        self.stdout.write(self.style.SUCCESS(f"Backup written to {target}"))
