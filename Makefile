# The test command of the README and of CI: installs what tests need, then runs every suite.
.PHONY: test deps rust-test lint web-test bench

test: deps lint rust-test web-test

deps:
	./scripts/install-test-deps.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets --quiet -- -D warnings

rust-test:
	cargo test --all-targets

web-test:
	@if [ -f package.json ]; then npm test; fi

# Figures for docs/PERFORMANCE.md (not part of the tests).
bench:
	cargo run --release -- bench
