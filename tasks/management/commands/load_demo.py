from django.core.management.base import BaseCommand

from tasks.demo import DEMO_PASSWORD, DEMO_USERS, demo_load


class Command(BaseCommand):
    help = "Load the Shanxi 2017 plan, one demo user per role and a history of weekly reports (once)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--historical", action="store_true",
            help="Keep the plan's own 2017 dates instead of shifting them to a few months ago.",
        )
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the demo logins.")

    def handle(self, *args, historical: bool, quiet_logins: bool, **options):
        plan, created = demo_load(historical=historical)
        if created:
            self.stdout.write(self.style.SUCCESS(
                f"Loaded {plan.code}: {plan.tasks.count()} tasks, feedback on {plan.feedback_on}."
            ))
        else:
            self.stdout.write(f"{plan.code} is already loaded; nothing changed.")
        if not quiet_logins:
            self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
            for user in DEMO_USERS:
                self.stdout.write(f"  {user.username:<16} {user.note}")
