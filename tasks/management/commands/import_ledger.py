from django.core.management.base import BaseCommand, CommandError

from rectify.models import User
from tasks.importing import LedgerFileError, ledger_import, ledger_source_open
from tasks.models import Plan


class Command(BaseCommand):
    help = ("Import a ledger (xlsx or csv) into a plan. --dry-run previews every row; without it "
            "everything is written in one transaction, or nothing if any row has an error.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--plan", required=True, help="the plan's code, e.g. shanxi-2017")
        parser.add_argument("--dry-run", action="store_true", help="preview only; write nothing")
        parser.add_argument("--create-units", action="store_true", help="create units the file names but Rectify lacks")
        parser.add_argument("--actor", help="username recorded in the change history")
        parser.add_argument("--all-rows", action="store_true", help="list unchanged rows too")

    def handle(self, *args, file: str, plan: str, dry_run: bool, create_units: bool,
               actor: str | None, all_rows: bool, **options):
        found = Plan.objects.filter(code=plan).first()
        if found is None:
            raise CommandError(f"没有编码为“{plan}”的整改方案。")
        user = None
        if actor:
            user = User.objects.filter(username=actor).first()
            if user is None:
                raise CommandError(f"没有用户“{actor}”。")
        try:
            source = ledger_source_open(file)
            result = ledger_import(source=source, plan=found, actor=user, dry_run=dry_run,
                                   create_units=create_units)
        except (LedgerFileError, OSError) as exc:
            raise CommandError(str(exc)) from None
        for row in result.rows:
            if row.kind == "unchanged" and not all_rows:
                continue
            detail = "、".join(row.fields) or ";".join(row.messages)
            self.stdout.write(f"第{row.line}行 序号{row.number or '-'} {row.kind_label} {detail}")
        for column in result.ignored_columns:
            self.stdout.write(f"忽略的列: {column}")
        for notice in result.notices[:200]:
            self.stdout.write(f"提示: {notice}")
        for error in result.errors:
            self.stderr.write(error)
        self.stdout.write(result.summary())
        if not result.ok:
            raise CommandError(f"{result.error_count}个错误:未写入任何内容。")
        if dry_run:
            self.stdout.write("预览完毕(--dry-run),未写入任何内容。")
        else:
            self.stdout.write(self.style.SUCCESS(f"已导入,共{result.change_count}行有变化。"))
