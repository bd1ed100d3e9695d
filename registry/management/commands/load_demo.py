from django.core.management.base import BaseCommand

from registry.demo import load_demo


class Command(BaseCommand):
    help = "Load the support-intent demo (idempotent) and print fresh logins for every demo user."

    def handle(self, *args, **options):
        credentials = load_demo()
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Logins (new passwords each run):"))
        for username, password in credentials.items():
            self.stdout.write(f"  {username:<6} {password}")
