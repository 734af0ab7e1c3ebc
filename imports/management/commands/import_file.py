import json
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from imports import services
from imports.api.serializers import ImportJobSerializer
from imports.mapping import MappingError


class Command(BaseCommand):
    help = "Import one file in this process, with a progress bar; prints the final job as JSON."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--supplier", required=True, help="supplier code for every imported product")
        parser.add_argument("--dry-run", action="store_true", help="stop at ready: count, write nothing")
        parser.add_argument("--mapping", default="{}", help='JSON object, e.g. \'{"Code": "ean"}\'')
        parser.add_argument("--max-errors", type=int, default=None)

    def handle(self, *args, path: Path, supplier: str, dry_run: bool, mapping: str, max_errors, **options):
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        try:
            mapping_obj = json.loads(mapping)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--mapping is not valid JSON: {exc}") from None
        with path.open("rb") as fileobj:
            try:
                job = services.import_job_create(
                    user=None,
                    file=File(fileobj, name=path.name),
                    supplier_code=supplier,
                    dry_run=dry_run,
                    mapping=mapping_obj,
                    max_errors=max_errors,
                    enqueue=False,
                )
            except (services.UploadRejected, MappingError) as exc:
                raise CommandError(str(exc)) from None
        with tqdm(total=100, unit="%", desc=path.name, file=self.stderr._out) as bar:

            def on_progress(current):
                bar.set_postfix(status=current.status, rows=current.analyzed_rows)
                bar.update(current.progress - bar.n)

            job = services.import_job_run(job_id=job.pk, on_progress=on_progress)
        self.stdout.write(json.dumps(ImportJobSerializer(job).data, indent=2, default=str))
        if job.status == "failed":
            raise CommandError(job.error_summary)
