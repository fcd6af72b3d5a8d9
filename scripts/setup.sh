#!/usr/bin/env bash
# Installs what emer needs on a fresh Debian machine with Go. Idempotent and
# quiet when everything is already present.
set -euo pipefail
cd "$(dirname "$0")/.."

# Go modules are pinned in go.mod/go.sum; fetch them once.
go mod download

# Debian packages, installed only when their command is missing:
#   ffmpeg/ffprobe  media decoding (internal/media)
#   espeak-ng, sox  synthesised speech and sound for tests
#   npm             fetches the face model package (emer models install)
#   chromium        the browser test of emer serve's rating pages (internal/web)
#   postgresql      the shared store's tests start throwaway clusters (internal/pgstore);
#                   Debian keeps initdb under /usr/lib/postgresql/VERSION/bin, off PATH
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need ffmpeg ffmpeg
need ffprobe ffmpeg
need espeak-ng espeak-ng
need sox sox
need npm npm
need chromium chromium
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
	missing+=(postgresql)
fi

if ((${#missing[@]})); then
	# Each package once.
	mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
	echo "setup: installing ${pkgs[*]}"
	SUDO=()
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1; then
			SUDO=(sudo)
		else
			echo "setup: need root or sudo to install ${pkgs[*]}" >&2
			exit 1
		fi
	fi
	export DEBIAN_FRONTEND=noninteractive
	"${SUDO[@]}" apt-get update -qq
	"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

# Face model files, pinned by SHA-256; does nothing when they verify.
out=$(go run ./cmd/emer models install)
case $out in
"model files already"*) ;;
*) echo "$out" ;;
esac
