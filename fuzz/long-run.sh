#!/usr/bin/env bash
# The long fuzz runs: each target until 10 million executions or 30 minutes, whichever comes
# first, on its committed corpus (plus seeds), then the corpus minimized back into corpus/<target>/.
# Appends one line of figures per target to long-runs.tsv (date, target, seconds, execs, exec/s,
# cov, ft, corpus files, crashes). Usage: fuzz/long-run.sh [target ...]   (default: all)
# Needs cargo-fuzz (`cargo install cargo-fuzz`); RUSTC_BOOTSTRAP=1 stands in for nightly.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
RUNS=${FUZZ_RUNS:-10000000}
SECS=${FUZZ_SECS:-1800}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
    cargo fuzz build -O
else
    # Only what will run (a build of every target links them all).
    for t in "${targets[@]}"; do cargo fuzz build -O "$t"; done
fi
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    dirs=("corpus/$t")
    [ -d "seeds/$t" ] && dirs+=("seeds/$t")
    log="artifacts/$t/long-run.log"
    start=$(date +%s)
    status=0
    cargo fuzz run -O "$t" "${dirs[@]}" -- -runs="$RUNS" -max_total_time="$SECS" \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
    secs=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    covft=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+).*/\1\t\2/')
    crashes=$(find "artifacts/$t" -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' | wc -l)
    # Minimize the corpus in place (merge into a fresh directory, then swap).
    rm -rf "corpus/$t.min" && mkdir "corpus/$t.min"
    cargo fuzz run -O "$t" "corpus/$t.min" "corpus/$t" -- -merge=1 >"artifacts/$t/merge.log" 2>&1
    rm -rf "corpus/$t" && mv "corpus/$t.min" "corpus/$t"
    files=$(find "corpus/$t" -type f | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%F)" "$t" "$secs" "$execs" "$rate" \
        "$covft" "$files" "$crashes" | tee -a long-runs.tsv
    [ "$status" -eq 0 ] || echo "$t: the fuzzer stopped with status $status (see $log)" >&2
done
