# The test command of the README and of CI: installs what tests need, then runs every suite.
.PHONY: test deps rust-test lint web-test web-unit e2e bench bench-test

test: deps lint rust-test web-test

deps:
	./scripts/install-test-deps.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings

# The drift package only: `lint` already checks every target of the bench (clippy), and its two
# small unit tests are not worth linking another test binary in every CI run (`make bench-test`).
rust-test:
	cargo test --all-targets

# The web client: node unit tests, then the page in Chromium, Firefox and WebKitGTK against `drift serve`
# (the debug binary `cargo test` builds; set DRIFT_BIN to test another).
web-test: web-unit e2e

web-unit:
	npm run --silent unit

e2e:
	cargo build --quiet
	npm run --silent e2e

# Figures for docs/PERFORMANCE.md (not part of the tests): `drift-bench`, which runs the release
# `drift` it measures, so both are built.
bench:
	cargo build --release
	cargo run --release -p drift-bench

# The bench's own unit tests (a metrics parser, a tiny feature-extraction run).
bench-test:
	cargo test -p drift-bench
