from django.core.management.base import BaseCommand, CommandError

from pixee.crypto import DecryptionError, secrets_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key of PIXEE_ENCRYPTION_KEYS, so the keys "
        "after it can be removed."
    )

    def handle(self, *args, **options):
        try:
            counts = secrets_rotate()
        except DecryptionError as exc:
            raise CommandError(f"{exc} Nothing was changed.") from None
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} secret(s) re-encrypted")
        self.stdout.write(f"Done: {sum(counts.values())} secret(s) now use the first key only.")
