#!/usr/bin/env bash
# Run every benchmark once, one after another (never in parallel: they would measure each other), and print
# all tables. Results land in benchmarks/results/{envs,ppo,transformer}.json; worker logs beside them.
#
#   bash benchmarks/run_all.sh                  # set up the peers' venv if missing, then run
#   bash benchmarks/run_all.sh --repeats 5      # extra arguments go to every benchmark
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="$HERE/.venv-peers/bin/python"
if [ ! -x "$PY" ]; then
    bash "$HERE/setup.sh"
fi

echo "== environment steps/s =="
"$PY" "$HERE/bench_envs.py" "$@"
echo
echo "== PPO training steps/s =="
"$PY" "$HERE/bench_ppo.py" "$@"
echo
echo "== transformer training steps/s (mesaopt vs PyTorch) =="
"$PY" "$HERE/bench_transformer.py" "$@"
