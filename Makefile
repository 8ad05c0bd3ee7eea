# SliceStream build entry points. `make demo` and `make test` work on a fresh Debian 12 machine with the
# Swift toolchain: they install missing system packages first (scripts/install-deps, idempotent).
SWIFT ?= swift
RELEASE_FLAGS := -c release

.PHONY: all deps build release test demo bench clean

all: build

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build $(RELEASE_FLAGS)

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing

demo: release
	@scripts/demo

clean:
	rm -rf .build out
