#!/usr/bin/env bash
# Installs what emer needs on a fresh Debian machine with Go. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# Go modules are pinned in go.mod/go.sum; fetch them once.
go mod download
