//! The agent's allocator: mimalloc, with two settings that keep an agent's resident
//! memory near its live data.
//!
//! - `arena_eager_commit = 0`: mimalloc's first 1 GiB arena, committed eagerly, cost
//!   about 4 MiB resident before the agent had done anything (its page metadata); on
//!   demand, under 1 MiB.
//! - `purge_delay = 0`: memory freed back to the arena is returned to the OS at once
//!   instead of after mimalloc's default second. At a few hundred MB/s a second of
//!   freed buffers is tens of MiB; the `http_to_file` benchmark agent peaked at 35 MiB
//!   with the default and at 23 MiB with both settings, at the same CPU time.
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
    set_unless_overridden(c"MIMALLOC_PURGE_DELAY", PURGE_DELAY, 0);
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
