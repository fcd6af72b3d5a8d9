#!/usr/bin/env bash
# Makes the demo clip: a face photo from the face-api npm package (the
# package emer's face models come from), speech synthesised by espeak-ng
# and a subtitle track, muxed by ffmpeg into DIR/clip.mp4. Needs only what
# `make setup` installs; does nothing when the clip is already there.
set -euo pipefail
dir=${1:-build/demo}
pkg=@vladmandic/face-api@1.7.15
clip="$dir/clip.mp4"
[ -s "$clip" ] && exit 0
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# sample3.jpg of the package's demo folder: three people, the one at the
# centre smiling. A 4:3 window around her face, scaled to 640x480 (her
# face about 150 px wide, the others out of frame).
(cd "$work" && npm pack --silent "$pkg" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/demo/sample3.jpg
ffmpeg -nostdin -v error -y -i "$work/package/demo/sample3.jpg" \
	-vf "crop=1280:960:527:0,scale=640:480" "$work/face.png"

# Speech with a second of silence before and after, as in a real clip.
text1="I am so happy to see you again."
text2="This is wonderful news, thank you!"
espeak-ng -v en-us -s 160 -p 60 -w "$work/speech.wav" "$text1 $text2"
ffmpeg -nostdin -v error -y -f lavfi -t 1 -i anullsrc=r=22050:cl=mono -i "$work/speech.wav" \
	-f lavfi -t 1 -i anullsrc=r=22050:cl=mono -filter_complex "[0:a][1:a][2:a]concat=n=3:v=0:a=1" \
	"$work/audio.wav"
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/audio.wav")
half=$(awk -v d="$dur" 'BEGIN { printf "%.3f", d / 2 }')
end=$(awk -v d="$dur" 'BEGIN { printf "%.3f", d - 0.8 }')
srt_time() { awk -v t="$1" 'BEGIN { s = int(t); ms = int((t - s) * 1000 + 0.5); printf "00:00:%02d,%03d", s, ms }'; }
cat >"$work/subs.srt" <<SRT
1
00:00:01,000 --> $(srt_time "$half")
$text1

2
$(srt_time "$half") --> $(srt_time "$end")
$text2
SRT

ffmpeg -nostdin -v error -y -loop 1 -framerate 25 -i "$work/face.png" -i "$work/audio.wav" -i "$work/subs.srt" \
	-map 0:v -map 1:a -map 2:s -t "$dur" -c:v libx264 -tune stillimage -pix_fmt yuv420p \
	-c:a aac -ar 16000 -c:s mov_text -metadata:s:s:0 language=eng "$work/clip.mp4"
mv "$work/clip.mp4" "$clip"
echo "demo: made $clip ($(printf '%.1f' "$dur") s: a face from $pkg, espeak-ng speech, a subtitle track)"
