"""Compile every locale/*/LC_MESSAGES/*.po into its .mo with polib, without GNU gettext.

`make run` and `make test` call it, so a fresh clone needs nothing but Python. A .mo newer
than its .po is left alone; --force rewrites it anyway.
"""

from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def translations_compile(*, force: bool = False) -> list[Path]:
    """Write the .mo of every stale .po under LOCALE_PATHS; return the .mo files written."""
    written = []
    for locale_dir in map(Path, settings.LOCALE_PATHS):
        for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            try:
                catalog = polib.pofile(str(po_path), wrapwidth=0)
            except (OSError, ValueError) as exc:
                raise CommandError(f"{po_path}: {exc}") from None
            # Fuzzy entries are guesses; gettext leaves them out of the .mo, and so do we.
            catalog.save_as_mofile(str(mo_path))
            written.append(mo_path)
    return written


class Command(BaseCommand):
    help = "Compile the .po translation catalogs into .mo files (pure Python, no msgfmt needed)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Recompile even up-to-date catalogs.")

    def handle(self, *args, force: bool, **options):
        for mo_path in translations_compile(force=force):
            self.stdout.write(f"compiled {mo_path.relative_to(settings.BASE_DIR)}")
