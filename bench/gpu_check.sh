#!/usr/bin/env bash
# The trainer's CUDA path and throughput on a lent GPU machine, in one call (see bench/README.md, "gpu_check").
#
# That machine has Python with torch, transformers, sentence-transformers and onnxruntime but no network and
# takes only a few tens of MB along, so the models are rebuilt there from their configuration files with
# random weights (bench/random_model.py: throughput depends on the architecture and the texts, not the
# weights) and the texts are Cranfield's. Node, LanceDB and node-llama-cpp's CUDA build (181 MB) do not fit,
# so the LLM and the TypeScript stages are not measured there.
#
# Usage, from the repository root: bench/gpu_check.sh CARRY OUT
#   CARRY: a folder with arch/minilm and arch/bge (configuration files, no weights) and datasets/cranfield
#   OUT:   where the logs and JSON files go
# Each step has its own time limit and a failing step does not stop the ones after it; the most important
# measurements come first.
set -u
CARRY=${1:?carry folder}
OUT=${2:?output folder}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PY=${PYTHON:-python3}
# DEVICE=cpu QUICK=1 tries the script itself on a machine without a GPU, with tiny sizes.
DEVICE=${DEVICE:-cuda}
if [ "${QUICK:-0}" = 1 ]; then Q=8 DEV=4 C=4 B=4 M=2 M2=4 S=2 P=32; else Q=200 DEV=8 C=20 B=64 M=16 M2=64 S=8 P=256; fi
MODELS=$(mktemp -d)

step() {  # step NAME SECONDS COMMAND...: run with a limit, log to $OUT/NAME.log, say how it ended
  local name=$1 limit=$2
  shift 2
  # ONLY="name …" runs just those steps (a rerun on what little device time is left).
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
  local begin=$SECONDS
  echo "=== $name (limit ${limit}s)"
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
  local status=$?
  echo "=== $name: exit $status after $((SECONDS - begin))s"
  tail -n 25 "$OUT/$name.log" | grep -v -e '^Loading weights' -e '^Writing model'
}

step environment 30 bash -c "nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; nproc; \
  $PY -c 'import torch, transformers, sentence_transformers, onnxruntime as o; print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, torch.cuda.is_available()); print(\"transformers\", transformers.__version__, \"sentence-transformers\", sentence_transformers.__version__); print(\"onnxruntime\", o.__version__, o.get_available_providers())'; \
  command -v node || echo 'no node on this machine'"

step random-models 60 bash -c "$PY bench/random_model.py $CARRY/arch/minilm $MODELS/minilm && $PY bench/random_model.py $CARRY/arch/bge $MODELS/bge"

# The student (all-MiniLM-L6-v2's architecture) as teacher and in training, at the method's micro-batch 16.
step student-throughput 150 "$PY" bench/trainer_throughput.py --device "$DEVICE" --model "$MODELS/minilm" \
  --datasets "$CARRY/datasets" --queries $Q --dev-queries $DEV --candidates $C --teacher-batch 256 --teacher-reps 2 \
  --batch-size $B --micro-batch $M --steps $S --json "$OUT/student.json"

# Headroom: the same training at micro-batch 64 (the batch, and so the result, is the same; only memory and speed change).
step student-micro64 90 "$PY" bench/trainer_throughput.py --device "$DEVICE" --model "$MODELS/minilm" \
  --datasets "$CARRY/datasets" --queries $Q --dev-queries $DEV --candidates $C --teacher-batch 256 --teacher-reps 1 \
  --batch-size $B --micro-batch $M2 --steps $S

# A packaged teacher member's architecture (bge-small-en-v1.5): torch on the GPU against onnxruntime.
step teacher-member 120 "$PY" bench/teacher_device.py --model "$MODELS/bge" \
  --corpus "$CARRY/datasets/cranfield/corpus.jsonl" --passages $P --batch 128 --device "$DEVICE" --reps 2 \
  --json "$OUT/teacher_member.json"

# The trainer's tests with CUDA visible: every test that asks for the device 'auto' runs on the GPU.
step pytest 150 bash -c "cd trainer && PYTHONPATH=.\${PYTHONPATH:+:\$PYTHONPATH} $PY -m pytest -q -p no:cacheprovider -m 'not slow'"

rm -rf "$MODELS"
