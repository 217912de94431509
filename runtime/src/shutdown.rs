//! The shutdown signal shared by all tasks.

#![warn(missing_docs)]

use tokio::sync::watch;

/// Cloneable handle that resolves once shutdown has begun.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Receiver<bool>);

/// The side that starts shutdown.
#[derive(Debug)]
pub struct ShutdownTrigger(watch::Sender<bool>);

/// A trigger and the handle it fires.
pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger(tx), Shutdown(rx))
}

impl ShutdownTrigger {
    /// Fires: every handle sees shutdown from now on.
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }
}

impl Shutdown {
    /// Whether shutdown has begun.
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves when shutdown begins (at once if it has).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|&stop| stop).await;
    }

    /// Waits until triggered; never returns when the trigger is dropped without firing
    /// (`wait` returns then).
    pub async fn wait_fired(&mut self) {
        if self.0.wait_for(|&stop| stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
