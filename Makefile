# SliceStream build entry points. `make demo` and `make test` work on a fresh Debian 12 machine with the
# Swift toolchain: they install missing system packages first (scripts/install-deps, idempotent).
SWIFT ?= swift
RELEASE_FLAGS := -c release
# The source revision the binaries report (`slicestream_build_info{commit=...}`); empty outside a checkout.
export SLICESTREAM_GIT_COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)

.PHONY: all deps build release test demo bench checkasm clean

all: build

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build $(RELEASE_FLAGS)

# checkasm first: every SIMD kernel against the C reference, bit for bit (also under gcc; on x86-64 also the
# NEON kernels, cross-built, under qemu-aarch64 where scripts/install-deps could install it); the systemd
# unit's static checks (skipped where systemd-analyze is missing); then the suite.
test: deps checkasm
	scripts/check-systemd
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing

demo: release
	@scripts/demo

# Speed of every transform against swscale in the same process, kernel efficiency, and the whole 1080p
# receiver job against ffmpeg lanczos + x264 veryfast in the same run, three pairs and their median
# (release build).
bench: release
	.build/release/slicestream bench --pipeline --pipeline-repeat 3

checkasm:
	scripts/checkasm/run.sh

# Quality per bit on natural clips no model was trained on (MODELS.md): classical pairs, the generic
# upsamplers and the jointly trained slicing pairs, libx264 veryfast CRF 18-38 (FRAMES=N, default 100).
FRAMES ?= 100
EVAL_PAIRS ?= area+lanczos,lanczos+lanczos,bicubic+bicubic,area+sr2x,area+sr2x-hq,slice2x+slice2x-up,slice2x-tconv+slice2x-tconv-up,slice2x-hq+slice2x-hq-up
.PHONY: eval train-data
train-data:
	scripts/fetch-training-data

eval: release train-data
	.build/release/slicestream eval data/videos/balle-jbart.mp4 data/videos/bikes.mp4 data/videos/carphone_pristine.mp4 \
	  --frames $(FRAMES) --pairs $(EVAL_PAIRS)

clean:
	rm -rf .build out

# Install with the systemd service (scripts/install, systemd/README.md). Build first, as your user:
#   make release && sudo make install       # PREFIX=/usr/local; creates the slicestream user, reloads systemd
#   make install DESTDIR=/tmp/stage         # packaging: files only, no accounts, no systemctl
# `make uninstall` keeps /etc/slicestream, /var/lib/slicestream and the accounts.
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: install uninstall

install:
	PREFIX='$(PREFIX)' DESTDIR='$(DESTDIR)' scripts/install install

uninstall:
	PREFIX='$(PREFIX)' DESTDIR='$(DESTDIR)' scripts/install uninstall

# Robustness: the seeded fuzzers with a large budget (ITERATIONS=N to change it), and a long run of a
# loopback node sampling memory, frames and latency (MINUTES=N, default 10; scripts/soak).
.PHONY: fuzz soak

fuzz: deps
	scripts/fuzz $(ITERATIONS)

soak: deps
	scripts/soak $(MINUTES)
