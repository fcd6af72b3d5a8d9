#!/usr/bin/env bash
# Runs emer's main jobs on the material in ../shared: the measured cues of a
# clip (offline perception), then the published metrics on released data.
set -euo pipefail
bin=${1:-bin/emer}
shared=${2:-../shared}
data="$shared/data"
media="$shared/reference/media"
if [ ! -d "$data" ]; then
  echo "demo: $data not found; the demo runs on the released EMER/AffectGPT data kept there" >&2
  exit 1
fi
echo "== emer cues $media/clip.mp4 (faces and expressions, voice, subtitle words; no server, no GPU)"
"$bin" cues "$media/clip.mp4"
echo
echo "== emer score unibench --all (AffectGPT released outputs, best checkpoint per dataset)"
"$bin" score unibench --all \
  --labels-dir "$data/merbench-labels" \
  --outputs-dir "$data/affectgpt-outputs/AffectGPT/output" \
  --wheels "$data/emotion-wheel/affectgpt2025"
echo
echo "== emer score ov --synonyms (OV-MERD example, MER2024 GPT-synonym metric)"
"$bin" score ov --gt "$data/ovmerd/check-openset.csv" --pred "$data/ovmerd/predict-openset.csv" \
  --synonyms "$data/ovmerd/openset-synonym.zip"
echo
echo "== emer score ov --wheels (OV-MERD example, emotion-wheel metrics, 12 columns)"
"$bin" score ov --gt "$data/ovmerd/check-openset.csv" --pred "$data/ovmerd/predict-openset.csv" \
  --wheels "$data/emotion-wheel/affectgpt2025"
