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
//! variable works as mimalloc documents.

use std::ffi::{c_int, c_long, CStr};

/// `mi_option_t` values, from mimalloc's `mimalloc.h` (the same in its v2 and v3).
const ARENA_EAGER_COMMIT: c_int = 4;
const PURGE_DELAY: c_int = 15;

extern "C" {
    /// mimalloc's `void mi_option_set(mi_option_t option, long value)`.
    fn mi_option_set(option: c_int, value: c_long);
    /// mimalloc's `long mi_option_get(mi_option_t option)`.
    fn mi_option_get(option: c_int) -> c_long;
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

/// Applies the agent's allocator settings before `main`: the arena setting only
/// applies to arenas reserved after it, and Rust's start-up code allocates (so mimalloc
/// reserves its first arena) before `main` runs. The loader runs the functions listed
/// in `.init_array` before that.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static TUNE_BEFORE_MAIN: extern "C" fn() = tune;

/// Applies the agent's allocator settings (see the module's documentation).
extern "C" fn tune() {
    set_unless_overridden(c"MIMALLOC_ARENA_EAGER_COMMIT", ARENA_EAGER_COMMIT, 0);
    set_unless_overridden(c"MIMALLOC_PURGE_DELAY", PURGE_DELAY, 10);
}

fn set_unless_overridden(variable: &CStr, option: c_int, value: c_long) {
    // SAFETY: `getenv` reads the environment with a NUL-terminated name; nothing else
    // in the agent changes the environment, and the pointer is only compared with
    // null. (`std::env::var_os` would allocate, and this must run before the first
    // allocation.)
    let overridden = !unsafe { libc::getenv(variable.as_ptr()) }.is_null();
    if !overridden {
        // SAFETY: `mi_option_set` stores an integer in mimalloc's option table, which
        // it reads atomically; any value is valid for these two options.
        unsafe { mi_option_set(option, value) };
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_settings_are_in_effect_before_main() {
        // Set by `TUNE_BEFORE_MAIN` before the test harness started, unless the
        // environment overrides it.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(super::purge_delay_ms(), 10);
        }
        if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_none() {
            // SAFETY: reads an integer from mimalloc's option table.
            assert_eq!(
                unsafe { super::mi_option_get(super::ARENA_EAGER_COMMIT) },
                0
            );
        }
    }
}
