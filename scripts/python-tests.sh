#!/usr/bin/env bash
# Lints the trainer package and the Python benchmarks (one ruff config: trainer/pyproject.toml) and tests the
# trainer package in the project's Python environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../trainer"
../.venv/bin/python -m ruff check . ../bench
../.venv/bin/python -m ruff format --check . ../bench
# Everything the tests write (pytest's tmp_path, the trainer's stderr files, torchrun's agent folders)
# goes under one folder that is removed afterwards: pytest alone keeps its last three runs, about 2 GB each.
TMPDIR="$(mktemp -d -t specialize-pytest-XXXXXX)"
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
../.venv/bin/python -m pytest -q
