# swift-cable: two-command quick start.
#   make demo   full register + sign-in on loopback (installs what it needs first)
#   make test   every test (installs what it needs first)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Same flags for every build so `make test` and `make demo` share one build.
SWIFT_BUILD_FLAGS := -Xswiftc -warnings-as-errors
APT_PACKAGES := libssl-dev libqrencode-dev pkg-config qrencode zbar-tools librsvg2-bin openssl libsqlite3-dev libdbus-1-dev dbus-daemon nginx systemd libxml2-utils
PIP_PACKAGES := pillow zxing-cpp websockets cryptography fido2 webauthn dbus-next prometheus-client
VENV := .venv-tools
# Tests run at once by `make test`: 8 on two cores is within 15 % of unbounded (71 s against 62 s).
TEST_WIDTH := 8
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps venv build test test-serial demo docs bench fuzz fuzz-smoke test-asan test-tsan clean fleet-test format lint

# Installs the Debian packages that are missing (C libraries, QR tools used as oracles by tests).
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

# Python tools the tests use as independent oracles (QR decoders, a WebSocket client, crypto).
venv: $(VENV)/.ok
# Depends on the Makefile so that an existing venv gets packages added to PIP_PACKAGES later.
$(VENV)/.ok: Makefile
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check $(PIP_PACKAGES)
	touch $@

build: deps
	swift build --build-tests $(SWIFT_BUILD_FLAGS)

test: deps venv build
	@# The embedding example must run, not only build: one cross-device ceremony on loopback.
	"$$(swift build $(SWIFT_BUILD_FLAGS) --show-bin-path)/LoopbackPairing" > /dev/null 2>&1 || { echo "Examples/LoopbackPairing failed"; exit 1; }
	@# In parallel, at most $(TEST_WIDTH) tests at a time (swift-testing otherwise starts all ~2,800
	@# test cases at once: on two cores a relay's accept then waited 18-28 s behind the other tests'
	@# jobs in Swift's cooperative pool, and tests that check a deadline failed under load).
	swift test --skip-build --parallel --experimental-maximum-parallelization-width $(TEST_WIDTH)

# The same suite one test at a time.
test-serial: deps venv build
	swift test --skip-build --no-parallel

demo: deps
	swift build $(SWIFT_BUILD_FLAGS) --product cable
	"$$(swift build $(SWIFT_BUILD_FLAGS) --show-bin-path)/cable" demo

# DocC documentation of every library product (swift-docc-plugin), one archive each under
# .build/plugins/Swift-DocC/outputs/. Any DocC warning (an unresolved symbol link, a symbol a topic
# names that does not exist) fails the target.
DOC_TARGETS := CableCBOR CableProtocol CableCTAP CableTerminalQR CableTunnel CableRelay CableRelyingParty CableTrust CableDesktop CableCeremonies CableAuthenticator CableBlueZ CableConformance
docs: deps
	@for target in $(DOC_TARGETS); do \
	  echo "docs: $$target"; \
	  log=$$(swift package generate-documentation --target "$$target" --warnings-as-errors 2>&1) \
	    || { echo "$$log"; echo "docs: $$target failed"; exit 1; }; \
	  if grep -q "warning:" <<< "$$log"; then echo "$$log" | grep -A3 "warning:"; echo "docs: $$target has warnings"; exit 1; fi; \
	done

# A relay fleet on loopback: nginx (deploy/nginx) in front of 3 `cable relay` instances, 300 passkey
# registrations through the front door, then one instance killed mid-run (docs/deploy.md).
# FLEET_CEREMONIES, FLEET_CONCURRENCY, FLEET_SIGNAL=KILL|TERM, FLEET_KEEP=1 (see deploy/nginx/fleet-test).
fleet-test: deps
	swift build $(SWIFT_BUILD_FLAGS) --product cable
	swift build $(SWIFT_BUILD_FLAGS) --product FleetLoad
	deploy/nginx/fleet-test "$$(swift build $(SWIFT_BUILD_FLAGS) --show-bin-path)"

# The test suite under AddressSanitizer (and LeakSanitizer, with the toolchain's own allocations
# suppressed: see Tests/lsan-suppressions.txt) and under ThreadSanitizer (with two runtime-internal
# reports suppressed: see Tests/tsan-suppressions.txt), each in its own build folder. Reports go to files
# (Tests/run-sanitized) and are printed after the run; any unsuppressed report makes it exit non-zero.
test-asan: deps venv
	swift build --build-tests --sanitize=address --scratch-path .build-asan
	Tests/run-sanitized address .build-asan --no-parallel

test-tsan: deps venv
	swift build --build-tests --sanitize=thread --scratch-path .build-tsan
	Tests/run-sanitized thread .build-tsan --no-parallel

# Coverage-guided fuzzing of every parser of outside input (Fuzz/README.md): each target for
# FUZZ_SECONDS, one at a time; fuzz-smoke runs each for a few seconds so they keep building (CI).
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) Fuzz/run.sh

fuzz-smoke: deps
	FUZZ_SECONDS=5 Fuzz/run.sh

# Benchmarks in release mode, each figure beside its same-run baseline (see BENCHMARKS.md).
# BENCH_ARGS=--json for a machine-readable last line; --quick for a smoke run; --filter NAME.
BENCH_ARGS ?=
bench: deps
	swift run -c release $(SWIFT_BUILD_FLAGS) CableBenchmarks $(BENCH_ARGS)

# Formatting with the toolchain's swift-format and the root `.swift-format` (swift-nio's style:
# 4-space indent, lines of at most 120). `format` rewrites the files; `lint` fails on any difference
# or rule violation (CI runs it).
FORMAT_PATHS := Package.swift Sources Tests Examples Benchmarks Fuzz/Package.swift Fuzz/Sources
format:
	swift format format --in-place --parallel --recursive $(FORMAT_PATHS)

lint:
	swift format lint --strict --parallel --recursive $(FORMAT_PATHS)

clean:
	rm -rf .build $(VENV)
