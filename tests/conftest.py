import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from config.celery import app as celery_app
from registry.choices import Role

from .factories import install_workflow_policy, make_dataset, make_tenant, make_user, make_version

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    # PBKDF2 costs 0.84 s per user created, and tests create hundreds; nothing
    # here tests the hasher's strength (production keeps Django's default).
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _eager_celery():
    """Tasks run in-process unless a test asks for a real worker (``celery_worker_process``)."""
    celery_app.conf.task_always_eager = True
    yield


@pytest.fixture
def tenant_a(db):
    return make_tenant("tenant-a")


@pytest.fixture
def tenant_b(db):
    return make_tenant("tenant-b")


@pytest.fixture
def alice(tenant_a):
    """Contributor and tenant admin of tenant A: owns A's data."""
    return make_user("alice", tenant=tenant_a, roles=[Role.CONTRIBUTOR, Role.TENANT_ADMIN], is_staff=True)


@pytest.fixture
def bob(tenant_a):
    """Viewer of tenant A."""
    return make_user("bob", tenant=tenant_a, roles=[Role.VIEWER])


@pytest.fixture
def charlie(tenant_b):
    """Contributor and tenant admin of tenant B: should have no access to A's stuff."""
    return make_user("charlie", tenant=tenant_b, roles=[Role.CONTRIBUTOR, Role.TENANT_ADMIN], is_staff=True)


@pytest.fixture
def dataset_a(alice, tenant_a):
    return make_dataset(alice, tenant_a, "dataset-a")


@pytest.fixture
def version_a(alice, dataset_a):
    return make_version(alice, dataset_a)


@pytest.fixture
def workflow_policy(db):
    install_workflow_policy()


def api_client_for(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api():
    return api_client_for


def _worker_database_url():
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user, host, port = settings["USER"], settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


class WorkerProcess:
    """A real ``celery worker`` process on the configured broker (Redis in CI,
    the filesystem transport otherwise), sharing the test database."""

    def __init__(self, tmp_path):
        self.log_path = tmp_path / "worker.log"
        self.process = None

    def start(self):
        env = {**os.environ, "DATABASE_URL": _worker_database_url(), "CELERY_TASK_ALWAYS_EAGER": "false"}
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.wait_for_log("ready", timeout=60)
        return self

    def wait_for_log(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_path.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.log_path.read_text(errors='replace')}")
            time.sleep(0.2)
        raise TimeoutError(f"worker log never said {text!r}:\n{self.log_path.read_text(errors='replace')}")

    def kill(self):
        """SIGKILL the whole worker (main process and pool children): a crash, not a shutdown."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self):
        """Warm shutdown (unacked tasks go back to the broker), but the test is
        over: a worker still busy after 5 s is killed rather than waited for."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def celery_worker_process(tmp_path, transactional_db):
    """Start a real worker; tasks sent during the test go through the broker to it.
    Tests using it need ``django_db(transaction=True)`` so the worker sees their rows."""
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    worker = WorkerProcess(tmp_path).start()
    yield worker
    worker.stop()
    celery_app.conf.task_always_eager = True


def wait_until(predicate, timeout=60, interval=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium driven by Playwright (no browser download)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs it)")
    # Playwright's sync API runs an event loop on this thread; Django's ORM calls
    # made by the test itself are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def login(page, username, password="pw-Careful-123"):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
