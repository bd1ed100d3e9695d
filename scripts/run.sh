#!/usr/bin/env bash
# One command to a running registry: venv, install, migrate, demo data, a Celery
# worker with the beat schedule, and the web server on http://127.0.0.1:8000/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings}
.venv/bin/python manage.py migrate --no-input -v 0
.venv/bin/python manage.py load_demo
mkdir -p var
# One worker that also runs the beat schedule (-B): one beat only, as Celery requires.
.venv/bin/celery -A config worker -B --loglevel=INFO --concurrency=1 \
  --schedule var/celerybeat-schedule >var/celery-worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT
echo "Celery worker (pid $worker, beat included) logs to var/celery-worker.log"
echo "Open http://127.0.0.1:${PORT:-8000}/ and log in with one of the users above (admin for the Django admin)."
.venv/bin/python manage.py runserver "127.0.0.1:${PORT:-8000}"
