# The test command of the README and of CI: installs what tests need, then runs every suite.
.PHONY: test deps fmt rust-test lint web-test web-unit e2e bench

test: deps fmt rust-test web-test

deps:
	./scripts/install-test-deps.sh

# One build for lints and tests: Cargo runs clippy-driver (rustc with clippy's lints, warnings
# denied) on the workspace's own crates inside the test build, so the dependencies are compiled
# once; a separate `cargo clippy` would check them all again (about 5 minutes on 2 cores).
LINTED = RUSTC_WORKSPACE_WRAPPER="$$(command -v clippy-driver)" CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

fmt:
	cargo fmt --all -- --check

# By itself (make test lints inside rust-test's build instead).
lint: fmt
	cargo clippy --workspace --all-targets --quiet -- -D warnings

# Every target of the workspace, linted as it is built, then its tests.
rust-test:
	@command -v clippy-driver >/dev/null || { echo "clippy-driver not found: rustup component add clippy"; exit 1; }
	$(LINTED) cargo test --workspace --all-targets

# The web client: node unit tests, then the page in Chromium, Firefox and WebKitGTK against `drift serve`
# (the debug binary `cargo test` builds; set DRIFT_BIN to test another).
web-test: web-unit e2e

web-unit:
	npm run --silent unit

e2e:
	$(LINTED) cargo build --quiet
	npm run --silent e2e

# Figures for docs/PERFORMANCE.md (not part of the tests): `drift-bench`, which runs the release
# `drift` it measures, so both are built.
bench:
	cargo build --release
	cargo run --release -p drift-bench
