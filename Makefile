# ward: build, test and demo. Run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Debian packages ward builds against (headers and pkg-config files), and
# python3-venv for `make venv`.
DEB_PACKAGES := libuv1-dev libssl-dev libyaml-dev libpcre2-dev libjansson-dev libwslay-dev pkg-config \
  python3-venv shellcheck
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT ?= swift
SOURCES := Sources Tests Package.swift
PYTHON ?= python3
VENV := .venv
VENV_REQUIREMENTS := contrib/requirements-test.txt
# Touched after a successful install: pip runs again only when the requirements change.
VENV_STAMP := $(VENV)/.requirements-installed

.PHONY: help deps build test lint demo venv dist bench clean soak soak-short fuzz fuzz-smoke

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

deps: ## Install the Debian -dev packages ward needs, when missing.
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	  | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; \
	else echo "deps: all present"; fi

# The toolchain's static-stdlib link exports every symbol of the executable
# (-export-dynamic). Nothing loads ward as a library or looks its symbols up,
# and the 4,000 exported names cost 0.5 MiB resident (.dynsym, .dynstr and the
# hash table the loader reads at start), so the release binary exports none.
RELEASE_LINK_FLAGS := -Xlinker --no-export-dynamic

build: deps ## Build the release binary at bin/ward (Swift stdlib linked in statically).
	$(SWIFT) build -c release --static-swift-stdlib --product ward $(RELEASE_LINK_FLAGS)
	@mkdir -p bin
	@# A new file renamed over the old one: a running bin/ward (a daemon, an
	@# MCP server) keeps its own copy, where writing into it fails (ETXTBSY).
	cp "$$($(SWIFT) build -c release --static-swift-stdlib $(RELEASE_LINK_FLAGS) --show-bin-path)/ward" bin/.ward.new
	strip bin/.ward.new
	mv -f bin/.ward.new bin/ward
	@echo "built bin/ward"

test: deps venv ## Build everything; run the Swift tests, then the development control plane's.
	@# The file-trust tests chown fixtures and expect root-owned files, as on a host.
	@if [ "$$(id -u)" != 0 ]; then echo "make test runs as root (file-trust tests need it):" \
	  'sudo env "PATH=$$PATH" make test'; exit 1; fi
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-xctest
	$(VENV)/bin/pytest contrib/devcp/tests -q
	$(VENV)/bin/pytest contrib/tests -q
	$(VENV)/bin/pytest Tests/mcp -q

lint: ## Check formatting and that no shipped target imports Foundation.
	$(SWIFT) format lint --strict -r $(SOURCES)
	@if grep -rnE '^[[:space:]]*(@_exported )?import (Foundation|FoundationEssentials)\b' Sources Tests; then \
	  echo "lint: Foundation is not used in ward (see docs/architecture.md)"; exit 1; fi
	@echo "lint: clean"

demo: build venv ## Run ward connect against the development control plane, then show the journal.
	contrib/demo.sh bin/ward $(VENV)/bin/python

# The release: the binary, packs, service files, config skeleton and docs in
# DIST_DIR/ward-VERSION-OS-ARCH.tar.gz, its .sha256 and install.sh beside it.
# DIST_BIN and DIST_VERSION let the install tests package a stand-in binary.
DIST_BIN ?= bin/ward
DIST_DIR ?= dist
DIST_VERSION ?= $(shell sed -n 's/.*current = "\(.*\)".*/\1/p' Sources/Runner/Support/Version.swift)
DIST_NAME = ward-$(DIST_VERSION)-$(shell uname -s | tr '[:upper:]' '[:lower:]')-$(shell uname -m)
# Every file in the tarball gets the last commit's time, so a rebuild of one
# commit gives the same bytes and the same checksum.
DIST_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

dist: ## Build the release tarball and its .sha256 in dist/ (reuses bin/ward when present).
	@if [ ! -x "$(DIST_BIN)" ]; then $(MAKE) build; fi
	@set -euo pipefail; stage=$$(mktemp -d); trap 'rm -rf "$$stage"' EXIT; \
	  dir=$$stage/$(DIST_NAME); mkdir -p "$$dir/bin" "$$dir/docs"; \
	  cp "$(DIST_BIN)" "$$dir/bin/ward"; \
	  cp -R packs contrib/etc contrib/systemd contrib/launchd "$$dir/"; \
	  cp contrib/install.sh README.md LICENSE.md "$$dir/"; cp docs/*.md "$$dir/docs/"; \
	  printf 'version=%s\nos=%s\narch=%s\n' "$(DIST_VERSION)" "$$(uname -s | tr '[:upper:]' '[:lower:]')" \
	    "$$(uname -m)" >"$$dir/RELEASE"; \
	  chmod -R u+rwX,go+rX,go-w "$$dir"; chmod 0755 "$$dir/bin/ward" "$$dir/install.sh"; \
	  mkdir -p "$(DIST_DIR)"; \
	  tar -C "$$stage" --sort=name --owner=0 --group=0 --numeric-owner \
	    --mtime=@$(DIST_EPOCH) -cf - "$(DIST_NAME)" | gzip -9n >"$(DIST_DIR)/$(DIST_NAME).tar.gz"; \
	  cd "$(DIST_DIR)"; sha256sum "$(DIST_NAME).tar.gz" >"$(DIST_NAME).tar.gz.sha256"; \
	  cp "$(CURDIR)/contrib/install.sh" install.sh; \
	  echo "built $(DIST_DIR)/$(DIST_NAME).tar.gz"

venv: $(VENV_STAMP) ## Create .venv with the Python test tools (contrib/requirements-test.txt).

# Debian's Python refuses a system-wide pip install, so everything goes in the venv.
$(VENV_STAMP): $(VENV_REQUIREMENTS) | deps
	$(PYTHON) -m venv $(VENV)
	@# One retry: a registry hiccup should not fail a whole CI run.
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(VENV_REQUIREMENTS) \
	  || { sleep 5; $(VENV)/bin/python -m pip install --disable-pip-version-check -r $(VENV_REQUIREMENTS); }
	@touch $@

# The benchmarks of issue 6: the release binary against a C sink (compiled here
# with gcc), OpenSSH on a private loopback sshd and the raw pipe. Writes
# docs/benchmarks.json, docs/benchmarks.png and the table in docs/benchmarks.md.
# BENCH_STEPS picks steps (ceiling startup throughput dispatch memory redaction,
# or profile); BENCH_REPS and the other BENCH_* variables in contrib/bench/bench.py
# shorten a run.
BENCH_STEPS ?=
BENCH_STAMP := $(VENV)/.bench-requirements-installed
bench: build venv ## Run the benchmarks (contrib/bench) and update docs/benchmarks.md.
	@[ -x /usr/sbin/sshd ] && command -v gcc >/dev/null || { $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq openssh-server gcc; }
	@[ contrib/bench/requirements.txt -ot $(BENCH_STAMP) ] || { \
	  $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
	    -r contrib/bench/requirements.txt && touch $(BENCH_STAMP); }
	$(VENV)/bin/python contrib/bench/bench.py bin/ward docs $(BENCH_STEPS)

# The soak drives `ward connect` (the debug build) through devcp; see docs/reliability.md.
SOAK_RUNS ?= 100000
SOAK_OUT ?= soak-out

soak: venv ## Soak: SOAK_RUNS runs through ward connect with drops; chart in SOAK_OUT.
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r contrib/soak/requirements.txt
	$(SWIFT) build --product ward
	$(VENV)/bin/python contrib/soak/soak.py --runs $(SOAK_RUNS) --out $(SOAK_OUT)

soak-short: venv ## The soak's CI size: 2000 runs, a drop every 500, no chart needed.
	$(SWIFT) build --product ward
	$(VENV)/bin/python contrib/soak/soak.py --runs 2000 --drop-every 500 --sample-every 100 \
	  --out $(SOAK_OUT)

# Coverage-guided fuzzing (libFuzzer + ASan, contrib/fuzz/): every target in turn,
# never two at once, since the machine's cores are shared.
FUZZ_SECONDS ?= 60
# Long enough to load the seeds and run a few thousand inputs per target.
FUZZ_SMOKE_SECONDS ?= 5

fuzz: deps ## Run every fuzz target for FUZZ_SECONDS each (default 60); crashes fail it.
	contrib/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke: deps ## Run every fuzz target for about 5 s (what CI runs).
	@# A fixed seed: the same mutations on every CI run, so a red smoke run is reproducible.
	FUZZ_SEED=1 contrib/fuzz/run.sh $(FUZZ_SMOKE_SECONDS)

clean: ## Remove build outputs.
	rm -rf .build bin
