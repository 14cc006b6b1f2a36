#!/usr/bin/env bash
# The test command: installs what is missing, lints, then runs the whole suite on real servers.
# Extra arguments go to pytest (for example: scripts/test.sh -k spool).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports
exec .venv/bin/pytest -q -ra "$@"
