"""No database connection leak under load (PostgreSQL).

The run command (``manage.py runserver``, one thread per request) and the
production server (gunicorn with the production settings) each serve 200
concurrent authenticated API requests from a separate process; afterwards the
number of PostgreSQL connections to the database returns to its baseline
(runserver: connections close with each request) or stays within the
server's pool of threads (gunicorn: one kept connection per worker thread).
Before the fix, ~60 concurrent requests left 98 idle connections under
runserver and PostgreSQL refused every client ("too many clients already")."""
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from .conftest import ROOT, _worker_database_url
from .factories import make_dataset, make_tenant, make_user

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="counts PostgreSQL connections"),
    pytest.mark.django_db(transaction=True),
]

REQUESTS = 200
GUNICORN_WORKERS, GUNICORN_THREADS = 2, 4


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _connections():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
                       "pg_backend_pid()")
        return cursor.fetchone()[0]


def _server(kind, port, log):
    env = {**os.environ, "DATABASE_URL": _worker_database_url(), "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("CONN_MAX_AGE", None)
    if kind == "runserver":
        command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    else:
        env.update(DJANGO_SETTINGS_MODULE="config.settings_production", SECRET_KEY=secrets.token_urlsafe(64),
                   ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="false")
        command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}",
                   "-w", str(GUNICORN_WORKERS), "--threads", str(GUNICORN_THREADS)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _get(url, token):
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None


def _wait_until_up(url, token, process, log_path):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log_path.read_text())
        try:
            return _get(url, token)
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(log_path.read_text())


@pytest.mark.parametrize("kind", ["runserver", "gunicorn"])
def test_two_hundred_concurrent_requests_leave_no_connection_behind(kind, tmp_path):
    tenant = make_tenant("load-tenant")
    user = make_user("loader", tenant=tenant)
    for i in range(5):
        make_dataset(user, tenant, f"load-{i}")
    token = Token.objects.create(user=user).key
    baseline = _connections()
    port, log_path = _free_port(), tmp_path / f"{kind}.log"
    with open(log_path, "wb") as log:
        process = _server(kind, port, log)
        try:
            url = f"http://127.0.0.1:{port}/api/datasets/"
            assert _wait_until_up(url, token, process, log_path)[0] == 200
            with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
                results = list(pool.map(lambda _: _get(url, token), range(REQUESTS)))
            statuses = sorted({status for status, _ in results})
            assert statuses == [200], (statuses, log_path.read_text()[-3000:])
            assert all(body["count"] == 5 for _, body in results)
            during = _connections()
            # runserver closes each request's connection; gunicorn keeps one per thread.
            allowed = baseline + (0 if kind == "runserver" else GUNICORN_WORKERS * GUNICORN_THREADS)
            deadline = time.monotonic() + 10
            while _connections() > allowed and time.monotonic() < deadline:
                time.sleep(0.2)
            after = _connections()
        finally:
            os.killpg(process.pid, 15)
            process.wait(timeout=30)
    print(f"\n{kind}: {REQUESTS} concurrent requests, all 200; connections baseline {baseline}, "
          f"right after {during}, settled {after} (allowed {allowed})")
    assert after <= allowed, f"{after - baseline} connections left open (allowed {allowed - baseline})"
