//! Supervision: what happens when a source or sink fails (Flume's lifecycle supervisor).
//!
//! A source whose `run` returns an error or panics is built again from its config and
//! restarted; a sink whose `write` panics has its batch rolled back and carries on. Each
//! restart waits a backoff (1 s doubling to 60 s), is logged at error level with its
//! cause and counted in `sluice_component_restarts_total`. A component that fails
//! `max_restarts` times in a row (a run longer than a minute resets the count), or any
//! failure under `on_failure = "exit"`, ends the agent with exit code 1 so a service
//! manager (`Restart=on-failure`) takes over. Nothing fails silently.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::agent_config::OnFailure;
use crate::catalogue::Role;
use crate::metrics::Counter;
use crate::shutdown::{Shutdown, ShutdownTrigger};

/// First wait before a restart.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Longest wait before a restart.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A run at least this long counts as healthy: the failure count starts again.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// The agent's failure policy, from its `agent` block.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub on_failure: OnFailure,
    /// Consecutive failures of one component that end the agent.
    pub max_restarts: u64,
}

/// Why the agent gave up, once some component made it (the first reason wins).
#[derive(Clone, Debug, Default)]
pub struct Fatal(Arc<Mutex<Option<String>>>);

impl Fatal {
    fn set(&self, reason: String) {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(reason);
    }

    /// The reason the agent must exit non-zero, if any.
    pub fn reason(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Decides, for one component, whether to restart after a failure.
pub struct Supervisor {
    role: Role,
    name: &'static str,
    policy: Policy,
    restarts: Arc<Counter>,
    fatal: Fatal,
    trigger: Arc<ShutdownTrigger>,
    shutdown: Shutdown,
    consecutive: u64,
    backoff: Duration,
    /// A sink keeps draining while the agent stops (bounded by `shutdown_timeout`), so
    /// it is resumed then too; a source is not.
    resumes_while_stopping: bool,
}

impl Supervisor {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        role: Role,
        name: &'static str,
        policy: Policy,
        restarts: Arc<Counter>,
        fatal: Fatal,
        trigger: Arc<ShutdownTrigger>,
        shutdown: Shutdown,
    ) -> Supervisor {
        Supervisor {
            role,
            name,
            policy,
            restarts,
            fatal,
            trigger,
            shutdown,
            consecutive: 0,
            backoff: FIRST_BACKOFF,
            resumes_while_stopping: role == Role::Sink,
        }
    }

    /// The component failed with `cause` after running `ran_for`. Returns `true` once
    /// the backoff has passed and the component should run again; `false` when the
    /// agent is stopping (the failure was fatal, or shutdown began meanwhile).
    pub async fn failed(&mut self, cause: &str, ran_for: Duration) -> bool {
        let (role, name) = (self.role.keyword(), self.name);
        let stopping = self.shutdown.is_triggered();
        if stopping && !self.resumes_while_stopping {
            tracing::error!(
                role,
                component = name,
                cause,
                "failed while the agent stops"
            );
            return false;
        }
        if ran_for >= HEALTHY_RUN {
            self.consecutive = 0;
            self.backoff = FIRST_BACKOFF;
        }
        self.consecutive += 1;
        let give_up = match self.policy.on_failure {
            OnFailure::Exit => Some(format!("{role} `{name}` failed: {cause}")),
            OnFailure::Restart if self.consecutive > self.policy.max_restarts => Some(format!(
                "{role} `{name}` failed {} times in a row (max_restarts = {}); last: {cause}",
                self.consecutive, self.policy.max_restarts
            )),
            OnFailure::Restart => None,
        };
        if let Some(reason) = give_up {
            tracing::error!(role, component = name, cause, "failed; stopping the agent");
            self.fatal.set(reason);
            self.trigger.trigger();
            return false;
        }
        self.restarts.inc();
        tracing::error!(
            role,
            component = name,
            cause,
            restart_in_ms = self.backoff.as_millis() as u64,
            failures_in_a_row = self.consecutive,
            "failed; restarting"
        );
        let wait = self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        if self.resumes_while_stopping {
            tokio::time::sleep(wait).await;
            return true;
        }
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(wait) => true,
            _ = shutdown.wait() => false,
        }
    }

    /// Starts timing a run, for [`Supervisor::failed`].
    pub fn started(&self) -> Instant {
        Instant::now()
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        format!("panicked: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("panicked: {s}")
    } else {
        "panicked".to_owned()
    }
}

/// A future whose panics become `Err(payload)` instead of unwinding through the caller.
pub struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> CatchUnwind<F> {
    pub fn new(future: F) -> Self {
        CatchUnwind(Box::pin(future))
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        // The future is not polled again after a panic (the caller gets `Err` and drops
        // it), so no broken state is observed through it.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}
