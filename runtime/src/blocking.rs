//! File I/O from async code. Reads, writes, fsyncs and renames of local files block the
//! calling thread; on a tokio worker that would stall every other task scheduled there
//! (a slow disk would hold up the network sources). [`blocking`] tells the runtime first,
//! so it moves those tasks to another worker while this one waits.

use tokio::runtime::{Handle, RuntimeFlavor};

/// Runs `f`, which may block on file I/O. On the multi-threaded runtime agents use, the
/// worker hands its other tasks off first (`block_in_place`); elsewhere (a
/// current-thread runtime in tests, or no runtime) `f` simply runs.
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn other_tasks_run_while_one_blocks() {
        let (tx, rx) = std::sync::mpsc::channel();
        // A task that needs a worker while this one blocks waiting for it.
        tokio::spawn(async move {
            tx.send(()).unwrap();
        });
        let got = blocking(|| rx.recv_timeout(std::time::Duration::from_secs(5)));
        assert!(got.is_ok());
    }

    #[tokio::test]
    async fn on_a_current_thread_runtime_it_just_runs() {
        assert_eq!(blocking(|| 7), 7);
    }
}
