import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_is_clean_with_production_settings():
    # The browser fixture sets DJANGO_ALLOW_ASYNC_UNSAFE for this process only; no deployment has it.
    env = {
        **{name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings_production",
        "SECRET_KEY": "x" * 20 + "-production-test-key-Q8w7e6r5t4y3u2i1o0p9",
        "ALLOWED_HOSTS": "registry.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_an_empty_database_url_means_the_embedded_sqlite_default(tmp_path):
    # CI runs the suite as `DATABASE_URL= scripts/test.sh`.
    env = {**os.environ, "DATABASE_URL": "", "CAREFUL_VAR_DIR": str(tmp_path)}
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "django.db.backends.sqlite3"


def test_production_refuses_to_start_without_secret_key():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_production", "ALLOWED_HOSTS": "x"}
    env.pop("SECRET_KEY", None)
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


HEAVY_LIBRARIES = ("pandas", "scipy", "sklearn", "evidently")


def test_loading_the_url_conf_imports_no_heavy_library():
    # A fresh interpreter: this test process has long since imported them all.
    code = (
        "import sys, django; django.setup(); import config.urls; "
        f"print(sorted({{name.partition('.')[0] for name in sys.modules}} & set({HEAVY_LIBRARIES!r})))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]", "loaded at start-up: " + result.stdout


@pytest.mark.django_db
def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_demo_loads_twice_and_prints_fresh_logins(capsys):
    from registry.models import Dataset

    call_command("load_demo")
    first = capsys.readouterr().out
    call_command("load_demo")
    second = capsys.readouterr().out
    assert "admin" in first and first != second
    assert Dataset.objects.filter(slug="rare-compliance-anchor", kind="real_anchor").exists()
    anchor = Dataset.objects.get(slug="rare-compliance-anchor").versions.get().manifest
    assert anchor.never_train_on and anchor.eval_exclusion
