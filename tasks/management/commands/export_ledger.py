from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tasks.exporting import ledger_workbook_write
from tasks.models import Plan


class Command(BaseCommand):
    help = "Write a plan's ledger as the xlsx officials use (streamed, for any number of tasks)."

    def add_arguments(self, parser):
        parser.add_argument("out", help="the .xlsx file to write")
        parser.add_argument("--plan", required=True, help="the plan's code, e.g. shanxi-2017")

    def handle(self, *args, out: str, plan: str, **options):
        found = Plan.objects.filter(code=plan).first()
        if found is None:
            raise CommandError(f"没有编码为“{plan}”的整改方案。")
        count = ledger_workbook_write(tasks=found.tasks.all(), out=out, today=timezone.localdate())
        self.stdout.write(self.style.SUCCESS(f"已导出{count}项整改任务到 {out}"))
