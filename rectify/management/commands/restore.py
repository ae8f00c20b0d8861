from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rectify.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "Replace the database and the uploaded files with a backup's, then verify them."

    def add_arguments(self, parser):
        parser.add_argument("source", help="A directory written by `manage.py backup`.")
        parser.add_argument("--yes", action="store_true", help="Do not ask before replacing the data.")

    def handle(self, *args, source: str, yes: bool, **options):
        if not yes and input(f"Replace ALL current data with {source}? Type yes: ").strip() != "yes":
            raise CommandError("Nothing restored.")
        try:
            manifest = backup_restore(source=Path(source))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Restored the backup of {manifest['created_at']}: database, "
            f"{len(manifest['media']['files'])} files; SHA-256 and the ledger fingerprint match."
        ))
