#!/usr/bin/env bash
# Set up the peers' environment for the benchmarks. Peers are never core dependencies of mesaopt: they live
# only in benchmarks/.venv-peers, next to an editable install of mesaopt from this repository.
#
#   bash benchmarks/setup.sh            # create or update benchmarks/.venv-peers
#   PYTHON=python3.11 bash benchmarks/setup.sh
#
# Pins: torch is the CPU build 2.13.0 (a CUDA build pulls gigabytes of NVIDIA wheels and buys nothing on
# CPU); jax is pinned to the version mesaopt's own venv uses, so both sides of every JAX comparison run on
# the same XLA. If a future peer cannot live with that jax, give it its own venv and point the driver at it
# with MESAOPT_BENCH_PYTHON_<SIDE> (see benchmarks/README.md).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
PYTHON="${PYTHON:-python3.11}"
VENV="${VENV:-$HERE/.venv-peers}"
JAX_VERSION="${JAX_VERSION:-0.10.2}"
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)

CONSTRAINTS="$VENV/constraints.txt"
cat >"$CONSTRAINTS" <<EOF
torch==$TORCH_VERSION
jax==$JAX_VERSION
jaxlib==$JAX_VERSION
gymnasium<1.4
EOF

# 1. torch first, alone, so nothing later can choose another build.
"${PIP[@]}" -c "$CONSTRAINTS" "torch==$TORCH_VERSION"
# 2. mesaopt itself (editable, with the evolution extra: evosax) on the pinned jax.
"${PIP[@]}" -c "$CONSTRAINTS" -e "$REPO[evolution]"
# 3. The peers. gymnax (used by rejax) caps gymnasium below 1.4; Farama Minigrid and SB3 accept that.
"${PIP[@]}" -c "$CONSTRAINTS" navix xminigrid minigrid stable-baselines3 rejax gymnax cma

"$VENV/bin/python" - <<'EOF'
from importlib.metadata import version
names = ["mesaopt", "jax", "jaxlib", "torch", "navix", "xminigrid", "minigrid", "gymnasium",
         "stable-baselines3", "rejax", "gymnax", "flax", "evosax", "cma"]
print("benchmarks/.venv-peers:", ", ".join(f"{n} {version(n)}" for n in names))
import torch
assert not torch.version.cuda, f"expected a CPU torch build, got CUDA {torch.version.cuda}"
EOF
