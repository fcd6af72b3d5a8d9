#!/usr/bin/env bash
# The demo: emer's main job, explaining a clip's emotion with the embedded
# offline reasoner, on a clip made here from the face-api package's photos
# and espeak-ng speech (no server, no GPU, no data beside the repository).
# Where the released EMER/AffectGPT material is at ../shared, the published
# metrics are reproduced on it afterwards.
set -euo pipefail
bin=${1:-bin/emer}
shared=${2:-../shared}
dir=build/demo

bash "$(dirname "$0")/democlip.sh" "$dir"
echo
echo "== emer infer $dir/clip.mp4 (the local reasoner: measured face, voice and words; no server, no GPU)"
"$bin" infer "$dir/clip.mp4"

data="$shared/data"
if [ ! -d "$data" ]; then
	exit 0
fi
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
