"""Benchmarks that cannot rot: every benchmarks/*.py (not the _helpers) runs
with --smoke (tiny sizes, one round) in a subprocess, on this run's database
engine, with a scratch database of its own. A benchmark fails here when it
cannot run, or when a query count it claims constant grows with N (those
measure two sizes in smoke mode and exit non-zero)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPTS = sorted(path.name for path in BENCHMARKS.glob("*.py") if not path.name.startswith("_"))


def scratch_environment(name, tmp_path):
    """The benchmark's own database: never this test session's (it drops what it creates)."""
    env = {**os.environ, "CAREFUL_VAR_DIR": str(tmp_path), "CELERY_BROKER_URL": "memory://",
           "PYTHONUNBUFFERED": "1"}
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = ""
        env["TEST_SQLITE_NAME"] = str(tmp_path / "bench.sqlite3")
    else:
        settings = connection.settings_dict
        password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
        env["DATABASE_URL"] = (f"postgres://{settings['USER']}{password}@{settings['HOST'] or '127.0.0.1'}:"
                               f"{settings['PORT'] or 5432}/{settings['NAME']}")
        env["TEST_DATABASE_NAME"] = f"{settings['NAME']}_bench_{Path(name).stem}"
    return env


@pytest.mark.parametrize("name", SCRIPTS)
def test_benchmark_runs_at_smoke_size(name, tmp_path):
    # As the README runs them: from the project root.
    result = subprocess.run([sys.executable, f"benchmarks/{name}", "--smoke"], cwd=BENCHMARKS.parent,
                            env=scratch_environment(name, tmp_path),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{name} --smoke failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
