# The two quick-start commands: `make run` (set up, build, serve the demo site) and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
LISTEN ?= 127.0.0.1:8080
FUZZ_SECONDS ?= 60

.PHONY: all deps deps-test configure build run test test-sanitize asan-build tsan-build fuzz fuzz-build \
	fuzz-smoke sanitize-smoke hardening-smoke micro clean man install deb

all: build

deps:
	@bash scripts/install-deps.sh

# What only the tests use (sanitizers, fuzzing, the anchor servers, headless Chromium).
deps-test:
	@bash scripts/install-deps.sh --test

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) --target c10k -j $(JOBS)

# The live scoreboard: the demo site, with a game simulator publishing to channel "score".
run: build
	./$(BUILD_DIR)/c10k serve --root examples/site --listen $(LISTEN) --demo

# The man page, $(BUILD_DIR)/c10k.1, written by help2man from the binary's --help.
man: configure
	cmake --build $(BUILD_DIR) --target man -j $(JOBS)

# `make install [PREFIX=/usr/local] [DESTDIR=/tmp/stage]`: the binary, the systemd units, the
# config (kept if one is there), the demo site, the man page and the docs (cmake/packaging.cmake);
# the units and the config are written for PREFIX.
PREFIX ?= /usr/local
install: configure
	cmake --build $(BUILD_DIR) --target c10k man -j $(JOBS)
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD_DIR) --prefix "$(PREFIX)"

# The Debian package, $(BUILD_DIR)/c10k_<version>_<arch>.deb (CPack): what `make install` puts
# under /usr, the config in /etc/c10k as a conffile; Depends computed by dpkg-shlibdeps.
# Install it with `sudo apt install ./$(BUILD_DIR)/c10k_*.deb`.
deb: configure
	cmake --build $(BUILD_DIR) --target c10k man -j $(JOBS)
	cd $(BUILD_DIR) && cpack -G DEB

test: deps-test configure
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j $(JOBS)
	$(MAKE) --no-print-directory hardening-smoke

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan), then the
# end-to-end suites, whose servers run several threads, under ThreadSanitizer (build-tsan).
# HostileMemory, PushMemory and ProxyBodyMemory are left out of both: under a sanitizer the
# server's RSS measures shadow memory and ASan's quarantine, not what a client makes the server
# hold (and ProxyBodyMemory's gigabytes would take minutes there). MillionScript too: 50,000
# connections under a sanitizer measure nothing and take minutes.
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
TSAN_ENV := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
SANITIZE_EXCLUDE := HostileMemory|PushMemory|ProxyBodyMemory|CgiMemory|FastcgiMemory|MillionScript
# The sanitizer builds use clang at -O1 with line tables only (enough for symbolized stack
# traces). GCC at -O2 -g took 2.5 times as long to compile the same files with ASan+UBSan
# (serve_command.cpp: 179 s against 72 s on a loaded 2-core machine), and these builds were most
# of CI's time.
SAN_FLAGS := -O1 -gline-tables-only -DNDEBUG
SAN_CMAKE := CC=clang CXX=clang++ cmake -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$(SAN_FLAGS)" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$(SAN_FLAGS)"
asan-build: deps-test
	$(SAN_CMAKE) -S . -B build-asan -DC10K_SANITIZE=address,undefined
	cmake --build build-asan -j $(JOBS)

tsan-build: deps-test
	$(SAN_CMAKE) -S . -B build-tsan -DC10K_SANITIZE=thread
	cmake --build build-tsan --target c10k integration_tests conformance_tests websocket_tests -j $(JOBS)

test-sanitize: asan-build tsan-build
	cd build-asan && $(ASAN_ENV) ctest --output-on-failure --timeout 900 -j $(JOBS) \
	  -E '$(SANITIZE_EXCLUDE)'
	cd build-tsan && $(TSAN_ENV) ctest --output-on-failure --timeout 900 -j $(JOBS) \
	  -L 'integration|conformance' -E '$(SANITIZE_EXCLUDE)'

# libFuzzer targets (fuzz/), built with clang in build-fuzz. Every library is instrumented for
# coverage (-fsanitize=fuzzer-no-link) and checked by ASan+UBSan (no recovery: any report is a
# crash); only the targets link libFuzzer's main. `make fuzz` runs each target for FUZZ_SECONDS
# over a working corpus in build-fuzz/corpus/<target> (new inputs land there) seeded from the
# checked-in fuzz/corpus/<target>, with the target's dictionary (fuzz/<target>.dict) or else the
# HTTP one.
FUZZ_TARGETS := session path range_conditional response_parser websocket proxy_response \
  proxy_protocol fastcgi_records
FUZZ_FLAGS := -fsanitize=fuzzer-no-link -fno-sanitize-recover=all
FUZZ_RUN_FLAGS ?=
fuzz-build: deps-test
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DC10K_BUILD_FUZZ=ON -DC10K_BUILD_TESTS=OFF -DC10K_SANITIZE=address,undefined \
	  "-DCMAKE_C_FLAGS=$(FUZZ_FLAGS)" "-DCMAKE_CXX_FLAGS=$(FUZZ_FLAGS)"
	cmake --build build-fuzz --target fuzz_all -j $(JOBS)

fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	  dict=fuzz/http.dict; if [ -f fuzz/$$t.dict ]; then dict=fuzz/$$t.dict; fi; \
	  ASAN_OPTIONS=detect_leaks=1 ./build-fuzz/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	    -dict=$$dict -print_final_stats=1 $(FUZZ_RUN_FLAGS) \
	    build-fuzz/corpus/$$t fuzz/corpus/$$t; \
	done

# What `make test` (and so CI, which runs only `make test`) adds after the normal suite, so that
# fuzzers and sanitizers run on every change within CI's time: each fuzz target for
# SMOKE_FUZZ_SECONDS from the checked-in seeds (two at a time; new inputs go to a scratch folder,
# not the seed corpus), then the unit and integration suites (the hostile-client tests among them)
# and the epoll conformance suites (HTTP, and the WebSocket suite's epoll cases) under ASan+UBSan,
# and the integration suite (whose flood test runs two loops on one shared connection budget) and
# the thread, epoll, fork, prefork and staged conformance suites (and the WebSocket suite's
# thread cases) under TSan (staged: requests cross from loops to pools and back; fork and
# prefork: no thread may exist when a process forks;
# 'fork' also matches prefork). Those two added about 85% to the TSan conformance run (145
# tests instead of 87; 152 s instead of 82 s of wall time at -j2 on a loaded machine). Cost
# before them, measured on 2 cores (docs/HARDENING.md): the runs take about 2 minutes
# (fuzzing 35 s, ASan 25 s, TSan 35 s); the three extra builds (clang fuzz libraries, ASan and
# TSan builds of what runs) took 21 CPU-minutes the first time, about 11 minutes of wall time on
# 2 idle cores, and are incremental afterwards. The complete sanitizer suites are
# `make test-sanitize`; long fuzzing is `make fuzz`.
SMOKE_FUZZ_SECONDS ?= 15
hardening-smoke: fuzz-smoke sanitize-smoke

fuzz-smoke: fuzz-build
	@set -e; rm -rf build-fuzz/smoke-corpus; for pair in "session path" "range_conditional response_parser" "websocket proxy_response" "proxy_protocol fastcgi_records"; do \
	  pids=""; for t in $$pair; do \
	    mkdir -p build-fuzz/smoke-corpus/$$t; \
	    dict=fuzz/http.dict; if [ -f fuzz/$$t.dict ]; then dict=fuzz/$$t.dict; fi; \
	    ./build-fuzz/fuzz/fuzz_$$t -max_total_time=$(SMOKE_FUZZ_SECONDS) -dict=$$dict \
	      -artifact_prefix=build-fuzz/smoke-corpus/$$t- build-fuzz/smoke-corpus/$$t fuzz/corpus/$$t \
	      > build-fuzz/smoke-corpus/$$t.log 2>&1 & pids="$$pids $$!"; \
	  done; \
	  status=0; for pid in $$pids; do wait $$pid || status=1; done; \
	  for t in $$pair; do grep -E "^#[0-9]+[[:space:]]+DONE" build-fuzz/smoke-corpus/$$t.log | sed "s/^/fuzz_$$t: /"; done; \
	  if [ $$status -ne 0 ]; then for t in $$pair; do tail -n 40 build-fuzz/smoke-corpus/$$t.log; done; exit 1; fi; \
	done

# The smoke builds only what it runs; ctest stands in a failing "<target>_NOT_BUILT" test for
# each test executable not built, which the smoke leaves out.
SMOKE_ASAN_TARGETS := c10k unit_core unit_serve unit_websocket integration_tests conformance_tests \
  websocket_tests
sanitize-smoke: deps-test
	$(SAN_CMAKE) -S . -B build-asan -DC10K_SANITIZE=address,undefined
	cmake --build build-asan --target $(SMOKE_ASAN_TARGETS) -j $(JOBS)
	$(MAKE) --no-print-directory tsan-build
	cd build-asan && $(ASAN_ENV) ctest --output-on-failure --timeout 900 -j $(JOBS) \
	  -L 'unit|integration' -E '$(SANITIZE_EXCLUDE)|_NOT_BUILT'
	cd build-asan && $(ASAN_ENV) ctest --output-on-failure --timeout 900 -j $(JOBS) \
	  -L conformance -R 'AllEngines/.*epoll|^Engines/[^ ]*/epoll '
	cd build-tsan && $(TSAN_ENV) ctest --output-on-failure --timeout 900 -j $(JOBS) \
	  -L integration -E '$(SANITIZE_EXCLUDE)'
	cd build-tsan && $(TSAN_ENV) ctest --output-on-failure --timeout 900 -j $(JOBS) \
	  -L conformance -R 'AllEngines/.*(thread|epoll|fork|prefork|staged)|^Engines/[^ ]*/thread '

micro: deps-test
	cmake -S . -B build-micro -G Ninja -DCMAKE_BUILD_TYPE=Release -DC10K_BUILD_MICRO=ON
	cmake --build build-micro -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-fuzz build-micro
