#!/usr/bin/env bash
# Lints the trainer package and the Python benchmarks (one ruff config: trainer/pyproject.toml) and tests the
# trainer package in the project's Python environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../trainer"
../.venv/bin/python -m ruff check . ../bench
../.venv/bin/python -m ruff format --check . ../bench
../.venv/bin/python -m pytest -q
