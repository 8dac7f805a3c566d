# The two quick-start commands: `make run` (set up, build, serve the demo site) and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
LISTEN ?= 127.0.0.1:8080
FUZZ_SECONDS ?= 60

.PHONY: all deps configure build run test test-sanitize fuzz fuzz-build fuzz-smoke micro clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) --target c10k -j $(JOBS)

run: build
	./$(BUILD_DIR)/c10k serve --root examples/site --listen $(LISTEN)

test: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j $(JOBS)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer, in its own build folder.
test-sanitize: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DC10K_SANITIZE=address,undefined
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure --timeout 900 -j $(JOBS)

# libFuzzer targets (fuzz/), built with clang in build-fuzz. Every library is instrumented for
# coverage (-fsanitize=fuzzer-no-link) and checked by ASan+UBSan (no recovery: any report is a
# crash); only the targets link libFuzzer's main. `make fuzz` runs each target for FUZZ_SECONDS
# over a working corpus in build-fuzz/corpus/<target> (new inputs land there) seeded from the
# checked-in fuzz/corpus/<target>, with the HTTP dictionary.
FUZZ_TARGETS := session path range_conditional response_parser
FUZZ_FLAGS := -fsanitize=fuzzer-no-link -fno-sanitize-recover=all
FUZZ_RUN_FLAGS ?=
fuzz-build: deps
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DC10K_BUILD_FUZZ=ON -DC10K_BUILD_TESTS=OFF -DC10K_SANITIZE=address,undefined \
	  "-DCMAKE_C_FLAGS=$(FUZZ_FLAGS)" "-DCMAKE_CXX_FLAGS=$(FUZZ_FLAGS)"
	cmake --build build-fuzz --target fuzz_all -j $(JOBS)

fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	  ASAN_OPTIONS=detect_leaks=1 ./build-fuzz/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	    -dict=fuzz/http.dict -print_final_stats=1 $(FUZZ_RUN_FLAGS) \
	    build-fuzz/corpus/$$t fuzz/corpus/$$t; \
	done

micro: deps
	cmake -S . -B build-micro -G Ninja -DCMAKE_BUILD_TYPE=Release -DC10K_BUILD_MICRO=ON
	cmake --build build-micro -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-fuzz build-micro
