#!/usr/bin/env bash
# A longer run of the random-flow compile test (tests/random_flows.rs): generates COUNT
# random valid flows (default 50) from SEED and compiles each generated crate with
# `cargo check -D warnings`. CI compiles 3.
#   bash bench/random_flows.sh [COUNT] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
export SLUICE_RANDOM_FLOWS="${1:-50}"
export SLUICE_RANDOM_FLOWS_SEED="${2:-$RANDOM}"
echo "compiling $SLUICE_RANDOM_FLOWS random flows, seed $SLUICE_RANDOM_FLOWS_SEED"
time cargo test -q -p sluice-tests --test random_flows -- --nocapture
