#!/usr/bin/env bash
# The speed figures of the README's "GPU figures", in one run on a lent GPU (about 6 minutes):
#   1. decode ms/step, eager vs. the fast path, batch 1 and 8 (Qwen3-4B shape, random weights)
#   2. the whole pipeline on the fast path (TORCH_COMPILE=auto): warm-up (compiles), stages,
#      photo -> first line, first draft, replies/s at 1, 4, 8, 16 users, peak memory
#   3. the same pipeline eager, for replies/s against the fast path
# Usage (repo root): bash tests/bench/gpu_speed.sh
#   CPU smoke test: DEVICE=cpu SCALE=0.02 TOKENS=8 bash tests/bench/gpu_speed.sh
# Wheels the GPU machine lacks (diffusers, pydantic-settings...) go in .whl/, see ../shared/GPU.md.
set -u
OUT=${OUT:-$(mktemp -d)}
DEVICE=${DEVICE:-cuda}
SCALE=${SCALE:-1.0}
TOKENS=${TOKENS:-48}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --target .site .whl/*.whl
  export PYTHONPATH=$PWD/.site:$PYTHONPATH
fi
PY=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null

run() {  # name, limit in seconds, command...: log to $OUT, print only the table
  local name=$1 limit=$2
  shift 2
  local started=$SECONDS
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  echo "== $name (rc $rc, $((SECONDS - started)) s)"
  sed -n '/^decode,\|^models:/,$p' "$OUT/$name.log"
  [ "$rc" = 0 ] || tail -n 5 "$OUT/$name.log"
}

run decode 150 "$PY" tests/bench/bench_decode.py --device "$DEVICE" --scale "$SCALE" \
  --steps 64 --json "$OUT/decode.json"
run pipeline-fast 200 "$PY" tests/bench/bench_pipeline.py --device "$DEVICE" --models full-size \
  --scale "$SCALE" --rounds 2 --max-new-tokens "$TOKENS" --no-pictures --torch-compile auto \
  --json "$OUT/pipeline-fast.json"
run pipeline-eager 130 "$PY" tests/bench/bench_pipeline.py --device "$DEVICE" --models full-size \
  --scale "$SCALE" --rounds 1 --max-new-tokens "$TOKENS" --no-pictures --torch-compile false \
  --json "$OUT/pipeline-eager.json"
echo "logs and json: $OUT"
