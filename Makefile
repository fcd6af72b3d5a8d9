# emer: the two fresh-machine commands are `make demo` and `make test`.
GO      ?= go
BIN     ?= bin/emer
SHARED  ?= ../shared
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build setup test demo bench fuzz clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/emer

# setup installs what the project needs on a fresh Debian machine and is
# idempotent: it does nothing where everything is already present.
setup:
	bash scripts/setup.sh

test: setup
	$(GO) vet ./...
	$(GO) test ./...

demo: setup build
	bash scripts/demo.sh $(BIN) $(SHARED)

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseLabels -fuzztime 30s ./internal/labels
	$(GO) test -run '^$$' -fuzz FuzzReadNpy -fuzztime 30s ./internal/npy
	$(GO) test -run '^$$' -fuzz FuzzReadNpz -fuzztime 30s ./internal/npy

clean:
	rm -rf bin
