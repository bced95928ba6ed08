#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each (default 20) and exits non-zero if any of
# them finds a crash (a panic: a property assertion or a bug). Crashing inputs are kept in
# fuzz/artifacts/<target>/; reproduce one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none <target> fuzz/artifacts/<target>/<file>
#
# Toolchain notes: cargo-fuzz drives libFuzzer through rustc flags that only nightly accepts
# (-Z...). This machine has one stable toolchain and no nightly can be installed, so we set
# RUSTC_BOOTSTRAP=1, which lets stable rustc accept them. `--sanitizer none`: Portcullis
# forbids unsafe code, so AddressSanitizer would find nothing a panic does not, and it would
# slow every run down; the coverage instrumentation libFuzzer needs stays on.
set -euo pipefail

seconds="${1:-20}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS per target]" >&2
  exit 2
fi
cd "$(dirname "$0")"

CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

export RUSTC_BOOTSTRAP=1
cargo fuzz build --sanitizer none

failed=()
for target in $(cargo fuzz list); do
  mkdir -p "corpus/$target"
  echo "== fuzzing $target for ${seconds}s"
  # The committed seeds are read; new inputs go to corpus/ (not committed).
  # Each target's dictionary holds the tokens of its grammar (prefixes, escapes, ports).
  if ! cargo fuzz run --sanitizer none "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -dict="$target.dict" -use_value_profile=1 -rss_limit_mb=2048 \
    -print_final_stats=1; then
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "fuzzing found crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzzing: no crash in $(cargo fuzz list | wc -l) targets, ${seconds}s each"
