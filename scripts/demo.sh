#!/usr/bin/env bash
# Runs emer's main job on the data in ../shared.
set -euo pipefail
bin=${1:-bin/emer}
shared=${2:-../shared}
data="$shared/data"
if [ ! -d "$data" ]; then
  echo "demo: $data not found; the demo scores the released EMER/AffectGPT data kept there" >&2
  exit 1
fi
echo "== MER-UniBench (AffectGPT released outputs), best checkpoint per dataset"
"$bin" score unibench --all \
  --labels-dir "$data/merbench-labels" \
  --outputs-dir "$data/affectgpt-outputs/AffectGPT/output" \
  --wheels "$data/emotion-wheel/affectgpt2025"
echo
echo "== OV-MERD open-vocabulary example, MER2024 GPT-synonym metric"
"$bin" score ov --gt "$data/ovmerd/check-openset.csv" --pred "$data/ovmerd/predict-openset.csv" \
  --synonyms "$data/ovmerd/openset-synonym.zip"
echo
echo "== OV-MERD open-vocabulary example, emotion-wheel metrics (12 columns)"
"$bin" score ov --gt "$data/ovmerd/check-openset.csv" --pred "$data/ovmerd/predict-openset.csv" \
  --wheels "$data/emotion-wheel/affectgpt2025"
