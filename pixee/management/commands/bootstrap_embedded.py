import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from pixee.apikeys import api_key_authenticate, api_key_create


class Command(BaseCommand):
    help = "Ensure the embedded default's admin user and API key, and print both (make run)."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")
        parser.add_argument(
            "--quiet", action="store_true", help="ensure the credentials without printing the banner"
        )

    def handle(self, *args, port: str, quiet: bool = False, **options):
        # The embedded default is a single-user sandbox: its credentials live in var/ (mode 600)
        # so every `make run` prints the same ones.
        secrets_file = settings.VAR_DIR / "embedded-credentials"
        password, raw_key = None, None
        if secrets_file.exists():
            password, raw_key = secrets_file.read_text().split("\n")[:2]
        User = get_user_model()
        admin = User.objects.filter(username="admin").first()
        if admin is None:
            password = secrets.token_urlsafe(12)
            admin = User.objects.create_superuser("admin", "admin@localhost", password)
        elif password is None or not admin.check_password(password):
            password = secrets.token_urlsafe(12)
            admin.set_password(password)
            admin.save()
        if raw_key is None or api_key_authenticate(raw_key) is None:
            _, raw_key = api_key_create(user=admin, name="embedded default")
        secrets_file.write_text(f"{password}\n{raw_key}\n")
        secrets_file.chmod(0o600)
        if quiet:
            return
        base = f"http://127.0.0.1:{port}"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"  Pixee Imports (embedded default) on {base}",
                    f"  Admin:    {base}/admin/   user admin   password {password}",
                    f"  API key:  {raw_key}",
                    f"  Try:      curl -X POST {base}/api/v1/imports/jobs "
                    f"-H 'Authorization: Bearer {raw_key}' -F file=@catalog.csv -F supplier_code=SUPPLIER_A",
                    f"  API docs: {base}/api/v1/docs/",
                    f"  These credentials are kept in {secrets_file} (shown again on every make run).",
                    "",
                ]
            )
        )
