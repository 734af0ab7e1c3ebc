from django.core.management.base import BaseCommand

from pixee.apikeys import api_key_create, user_ensure


class Command(BaseCommand):
    help = "Ensure a user NAME exists and create a new API key for it; prints the raw key on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name", help="user name (created when missing)")
        parser.add_argument(
            "--staff", action="store_true", help="give the user staff rights (sees every job)"
        )

    def handle(self, *args, name: str, staff: bool, **options):
        user = user_ensure(username=name, staff=staff)
        api_key, raw_key = api_key_create(user=user, name=f"{name} (command line)")
        self.stderr.write(
            f"API key {api_key.prefix}… created for {user.get_username()}; it is shown only once:"
        )
        self.stdout.write(raw_key)
