"""`python -m bench`: the import benchmarks, end to end, against PostgreSQL's COPY as the ceiling.

One run measures, ``BENCH_REPEAT`` times over (medians are reported):

- the ceiling: COPY of the CSV into a table with a unique index, at each row count used;
- CSV imports through the API (multipart POST, then polling GET) with a real Celery worker
  (concurrency 2): first load into an empty catalog, then the same file again (all unchanged),
  at ``BENCH_ROWS`` and at ``BENCH_SMALL_ROWS``; the worker's peak RSS at both sizes;
- the other formats (XLSX, JSON, XML, those that are registered) at ``BENCH_FORMAT_ROWS``;
- django-import-export in its bulk mode against our first load of the same ``BENCH_DIE_ROWS``-row
  CSV on the same database (``bench/die.py``; installed in the bench's own folder).

Figures go to var/bench/results.json and a markdown table is printed. Nothing here asserts: the
targets are evaluated and reported, met or not.
"""

from __future__ import annotations

import base64
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
import requests

from . import ceiling, data, die
from .procs import MemorySampler, start_web, start_worker

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
SUPPLIER = "BENCH"
POLL_SECONDS = 0.1

# The targets of the columnar analysis (issue 13), evaluated on the medians.
TARGET_FIRST_LOAD_RATIO = 0.4
TARGET_REIMPORT_RATIO = 0.6
TARGET_WORKER_RSS_MIB = 150
TARGET_FORMAT_ROWS_PER_S = {"xlsx": 30_000, "json": 60_000, "xml": 50_000}
TARGET_TIMES_FASTER_THAN_DIE = 10


@dataclass(frozen=True)
class Config:
    rows: int
    small_rows: int
    format_rows: int
    die_rows: int
    repeat: int
    formats: tuple[str, ...]
    database_url: str
    broker_url: str

    @classmethod
    def from_env(cls) -> Config:
        rows = int(os.environ.get("BENCH_ROWS", 1_000_000))
        return cls(
            rows=rows,
            small_rows=min(int(os.environ.get("BENCH_SMALL_ROWS", 100_000)), rows),
            format_rows=min(int(os.environ.get("BENCH_FORMAT_ROWS", 100_000)), rows),
            die_rows=min(int(os.environ.get("BENCH_DIE_ROWS", 50_000)), rows),
            repeat=int(os.environ.get("BENCH_REPEAT", 3)),
            formats=tuple(f for f in os.environ.get("BENCH_FORMATS", "xlsx,json,xml").split(",") if f),
            database_url=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pixee_bench"),
            broker_url=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/11"),
        )


@dataclass
class Measure:
    name: str
    file_type: str
    rows: int
    seconds: float
    # Peak RSS of the pool child that ran the import, and of the worker's main process.
    worker_rss_mib: float | None = None
    worker_main_rss_mib: float | None = None
    counts: dict = field(default_factory=dict)
    # Upload and queue, analysis, processing: from the job's milestone logs.
    phases: dict = field(default_factory=dict)
    # Seconds of other requests on the job: changes pages, its revert.
    latencies: dict = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


# --- setting up -------------------------------------------------------------------------------


def _ensure_database(url: str) -> None:
    params = psycopg.conninfo.conninfo_to_dict(url)
    name = params.get("dbname")
    if not name:
        raise SystemExit(f"DATABASE_URL names no database: {url}")
    with psycopg.connect(psycopg.conninfo.make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _environment(config: Config) -> dict[str, str]:
    """The web server's and worker's environment: production-like (DEBUG off) on the bench stores."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pixee.settings",
        "DATABASE_URL": config.database_url,
        "CELERY_BROKER_URL": config.broker_url,
        "MEDIA_ROOT": str(BENCH_DIR / "media"),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PIXEE_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "PIXEE_UPLOAD_THROTTLE": "10000/minute",
        "PYTHONUNBUFFERED": "1",
    }


def _django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _api_key() -> str:
    from pixee.apikeys import api_key_create, user_ensure

    _, raw = api_key_create(user=user_ensure(username="bench", staff=True), name="bench")
    return raw


def _reset(conninfo: str) -> None:
    """An empty catalog and no jobs; uploaded files removed."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("TRUNCATE catalog_product, imports_importlog, imports_importjob CASCADE")
    for stored in (BENCH_DIR / "media").glob("imports/**/*.*"):
        stored.unlink()


def _purge_broker() -> None:
    from pixee.celery import app

    app.control.purge()


# --- measuring --------------------------------------------------------------------------------


class Api:
    def __init__(self, base_url: str, key: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def import_file(self, path: Path, file_type: str) -> tuple[float, dict]:
        """Upload ``path`` and wait for the job to finish: (seconds, final job body with phases)."""
        posted_at = time.time()  # the server's log timestamps use the same clock (same machine)
        started = time.perf_counter()
        with path.open("rb") as upload:
            response = self.session.post(
                f"{self.base_url}/api/v1/imports/jobs",
                files={"file": (f"catalog.{file_type}", upload)},
                data={"supplier_code": SUPPLIER},
                timeout=600,
            )
        if response.status_code != 201:
            raise RuntimeError(f"upload refused: {response.status_code} {response.text[:500]}")
        job_url = f"{self.base_url}/api/v1/imports/jobs/{response.json()['id']}"
        while True:
            body = self.session.get(job_url, timeout=60).json()
            if body["status"] in ("completed", "failed", "cancelled"):
                seconds = time.perf_counter() - started
                break
            time.sleep(POLL_SECONDS)
        if body["status"] != "completed":
            raise RuntimeError(f"import {body['status']}: {body.get('error_summary')}")
        body["phases"] = self._phases(job_url, posted_at, posted_at + seconds)
        return seconds, body

    def changes_and_revert(self, job_id: str, rows: int) -> dict:
        """Seconds for the first and the last page of the job's changes, then for its revert."""
        job_url = f"{self.base_url}/api/v1/imports/jobs/{job_id}"
        latencies = {}
        # A page is read from the stored file up to it: deeper pages take longer, a row's worth each.
        deep = min(rows, 100_000)
        for name, skip in (("changes, first page", 0), (f"changes, page at row {deep:,}", deep - 100)):
            started = time.perf_counter()
            response = self.session.get(
                f"{job_url}/changes", params={"skip": skip, "limit": 100}, timeout=600
            )
            latencies[name] = round(time.perf_counter() - started, 2)
            if response.status_code != 200 or len(response.json()["items"]) != 100:
                raise RuntimeError(f"changes page refused: {response.status_code} {response.text[:300]}")
        started = time.perf_counter()
        if self.session.post(f"{job_url}/revert", timeout=60).status_code != 202:
            raise RuntimeError("revert refused")
        while not (body := self.session.get(job_url, timeout=60).json())["reverted_at"]:
            time.sleep(POLL_SECONDS)
        latencies["revert (every product deleted)"] = round(time.perf_counter() - started, 2)
        if body["products_deleted"] != rows:
            raise RuntimeError(f"the revert deleted {body['products_deleted']} products of {rows}")
        return latencies

    def _phases(self, job_url: str, posted_at: float, done_at: float) -> dict:
        logs = self.session.get(f"{job_url}/logs", params={"level": "info", "limit": 100}, timeout=60).json()
        at = {}
        for item in logs["items"]:
            for milestone in ("Analysis started", "Analysis finished", "Import completed"):
                if item["message"].startswith(milestone):
                    stamp = item["timestamp"].replace("Z", "+00:00")
                    at[milestone] = datetime.fromisoformat(stamp).timestamp()
        return {
            "upload_and_queue": round(at["Analysis started"] - posted_at, 2),
            "analysis": round(at["Analysis finished"] - at["Analysis started"], 2),
            "processing": round(at["Import completed"] - at["Analysis finished"], 2),
            "until_seen_completed": round(done_at - at["Import completed"], 2),
        }


def _checked(body: dict, rows: int, **expected: int) -> dict:
    counts = {
        k: body[k]
        for k in ("total_rows", "products_created", "products_updated", "products_unchanged", "failed_rows")
    }
    wanted = {"total_rows": rows, "failed_rows": 0, **expected}
    wrong = {k: (counts[k], v) for k, v in wanted.items() if counts[k] != v}
    if wrong:
        raise RuntimeError(f"the import did not do the expected work (got, expected): {wrong}")
    return counts


def _checkpoint(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        ceiling.checkpoint(conn)


def measure_csv(api: Api, config: Config, env: dict, rows: int) -> list[Measure]:
    """First load and unchanged re-import of ``rows`` CSV rows on a fresh worker."""
    path = data.bench_file("csv", rows, BENCH_DIR)
    _reset(config.database_url)
    worker = start_worker(env, BENCH_DIR / "logs" / f"worker-csv-{rows}.log")
    try:
        with MemorySampler(worker.pid) as memory:
            _checkpoint(config.database_url)
            seconds, body = api.import_file(path, "csv")
            first_id = body["id"]
            first = Measure(
                "CSV first load",
                "csv",
                rows,
                seconds,
                counts=_checked(body, rows, products_created=rows),
                phases=body["phases"],
            )
            _checkpoint(config.database_url)
            seconds, body = api.import_file(path, "csv")
            again = Measure(
                "CSV unchanged re-import",
                "csv",
                rows,
                seconds,
                counts=_checked(body, rows, products_unchanged=rows),
                phases=body["phases"],
            )
            first.latencies = api.changes_and_revert(first_id, rows)
    finally:
        worker.stop()
    first.worker_rss_mib = again.worker_rss_mib = round(memory.child_mib, 1)
    first.worker_main_rss_mib = again.worker_main_rss_mib = round(memory.parent_mib, 1)
    return [first, again]


def measure_format(api: Api, config: Config, env: dict, file_type: str) -> Measure:
    return _first_load(api, config, env, f"{file_type.upper()} first load", file_type, config.format_rows)


def _first_load(api: Api, config: Config, env: dict, name: str, file_type: str, rows: int) -> Measure:
    """One import of ``rows`` rows into an empty catalog, on a fresh worker whose memory is sampled."""
    path = data.bench_file(file_type, rows, BENCH_DIR)
    _reset(config.database_url)
    worker = start_worker(env, BENCH_DIR / "logs" / f"worker-{file_type}-{rows}.log")
    try:
        with MemorySampler(worker.pid) as memory:
            _checkpoint(config.database_url)
            seconds, body = api.import_file(path, file_type)
    finally:
        worker.stop()
    measure = Measure(
        name,
        file_type,
        rows,
        seconds,
        counts=_checked(body, rows, products_created=rows),
        phases=body["phases"],
    )
    measure.worker_rss_mib = round(memory.child_mib, 1)
    measure.worker_main_rss_mib = round(memory.parent_mib, 1)
    return measure


def measure_die(api: Api, config: Config, env: dict) -> list[Measure]:
    """django-import-export's bulk mode, then ours, each loading the same file into an empty catalog."""
    rows = config.die_rows
    path = data.bench_file("csv", rows, BENCH_DIR)
    _reset(config.database_url)
    _checkpoint(config.database_url)
    output = subprocess.run(
        [sys.executable, "-m", "bench.die", str(path)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    seconds, created = float(output[0]), int(output[1])
    if created != rows:
        raise RuntimeError(f"django-import-export created {created} products of {rows}")
    theirs = Measure(
        "django-import-export bulk first load", "csv", rows, seconds, counts={"created": created}
    )
    ours = _first_load(api, config, env, "CSV first load (vs django-import-export)", "csv", rows)
    return [theirs, ours]


def one_round(api: Api, config: Config, env: dict, formats: list[str]) -> dict:
    sizes = sorted({config.rows, config.small_rows, config.format_rows, config.die_rows})
    ceilings = {}
    for rows in sizes:
        seconds, loaded = ceiling.copy_seconds(config.database_url, data.bench_file("csv", rows, BENCH_DIR))
        assert loaded == rows
        ceilings[rows] = seconds
        print(f"  COPY ceiling, {rows} rows: {seconds:.2f}s ({rows / seconds:,.0f} rows/s)", flush=True)
    measures: list[Measure] = []
    for rows in sorted({config.rows, config.small_rows}, reverse=True):
        for m in measure_csv(api, config, env, rows):
            measures.append(m)
            print(f"  {m.name}, {rows} rows: {m.seconds:.2f}s, worker {m.worker_rss_mib} MiB", flush=True)
    for file_type in formats:
        m = measure_format(api, config, env, file_type)
        measures.append(m)
        print(f"  {m.name}, {m.rows} rows: {m.seconds:.2f}s, worker {m.worker_rss_mib} MiB", flush=True)
    for m in measure_die(api, config, env):
        measures.append(m)
        print(f"  {m.name}, {m.rows} rows: {m.seconds:.2f}s", flush=True)
    return {"ceiling_seconds": ceilings, "imports": [asdict(m) for m in measures]}


# --- reporting --------------------------------------------------------------------------------


def machine(conninfo: str) -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    with psycopg.connect(conninfo) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
        settings = dict(
            conn.execute(
                "SELECT name, current_setting(name) FROM pg_settings "
                "WHERE name IN ('shared_buffers', 'work_mem', 'synchronous_commit', 'max_wal_size')"
            ).fetchall()
        )
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu": cpu,
        "postgresql": postgres,
        "postgresql_settings": settings,
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def summarize(rounds: list[dict]) -> dict:
    """Medians over the rounds, and each import's ratio to the ceiling of the same size."""
    ceilings = {
        rows: statistics.median(r["ceiling_seconds"][rows] for r in rounds)
        for rows in rounds[0]["ceiling_seconds"]
    }
    imports = []
    for i, first in enumerate(rounds[0]["imports"]):
        seconds = statistics.median(r["imports"][i]["seconds"] for r in rounds)
        rss = [r["imports"][i]["worker_rss_mib"] for r in rounds if r["imports"][i]["worker_rss_mib"]]
        rows = first["rows"]
        rows_per_s = rows / seconds
        ceiling_rows_per_s = rows / ceilings[rows]
        imports.append(
            {
                "name": first["name"],
                "file_type": first["file_type"],
                "rows": rows,
                "seconds": round(seconds, 2),
                "rows_per_s": round(rows_per_s),
                "ratio_to_copy": round(rows_per_s / ceiling_rows_per_s, 3),
                "worker_peak_rss_mib": max(rss) if rss else None,
                "worker_main_peak_rss_mib": max(r["imports"][i]["worker_main_rss_mib"] or 0 for r in rounds),
                "phases_seconds": {
                    phase: round(statistics.median(r["imports"][i]["phases"][phase] for r in rounds), 2)
                    for phase in first["phases"] or {}
                },
                "latencies_seconds": {
                    name: round(statistics.median(r["imports"][i]["latencies"][name] for r in rounds), 2)
                    for name in first.get("latencies") or {}
                },
            }
        )
    return {
        "ceiling": {
            str(rows): {"seconds": round(s, 2), "rows_per_s": round(rows / s)} for rows, s in ceilings.items()
        },
        "imports": imports,
    }


def targets(summary: dict, config: Config) -> list[dict]:
    def find(name: str, rows: int):
        return next((m for m in summary["imports"] if m["name"] == name and m["rows"] == rows), None)

    results = []
    first, again = find("CSV first load", config.rows), find("CSV unchanged re-import", config.rows)
    results.append(
        {
            "target": f"CSV first load ≥ {TARGET_FIRST_LOAD_RATIO:.0%} of COPY ({config.rows} rows)",
            "value": first["ratio_to_copy"],
            "met": first["ratio_to_copy"] >= TARGET_FIRST_LOAD_RATIO,
        }
    )
    results.append(
        {
            "target": f"CSV unchanged re-import ≥ {TARGET_REIMPORT_RATIO:.0%} of COPY ({config.rows} rows)",
            "value": again["ratio_to_copy"],
            "met": again["ratio_to_copy"] >= TARGET_REIMPORT_RATIO,
        }
    )
    small = find("CSV first load", config.small_rows)
    peaks = {config.small_rows: small["worker_peak_rss_mib"], config.rows: first["worker_peak_rss_mib"]}
    results.append(
        {
            "target": f"worker peak RSS ≤ {TARGET_WORKER_RSS_MIB} MiB, flat from {config.small_rows} "
            f"to {config.rows} rows",
            "value": peaks,
            # Flat: growing ten-fold in rows may not cost more than a tenth more memory.
            "met": max(peaks.values()) <= TARGET_WORKER_RSS_MIB
            and peaks[config.rows] <= 1.1 * peaks[config.small_rows],
        }
    )
    for file_type, target in TARGET_FORMAT_ROWS_PER_S.items():
        measured = find(f"{file_type.upper()} first load", config.format_rows)
        if measured:
            results.append(
                {
                    "target": f"{file_type.upper()} ≥ {target:,} rows/s ({config.format_rows} rows)",
                    "value": measured["rows_per_s"],
                    "met": measured["rows_per_s"] >= target,
                }
            )
    theirs = find("django-import-export bulk first load", config.die_rows)
    ours = find("CSV first load (vs django-import-export)", config.die_rows)
    times = round(theirs["seconds"] / ours["seconds"], 1)
    results.append(
        {
            "target": f"≥ {TARGET_TIMES_FASTER_THAN_DIE}× faster than django-import-export bulk mode "
            f"({config.die_rows} rows, end to end)",
            "value": f"{times}×",
            "met": times >= TARGET_TIMES_FASTER_THAN_DIE,
        }
    )
    return results


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"Machine: {m['nproc']} CPU ({m['cpu']}), {m['memory_gib']} GiB RAM, PostgreSQL {m['postgresql']}, "
        f"Python {m['python']}; medians of {results['config']['repeat']} runs.",
        "",
        "| measure | rows | seconds | rows/s | vs COPY | worker peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for rows, c in results["median"]["ceiling"].items():
        lines.append(
            f"| PostgreSQL COPY (ceiling) | {int(rows):,} | {c['seconds']} | {c['rows_per_s']:,} | 100% | |"
        )
    for i in results["median"]["imports"]:
        rss = f"{i['worker_peak_rss_mib']} MiB" if i["worker_peak_rss_mib"] else ""
        lines.append(
            f"| {i['name']} | {i['rows']:,} | {i['seconds']} | {i['rows_per_s']:,} | "
            f"{i['ratio_to_copy']:.0%} | {rss} |"
        )
    lines += [
        "",
        "| where the time goes (s) | upload + queue | analysis | processing | seen completed |",
        "|---|---:|---:|---:|---:|",
    ]
    for i in results["median"]["imports"]:
        p = i["phases_seconds"]
        if not p:
            continue
        lines.append(
            f"| {i['name']}, {i['rows']:,} rows | {p['upload_and_queue']} | {p['analysis']} | "
            f"{p['processing']} | {p['until_seen_completed']} |"
        )
    for i in results["median"]["imports"]:
        for name, seconds in i.get("latencies_seconds", {}).items():
            lines.append(f"| after the {i['name']} of {i['rows']:,} rows: {name} | {seconds} s |")
    if any(i.get("latencies_seconds") for i in results["median"]["imports"]):
        header = ["", "| request | seconds |", "|---|---:|"]
        position = len(lines) - sum(len(i.get("latencies_seconds", {})) for i in results["median"]["imports"])
        lines[position:position] = header
    if control := results.get("embedded_control"):
        lines += [
            "",
            f"Embedded default (SQLite), {control['rows']:,} rows: "
            f"{control['undisturbed']['seconds']} s undisturbed "
            f"({control['undisturbed']['rows_per_second']:,} rows/s).",
            "",
            "| request during the import | answer (s) | status | rows until the answer | rows after |",
            "|---|---:|---:|---:|---:|",
        ]
        for action in ("pause", "resume", "cancel"):
            a = control[action]
            lines.append(
                f"| {action} | {a['answer_seconds']} | {a['answer_status']} "
                f"| {a.get('rows_until_answer', '')} | {a.get('rows_after_answer', '')} |"
            )
        polls = control["polls"]
        lines.append(
            f"| status polls ({polls['count']}, {len(polls['errors'])} errors) | "
            f"median {polls['median_seconds']}, max {polls['max_seconds']} | | | |"
        )
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    for t in results["targets"]:
        value = t["value"]
        if isinstance(value, dict):
            value = ", ".join(f"{v} MiB at {k:,}" for k, v in value.items())
        elif isinstance(value, float):
            value = f"{value:.0%}"
        elif isinstance(value, str):
            pass
        else:
            value = f"{value:,} rows/s"
        lines.append(f"| {t['target']} | {value} | {'yes' if t['met'] else 'no'} |")
    return "\n".join(lines)


def main() -> int:
    config = Config.from_env()
    env = _environment(config)
    _ensure_database(config.database_url)
    _django_setup(env)
    from imports.formats import supported_types

    formats = [f for f in config.formats if f in supported_types()]
    skipped = [f for f in config.formats if f not in formats]
    if skipped:
        print(f"Formats without a reader yet, skipped: {', '.join(skipped)}")
    print("Preparing the files (cached under var/bench/)…", flush=True)
    for rows in {config.rows, config.small_rows}:
        data.bench_file("csv", rows, BENCH_DIR)
    for file_type in formats:
        data.bench_file(file_type, config.format_rows, BENCH_DIR)
    data.bench_file("csv", config.die_rows, BENCH_DIR)
    die.ensure_installed()

    _purge_broker()
    results: dict = {"machine": machine(config.database_url), "config": asdict(config)}
    results["config"]["database_url"] = config.database_url.split("@")[-1]
    web, base_url = start_web(env, BENCH_DIR / "logs" / "web.log")
    rounds = []
    try:
        api = Api(base_url, _api_key())
        for n in range(config.repeat):
            print(f"Run {n + 1} of {config.repeat}:", flush=True)
            rounds.append(one_round(api, config, env, formats))
    finally:
        web.stop()
    if os.environ.get("BENCH_CONTROL", "1") != "0":
        print("The embedded default (SQLite, filesystem broker): pause, resume, cancel…", flush=True)
        subprocess.run(
            [sys.executable, "-m", "bench.control"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL
        )
        results["embedded_control"] = json.loads((BENCH_DIR / "control-latency.json").read_text())
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["runs"] = rounds
    results["median"] = summarize(rounds)
    results["targets"] = targets(results["median"], config)
    out = BENCH_DIR / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(markdown(results))
    print(f"\nFigures written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
