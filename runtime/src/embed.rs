//! Agents inside a Rust program: what `sluice_flow::flow!{ … }` expands to, and the
//! in-process endpoints that connect the program to its flow.
//!
//! ```ignore
//! use sluice_flow::flow;
//! use sluice_runtime::embed;
//! use sluice_runtime::prelude::*;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), AgentError> {
//!     let orders = embed::sender("orders", 1_000);
//!     embed::on_batch("totals", |batch: &[Event]| {
//!         for event in batch {
//!             println!("{}", event.body_text());
//!         }
//!         Ok(())
//!     });
//!     let agent = flow! {
//!         source orders = in_process { endpoint = "orders" }
//!         transform big = filter { when = int(.amount) > 100 }
//!         channel mem = memory
//!         sink totals = in_process { endpoint = "totals" }
//!         flow orders | big -> mem -> totals
//!     };
//!     let running = tokio::spawn(agent.run());
//!     orders.send(Event::new("…")).await?;
//!     drop(orders); // the source ends when every sender is gone; the agent drains and stops
//!     running.await.unwrap()
//! }
//! ```
//!
//! Endpoints are named per process: [`sender`] and [`on_batch`] register a name before
//! the agent starts, and the `in_process` source and sink with that `endpoint` find it
//! when they are built. A source or sink whose endpoint was never registered stops the
//! agent at start with an error naming it. When an embedded agent stops, the endpoints
//! no running source reads from are closed: senders get `Err(Closed)` instead of
//! waiting. Register the endpoints of a second agent after the first one has stopped.

#![warn(missing_docs)]

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{mpsc, oneshot};

use crate::agent::{AgentContext, AgentError, AgentInfo, StopOn};
use crate::agent_config::AgentConfig;
use crate::env::EnvError;
use crate::event::{Batch, Event};
use crate::pipeline::Closed;
use crate::shutdown::{self, Shutdown, ShutdownTrigger};

type RunFn = Box<
    dyn FnOnce(AgentContext) -> Pin<Box<dyn Future<Output = Result<(), AgentError>> + Send>> + Send,
>;

/// A flow compiled into this program (the value of `flow!{ … }`). Nothing runs until
/// [`Embedded::run`] is awaited, on the caller's tokio runtime.
pub struct Embedded {
    info: AgentInfo,
    config: fn() -> Result<AgentConfig, EnvError>,
    run: RunFn,
    stop: Arc<ShutdownTrigger>,
    stopped: Shutdown,
}

/// Stops an embedded agent the way SIGTERM stops a built one: sources stop, channels
/// close, and sinks drain what is buffered within `shutdown_timeout`.
#[derive(Clone)]
pub struct Stopper(Arc<ShutdownTrigger>);

impl Stopper {
    /// Begins the agent's shutdown (once it runs).
    pub fn stop(&self) {
        self.0.trigger();
    }
}

impl Embedded {
    /// Used by the code `flow!` generates.
    pub fn new<F, Fut>(
        info: AgentInfo,
        config: fn() -> Result<AgentConfig, EnvError>,
        run: F,
    ) -> Self
    where
        F: FnOnce(AgentContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), AgentError>> + Send + 'static,
    {
        let (stop, stopped) = shutdown::channel();
        Embedded {
            info,
            config,
            run: Box::new(move |ctx| Box::pin(run(ctx))),
            stop: Arc::new(stop),
            stopped,
        }
    }

    /// What `flow!` expands to after reporting compile errors: never runs.
    #[doc(hidden)]
    pub fn unbuildable() -> Self {
        unreachable!("flow! reported compile errors for this flow")
    }

    /// The agent's name (its `agent` block, else `flow`).
    pub fn name(&self) -> &'static str {
        self.info.name
    }

    /// A handle that stops the agent once it runs.
    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
    }

    /// Builds every component and runs until every source has ended (an `in_process`
    /// source ends when all its senders are dropped) or [`Stopper::stop`]; then drains.
    /// Unlike a built agent it installs no signal handlers and no log subscriber: the
    /// program owns both. `env(...)` values are read and checked first.
    pub async fn run(self) -> Result<(), AgentError> {
        let errors = crate::env::check_all(self.info.env_vars, self.info.env_rules);
        if !errors.is_empty() {
            return Err(AgentError::Env(errors));
        }
        let config = (self.config)()?;
        let ctx = AgentContext::start(&config, StopOn::Handle(self.stopped.clone())).await?;
        tracing::info!(agent = self.info.name, "starting embedded flow");
        let result = (self.run)(ctx).await;
        // Whatever ended the agent (its sources, a stop, a failure at start), senders
        // must not wait for it: endpoints no running source reads are closed.
        close_idle_receivers();
        result
    }
}

/// A callback the `in_process` sink hands each batch to.
pub type BatchFn = dyn FnMut(&[Event]) -> io::Result<()> + Send;

/// Events a program sent, with the acknowledgement `send` waits for: sent once the
/// events are in the flow's channels, dropped (an error for the sender) when they are
/// not.
pub struct Delivery {
    /// The events sent.
    pub events: Batch,
    /// Sent once the events are in the channels.
    pub ack: oneshot::Sender<()>,
}

/// What an `in_process` source reads: shared so that a source restarted after a
/// failure reads on from the same place.
pub type Receiver = Arc<tokio::sync::Mutex<mpsc::Receiver<Delivery>>>;

type Callback = Arc<Mutex<Box<BatchFn>>>;

#[derive(Default)]
struct Endpoints {
    receivers: HashMap<String, Receiver>,
    callbacks: HashMap<String, Callback>,
}

fn endpoints() -> std::sync::MutexGuard<'static, Endpoints> {
    static ENDPOINTS: OnceLock<Mutex<Endpoints>> = OnceLock::new();
    ENDPOINTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Feeds the `in_process` source whose `endpoint` is `name`; up to `capacity` sends
/// wait for the source at once. Registering a name again replaces the earlier sender's
/// connection for agents started afterwards.
pub fn sender(name: &str, capacity: usize) -> Sender {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    endpoints()
        .receivers
        .insert(name.to_owned(), Arc::new(tokio::sync::Mutex::new(rx)));
    Sender(tx)
}

/// Hands every batch the `in_process` sink whose `endpoint` is `name` takes to `f`.
/// `Ok` commits the batch; `Err` rolls it back, and the same events come again after a
/// backoff (at least once). `f` runs on the sink's task: keep it short, or hand the work
/// to a thread of your own.
pub fn on_batch(name: &str, f: impl FnMut(&[Event]) -> io::Result<()> + Send + 'static) {
    endpoints()
        .callbacks
        .insert(name.to_owned(), Arc::new(Mutex::new(Box::new(f))));
}

/// The program's side of an `in_process` source. Clone it to send from several tasks;
/// the source ends when every clone is dropped.
#[derive(Clone, Debug)]
pub struct Sender(mpsc::Sender<Delivery>);

impl Sender {
    /// Sends one event (see [`Sender::send_batch`]).
    pub async fn send(&self, event: Event) -> Result<(), Closed> {
        self.send_batch(vec![event]).await
    }

    /// Sends events and waits until they are in the flow's channels: `Ok` means the
    /// flow has them (a durable channel, on disk); `Err(Closed)` means the agent stopped
    /// (or never started) and may not have them. Waits while the flow is full. Sends
    /// from several tasks at once keep the flow busy; one task sending one event at a
    /// time waits for each.
    pub async fn send_batch(&self, events: Batch) -> Result<(), Closed> {
        let (ack, acked) = oneshot::channel();
        self.0
            .send(Delivery { events, ack })
            .await
            .map_err(|_| Closed)?;
        acked.await.map_err(|_| Closed)
    }
}

fn missing(name: &str, how: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("no in-process endpoint `{name}`: call `sluice_runtime::embed::{how}(\"{name}\", …)` before the agent runs"),
    )
}

/// The receiving end registered as `name` (what the `in_process` source reads).
pub fn receiver(name: &str) -> io::Result<Receiver> {
    endpoints()
        .receivers
        .get(name)
        .cloned()
        .ok_or_else(|| missing(name, "sender"))
}

/// The callback registered as `name` (what the `in_process` sink calls).
pub fn callback(name: &str) -> io::Result<Callback> {
    endpoints()
        .callbacks
        .get(name)
        .cloned()
        .ok_or_else(|| missing(name, "on_batch"))
}

/// Closes `receiver`: later sends fail, and the deliveries still waiting are dropped,
/// so their senders get `Err(Closed)` instead of waiting.
pub fn close(receiver: &mut mpsc::Receiver<Delivery>) {
    receiver.close();
    while receiver.try_recv().is_ok() {}
}

/// Closes every registered receiver that no running source holds.
fn close_idle_receivers() {
    let receivers: Vec<Receiver> = endpoints().receivers.values().cloned().collect();
    for receiver in receivers {
        if let Ok(mut receiver) = receiver.try_lock() {
            close(&mut receiver);
        }
    }
}
