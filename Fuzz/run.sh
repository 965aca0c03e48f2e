#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzzer + address sanitizers) and runs each for a bounded time, one at a
# time, from the committed seeds in Fuzz/corpora/<target>/.
#
#   Fuzz/run.sh                      every target for $FUZZ_SECONDS (default 60) seconds
#   Fuzz/run.sh FuzzCBOR FuzzDigits  only these targets
#   FUZZ_SECONDS=5 Fuzz/run.sh       a smoke run (what `make fuzz-smoke` does)
#   Fuzz/run.sh --list               the target names
#
# Environment: FUZZ_SECONDS (per target), FUZZ_CONFIG (release or debug; default release),
# FUZZ_ARTIFACTS (default <repo>/fuzz-artifacts, git-ignored), FUZZ_EXTRA_ARGS (more libFuzzer flags).
#
# New coverage is kept in $FUZZ_ARTIFACTS/<target>/corpus (reused by later runs); a crash input is written
# to $FUZZ_ARTIFACTS/<target>/crash-* and the run continues with the next target. The script ends with a
# table of executions per second and coverage (cov = edges, ft = features) per target, and exits 1 if any
# target crashed, leaked or timed out. Fix the bug, then keep the input as a regression test:
#   cp fuzz-artifacts/<target>/crash-<sha1> Fuzz/regressions/<target>/
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(dirname "$fuzz_dir")"
seconds="${FUZZ_SECONDS:-60}"
config="${FUZZ_CONFIG:-release}"
artifacts="${FUZZ_ARTIFACTS:-$repo_dir/fuzz-artifacts}"

# The targets, in the order Package.swift lists them.
all_targets=()
while IFS= read -r name; do all_targets+=("$name"); done < <(
    sed -n '/^let fuzzTargets = \[/,/^\]/p' "$fuzz_dir/Package.swift" | grep -o '"Fuzz[A-Za-z]*"' | tr -d '"')

if [[ "${1:-}" == "--list" ]]; then
    printf '%s\n' "${all_targets[@]}"
    exit 0
fi
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then targets=("${all_targets[@]}"); fi
for target in "${targets[@]}"; do
    if [[ ! " ${all_targets[*]} " == *" $target "* ]]; then
        echo "unknown fuzz target '$target' (known: ${all_targets[*]})" >&2
        exit 2
    fi
done

echo "== building ${#targets[@]} fuzz target(s), $config, -sanitize=fuzzer,address"
# SwiftPM passes the fuzzer sanitizer only to executable targets; -Xswiftc adds its coverage
# instrumentation to every Swift module (the harnesses and the code under test), without which libFuzzer
# runs blind ("no interesting inputs were found").
build_flags=(--package-path "$fuzz_dir" -c "$config" --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer)
build() {
    # The toolchain's gold linker warns once per ASan helper symbol; the warnings are harmless, so drop them.
    swift build "${build_flags[@]}" 2>&1 | grep -v "ld.gold: warning: Cannot export local symbol"
    return "${PIPESTATUS[0]}"
}
# Other engineers edit the tree while it builds ("was modified during the build"): retry once.
build || build || { echo "build failed" >&2; exit 1; }
bin_dir="$(swift build "${build_flags[@]}" --show-bin-path)"
for target in "${targets[@]}"; do
    counters="$(SWIFT_BACKTRACE=enable=no "$bin_dir/$target" -runs=0 2>&1 \
        | sed -nE 's/^INFO: Loaded [0-9]+ modules? +\(([0-9]+) inline 8-bit counters.*/\1/p' | head -n 1 || true)"
    if [[ -z "$counters" || "$counters" -lt 10000 ]]; then
        echo "$target is not coverage-instrumented (${counters:-no} counters): fuzzing would be blind" >&2
        exit 1
    fi
done

# libFuzzer handles crashes itself; Swift's backtracer would attach to the dying process and hang.
export SWIFT_BACKTRACE=enable=no
# Allocations made once by a Swift global initialiser are not leaks (see the file).
export LSAN_OPTIONS="suppressions=$fuzz_dir/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# read FUZZ_EXTRA_ARGS as words (e.g. "-max_len=8192 -dict=x")
read -r -a extra_args <<<"${FUZZ_EXTRA_ARGS:-}"

failed=()
summary=()
for target in "${targets[@]}"; do
    work="$artifacts/$target"
    mkdir -p "$work/corpus"
    log="$work/fuzz.log"
    echo "== $target: ${seconds}s (log: ${log#"$repo_dir"/})"
    status=0
    # One process, one job: the machine is shared. -timeout catches hangs (a single input > 10 s).
    "$bin_dir/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/" "${extra_args[@]}" \
        "$work/corpus" "$fuzz_dir/corpora/$target" >"$log" 2>&1 || status=$?
    # The last status line: "#N  DONE  cov: C ft: F corp: …  exec/s: E  rss: …".
    last="$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
    runs="$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+$' || echo "?")"
    cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")"
    ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")"
    execs="$(grep -oE '^stat::average_exec_per_sec: *[0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+$' || echo "?")"
    verdict="ok"
    if [[ $status -ne 0 ]]; then
        verdict="FAILED (exit $status)"
        failed+=("$target")
        grep -E '^(==[0-9]+==ERROR|SUMMARY|Fatal error|.*fuzz invariant violated)' "$log" | head -n 5 || true
        ls -1 "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null \
            | sed 's/^/  reproducer: /' || true
    fi
    row="$(printf '| %-24s | %8s | %9s | %6s | %6s |' "$target" "${execs:-?}" "${runs:-?}" "${cov:-?}" "${ft:-?}")"
    summary+=("$row $verdict |")
done

echo
echo "| target                   |  exec/s  |    runs   |  cov   |   ft   | result |"
echo "|--------------------------|----------|-----------|--------|--------|--------|"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzzing found problems in: ${failed[*]}" >&2
    exit 1
fi
