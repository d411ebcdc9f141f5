# Courier's two commands, on a fresh machine:
#   make run    builds the optimised site and serves it (http://127.0.0.1:3000)
#   make test   runs every test: lint, unit, integration, browser
# Each first installs whatever is missing (see `tools`). `make dev` runs the
# watch loop (`cargo-leptos watch --split`, the uploader split off; a plain
# `cargo leptos watch` serves the same app from one unsplit bundle).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p;}' Cargo.lock)
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
# cargo-leptos 0.3.6 with a newer WebAssembly splitter, and a last step that
# names the split bundle by its content, built from tools/cargo-leptos and
# tools/bundle-seal (see their Cargo.toml) into a folder named after their
# sources: a change to them installs it again, and any other cargo-leptos on
# the machine is left alone.
CARGO_LEPTOS_SOURCES := $(sort $(wildcard tools/cargo-leptos/Cargo.* tools/cargo-leptos/src/*.rs \
	tools/bundle-seal/Cargo.toml tools/bundle-seal/src/*.rs))
CARGO_LEPTOS_ROOT := $(TARGET_DIR)/tools/cargo-leptos-$(shell cat $(CARGO_LEPTOS_SOURCES) | sha256sum | cut -c1-12)
CARGO_LEPTOS := $(CARGO_LEPTOS_ROOT)/bin/cargo-leptos
SITE_ROOT := $(CURDIR)/target/site
# The same site without the split, as a plain `cargo leptos build` makes it
# (see `site`), for one browser test.
UNSPLIT_SITE_ROOT := $(CURDIR)/target/site-unsplit
# The uploader as a WebAssembly module of its own (`app`'s `split` feature)
# needs the splitter: every split build turns on both.
SPLIT := --split --lib-features split
# A split build whose page still imports the splitter's placeholder module
# would serve a page that never hydrates: stop with a sentence instead.
CHECK_SPLIT = if grep -rqsF --include='*.js' __wasm_split_placeholder__ "$(1)/pkg"; then \
	echo >&2 "error: the split build left the page importing __wasm_split_placeholder__ (in $(1)/pkg): its splitter did not cut the uploader out, and the page would never hydrate. Build with the splitter \`make tools\` installs ($(CARGO_LEPTOS)), or without the \`split\` feature."; \
	exit 1; fi
CHROMIUM_PATH ?= /usr/bin/chromium
FIREFOX_PATH ?= /usr/bin/firefox-esr
WEBKIT_DRIVER_PATH ?= /usr/bin/WebKitWebDriver
NPM_STAMP := end2end/node_modules/.courier-installed
# Tools need no LTO or full optimisation, which would cost minutes to install.
# Garage (the test cluster) hashes every upload: lightly optimised.
CHEAP_TOOL_PROFILE := CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
	CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=true
export CHEAP_TOOL_PROFILE
# cargo-leptos and the wasm-bindgen CLI run for seconds per build: not
# optimised at all (cargo-leptos installs in 7 minutes instead of 12, the CLI
# in 1 instead of 2; a site build takes 2 s longer), except the compressors
# behind `--precompress`, which brotli-compress the bundle at level 11.
BUILD_TOOL_PROFILE := $(subst OPT_LEVEL=1,OPT_LEVEL=0,$(CHEAP_TOOL_PROFILE))
BUILD_TOOL_CONFIG := $(foreach crate,brotli brotli-decompressor alloc-no-stdlib miniz_oxide libflate,\
	--config 'profile.release.package.$(crate).opt-level=3')

# cargo-installed tools and npm's wasm-opt (cargo-leptos would otherwise try
# to download binaryen, and this machine has no internet).
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)
export CHROMIUM_PATH FIREFOX_PATH WEBKIT_DRIVER_PATH

.PHONY: run dev test bench build site tools browser wrk postgres lint unit e2e garage garage-tests clean

## run: build the release site and serve it, with the embedded store unless COURIER_BUCKET is set
run: tools build
	LEPTOS_SITE_ROOT="$${LEPTOS_SITE_ROOT:-$(SITE_ROOT)}" \
	LEPTOS_SITE_ADDR="$${LEPTOS_SITE_ADDR:-127.0.0.1:3000}" \
	LEPTOS_ENV="$${LEPTOS_ENV:-PROD}" \
	"$(TARGET_DIR)/release/courier"

## dev: rebuild and reload on every change
# Unhashed names, which the server sends to be revalidated: the step that
# names the split bundle by its content runs after a build, not in the loop.
dev: tools
	LEPTOS_HASH_FILES=false $(CARGO_LEPTOS) watch $(SPLIT)

## test: every test, as CI runs it
test: tools browser lint unit site e2e garage

# --precompress writes brotli and gzip copies next to each asset; the server
# sends whichever the browser accepts.
build: tools
	$(CARGO_LEPTOS) build --release --precompress $(SPLIT)
	@$(call CHECK_SPLIT,$${LEPTOS_SITE_ROOT:-$(SITE_ROOT)})

# What the browser tests run: the release site (the bundle people get) and
# the debug server, whose dependencies `unit` already compiled, instead of a
# second, optimised build of them all. The server finds the assets' hashes
# next to its binary. Then the same site unsplit, as `cargo leptos build
# --release` without `--split` makes it, for `tests/unsplit.spec.ts`: the
# feature off, its own site root and hash file. It gets the split build's
# RUSTFLAGS (cargo-leptos adds `--emit-relocs` for the splitter), so every
# compiled dependency is shared and it costs only `app`, `frontend`,
# wasm-bindgen and wasm-opt (about 20 s); the relocations stay in its wasm as
# custom sections, which the browser ignores.
site: tools
	$(CARGO_LEPTOS) build --release --precompress --frontend-only $(SPLIT)
	@$(call CHECK_SPLIT,$(SITE_ROOT))
	RUSTFLAGS=-Clink-args=--emit-relocs LEPTOS_SITE_ROOT="$(UNSPLIT_SITE_ROOT)" LEPTOS_HASH_FILE_NAME=hash-unsplit.txt \
		$(CARGO_LEPTOS) build --release --frontend-only
	cargo build -p courier --bin courier
	cp "$(TARGET_DIR)/release/hash.txt" "$(TARGET_DIR)/release/hash-unsplit.txt" "$(TARGET_DIR)/debug/"

lint:
	cargo fmt --all -- --check
	cargo clippy -p wire -p signer -p bundle-seal -p courier-serve -p courier-store -p courier-shares -p courier-test-support -p courier-format -p courier-cli --all-targets -- -D warnings
	cargo clippy -p courier-test-support --no-default-features --all-targets -- -D warnings
	scripts/import-pairs
	cargo clippy -p app --features ssr --all-targets -- -D warnings
	cargo clippy -p courier --all-targets -- -D warnings
	cargo clippy -p frontend -p app --features app/hydrate --target wasm32-unknown-unknown --all-targets -- -D warnings
	cargo clippy -p frontend -p app --features app/hydrate,frontend/split --target wasm32-unknown-unknown --all-targets -- -D warnings

unit: postgres
	cargo test -p wire -p signer -p bundle-seal -p courier-serve -p courier-store -p courier-shares -p courier-format -p courier-cli
	cargo test -p app --features ssr
	cargo test -p courier --lib --bins --test api --test memory

TEST_BIN := $(TARGET_DIR)/debug/courier

e2e: browser $(NPM_STAMP)
	cd end2end && node --test format/
	cd end2end && COURIER_BIN="$(TEST_BIN)" COURIER_SITE_ROOT="$(SITE_ROOT)" \
		COURIER_UNSPLIT_SITE_ROOT="$(UNSPLIT_SITE_ROOT)" npx playwright test

## bench: Courier's figures next to its peers' (boto3, the AWS SDK for JavaScript,
## Uppy Companion, Uppy's bundle), measured in one run; prints one table
bench: tools build browser wrk
	bench/peers/install
	bench/run.py

wrk:
	@command -v wrk >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y wrk; \
		else sudo apt-get update && sudo apt-get install -y wrk; fi; }

## garage: the flows again on a three-node Garage cluster (installed if missing)
garage: site browser $(NPM_STAMP)
	scripts/garage-cluster $(MAKE) --no-print-directory garage-tests

garage-tests:
	# One at a time: some stop a node or change the shared bucket's CORS.
	cargo test -p courier --test garage -- --test-threads=1
	cd end2end && COURIER_BIN="$(TEST_BIN)" COURIER_SITE_ROOT="$(SITE_ROOT)" npx playwright test tests/upload.spec.ts tests/garage-parts.spec.ts

## tools: what building needs, installed only when missing
tools: $(NPM_STAMP)
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@test -x "$(CARGO_LEPTOS)" || \
		$(BUILD_TOOL_PROFILE) cargo $(BUILD_TOOL_CONFIG) install --locked --path tools/cargo-leptos \
			--root "$(CARGO_LEPTOS_ROOT)" --target-dir "$(TARGET_DIR)/tools/build"
	@wasm-bindgen --version 2>/dev/null | grep -q " $(WASM_BINDGEN_VERSION)$$" || \
		$(BUILD_TOOL_PROFILE) cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)

# binaryen (wasm-opt) and Playwright, pinned by end2end/package-lock.json.
$(NPM_STAMP): end2end/package-lock.json
	cd end2end && npm ci --no-audit --no-fund
	touch $@

## browser: Debian's Chromium for Playwright, and its Firefox ESR and
## WebKitGTK (Safari's engine, with a virtual display to run in) for the
## share page's service-worker path (no browser can be downloaded here)
BROWSER_PACKAGES := chromium firefox-esr webkit2gtk-driver xvfb
browser:
	@test -x "$(CHROMIUM_PATH)" -a -x "$(FIREFOX_PATH)" -a -x "$(WEBKIT_DRIVER_PATH)" -a -x /usr/bin/Xvfb || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y $(BROWSER_PACKAGES); \
		else sudo apt-get update && sudo apt-get install -y $(BROWSER_PACKAGES); fi; }

## postgres: Debian's PostgreSQL 15, whose programs the share database's tests
## run as a throwaway cluster (no service is started or needed)
postgres:
	@test -x /usr/lib/postgresql/15/bin/initdb || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y postgresql; \
		else sudo apt-get update && sudo apt-get install -y postgresql; fi; }

clean:
	cargo clean
	rm -rf end2end/node_modules end2end/test-results
