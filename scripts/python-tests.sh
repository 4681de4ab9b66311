#!/usr/bin/env bash
# Lints and tests the trainer package in the project's Python environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../trainer"
../.venv/bin/python -m ruff check .
../.venv/bin/python -m ruff format --check .
../.venv/bin/python -m pytest -q
