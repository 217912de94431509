//! The agent's allocator: mimalloc, with two settings that keep an agent's resident
//! memory near its live data.
//!
//! - `arena_eager_commit = 0`: mimalloc's first 1 GiB arena, committed eagerly, cost
//!   about 4 MiB resident before the agent had done anything (its page bookkeeping);
//!   committed on demand, under 1 MiB. An idle agent went from 8.4 to 4.5 MiB.
//! - `purge_delay = 10` (milliseconds, mimalloc 2's default): memory freed back to an
//!   arena is returned to the OS after 10 ms instead of mimalloc 3's second. At a few
//!   hundred MB/s a second of freed buffers is tens of MiB. Measured in the same run
//!   (`bench.py`, 256 MiB, 3 runs each): `tcp_to_null` peaked at 9.8 MiB instead of
//!   12.3 and `http_to_file` at 25.4 instead of 33.4, at no more CPU time. Purging at
//!   once (`0`) saved a little more memory but cost up to a quarter more CPU
//!   (`tcp_to_null` 2.0 CPU s/GiB instead of 1.6): freed pages came back as page faults.
//!
//! Either can be overridden with mimalloc's own environment variable
//! (`MIMALLOC_ARENA_EAGER_COMMIT`, `MIMALLOC_PURGE_DELAY`); every other `MIMALLOC_*`
//! variable works as mimalloc documents. Linux only; elsewhere mimalloc's defaults.

use std::ffi::{c_int, c_long};

/// `mi_option_t` values, from mimalloc's `mimalloc.h` (the same in its v2 and v3).
const ARENA_EAGER_COMMIT: c_int = 4;
const PURGE_DELAY: c_int = 15;

extern "C" {
    /// mimalloc's `void mi_option_set_default(mi_option_t option, long value)`: sets
    /// an option unless the environment did (`MIMALLOC_<NAME>`, in any case, or its
    /// older name), before or after mimalloc read the environment.
    fn mi_option_set_default(option: c_int, value: c_long);
    /// mimalloc's `long mi_option_get(mi_option_t option)`.
    fn mi_option_get(option: c_int) -> c_long;
}

/// Applies the agent's allocator settings before `main`: the arena setting only
/// applies to arenas reserved after it, and Rust's start-up code allocates (so mimalloc
/// reserves its first arena) before `main` runs. The loader runs the functions listed
/// in `.init_array` before that. Linux only: elsewhere mimalloc keeps its defaults.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static TUNE_BEFORE_MAIN: extern "C" fn() = tune;

/// Applies the agent's allocator settings (see the module's documentation).
#[cfg(target_os = "linux")]
extern "C" fn tune() {
    // SAFETY: `mi_option_set_default` stores an integer in mimalloc's option table;
    // it allocates nothing and any value is valid for these two options. No other
    // thread exists yet.
    unsafe {
        mi_option_set_default(ARENA_EAGER_COMMIT, 0);
        mi_option_set_default(PURGE_DELAY, 10);
    }
}

/// The purge delay in effect, in milliseconds. Also makes sure the linker keeps
/// [`TUNE_BEFORE_MAIN`]: nothing else refers to it, and an unreferenced part of a
/// library may be left out of the binary.
pub fn purge_delay_ms() -> i64 {
    #[cfg(target_os = "linux")]
    std::hint::black_box(&TUNE_BEFORE_MAIN);
    // SAFETY: reads an integer from mimalloc's option table.
    i64::from(unsafe { mi_option_get(PURGE_DELAY) })
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_settings_are_in_effect_before_main() {
        // Set by `TUNE_BEFORE_MAIN` before the test harness started, unless the
        // environment overrides it.
        let set = |name: &str| std::env::vars_os().any(|(k, _)| k.eq_ignore_ascii_case(name));
        if !set("MIMALLOC_PURGE_DELAY") && !set("MIMALLOC_RESET_DELAY") {
            assert_eq!(super::purge_delay_ms(), 10);
        }
        if !set("MIMALLOC_ARENA_EAGER_COMMIT") && !set("MIMALLOC_EAGER_REGION_COMMIT") {
            // SAFETY: reads an integer from mimalloc's option table.
            assert_eq!(
                unsafe { super::mi_option_get(super::ARENA_EAGER_COMMIT) },
                0
            );
        }
    }
}
