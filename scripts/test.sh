#!/usr/bin/env bash
# One command for the whole test suite: venv, install, then pytest.
# SQLite by default; set DATABASE_URL=postgres://... to run it on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
