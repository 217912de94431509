//! The agent process: command line, logging, metrics endpoint, signals, and the tasks
//! that drive sources and sinks. Generated `main.rs` files call [`main`].
//!
//! Shutdown: on the first SIGTERM/SIGINT channels close to new puts, sources stop, and
//! sinks drain what is buffered, all within `shutdown_timeout`; then the agent exits 0,
//! or 3 when events were left in memory channels. A second signal exits at once. When
//! every source ends by itself (a finite `seq`, end of stdin), the agent drains and exits
//! the same way. Failures: see [`crate::supervise`].

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use crate::agent_config::{AgentConfig, LogLevel};
use crate::build::BuildSource;
use crate::catalogue::Role;
use crate::env::{EnvError, EnvRule, EnvVar};
use crate::metrics::Counter;
use crate::metrics::Metrics;
use crate::pipeline::{Channel, Journal, Output, Sink, Source, SourceContext};
use crate::shutdown::{self, Shutdown, ShutdownTrigger};
use crate::supervise::{panic_message, CatchUnwind, Fatal, Policy, Supervisor};

/// Facts about the agent, fixed when it was generated.
#[derive(Clone, Copy, Debug)]
pub struct AgentInfo {
    pub name: &'static str,
    /// The `.flow` file it was built from.
    pub flow_file: &'static str,
    /// Every `env(...)` in the flow.
    pub env_vars: &'static [EnvVar],
    /// Rules between values at least one of which comes from `env(...)`.
    pub env_rules: &'static [EnvRule],
}

/// Why the agent could not start or run.
#[derive(Debug)]
pub enum AgentError {
    /// `env(...)` values that could not be resolved.
    Env(Vec<EnvError>),
    /// A component failed to start (bind, open, connect...).
    Component {
        name: String,
        error: io::Error,
    },
    Io(io::Error),
    /// A component failed and the failure policy ended the agent.
    Failed(String),
    /// `shutdown_timeout` passed with events still in channels that are not durable:
    /// (channel, events) for each.
    Lost(Vec<(String, usize)>),
}

impl AgentError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            AgentError::Env(_) => 2,
            AgentError::Lost(_) => 3,
            _ => 1,
        }
    }
}

impl AgentError {
    pub fn component(name: &str) -> impl FnOnce(io::Error) -> AgentError + '_ {
        move |error| AgentError::Component {
            name: name.to_owned(),
            error,
        }
    }
}

impl From<EnvError> for AgentError {
    fn from(e: EnvError) -> Self {
        AgentError::Env(vec![e])
    }
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentError::Env(errors) => {
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            AgentError::Component { name, error } => write!(f, "component `{name}`: {error}"),
            AgentError::Io(e) => write!(f, "{e}"),
            AgentError::Failed(reason) => write!(f, "stopped: {reason}"),
            AgentError::Lost(channels) => {
                let total: usize = channels.iter().map(|(_, n)| n).sum();
                let each: Vec<String> = channels
                    .iter()
                    .map(|(name, n)| format!("{n} in `{name}`"))
                    .collect();
                write!(
                    f,
                    "shutdown_timeout reached: {total} events left in memory channels are lost ({})",
                    each.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for AgentError {}

struct Args {
    metrics_addr: Option<String>,
    log_level: Option<LogLevel>,
    check_env: bool,
}

fn usage(info: &AgentInfo) -> String {
    format!(
        "{name}: a Sluice agent built from {flow}\n\n\
         Usage: {name} [OPTIONS]\n\n\
         Options:\n  \
         --metrics-addr ADDR   serve metrics on ADDR (Prometheus at /metrics, JSON at /metrics.json)\n  \
         --log-level LEVEL     error, warn, info, debug or trace (default: the flow's, else info)\n  \
         --check-env           resolve every env(...) of the flow, report problems, and exit\n  \
         -h, --help            print this help\n  \
         -V, --version         print the version\n\n\
         SIGTERM or SIGINT stops the sources and drains the channels (up to shutdown_timeout);\n\
         a second signal exits at once.\n\n\
         Exit status: 0 clean stop, 1 a component failed or could not start, 2 usage or\n\
         env(...) error, 3 shutdown_timeout left events in memory channels, 130 second signal.",
        name = info.name,
        flow = info.flow_file
    )
}

fn parse_args(info: &AgentInfo) -> Result<Args, String> {
    let mut args = Args {
        metrics_addr: None,
        log_level: None,
        check_env: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--metrics-addr" => args.metrics_addr = Some(value("--metrics-addr")?),
            "--log-level" => {
                let v = value("--log-level")?;
                args.log_level = Some(LogLevel::from_word(&v).ok_or(format!(
                    "unknown log level `{v}`: use error, warn, info, debug or trace"
                ))?);
            }
            "--check-env" => args.check_env = true,
            "-h" | "--help" => return Err(usage(info)),
            "-V" | "--version" => {
                return Err(format!(
                    "{} (sluice {})",
                    info.name,
                    env!("CARGO_PKG_VERSION")
                ))
            }
            other => return Err(format!("unknown option `{other}`\n\n{}", usage(info))),
        }
    }
    Ok(args)
}

/// Whether [`no_transparent_huge_pages`] turned them off (so child processes get them
/// back: see [`restore_transparent_huge_pages`]).
#[cfg(target_os = "linux")]
static THP_TURNED_OFF: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns transparent huge pages off for the agent (unless `MIMALLOC_ALLOW_THP` says
/// otherwise). With them, every fresh 2 MiB region the allocator touches is backed, and
/// zeroed, as a whole: the `durable` benchmark agent peaked at 43 MiB resident with them
/// and at 14 MiB without, at the same speed. Linux only; elsewhere nothing to do. A
/// kernel that refuses it leaves the agent as it was, only larger.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: prctl with PR_GET/SET_THP_DISABLE takes plain integer arguments and
        // only reads or sets a flag of this process; no memory is passed or retained.
        let already_off = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) } == 1;
        // SAFETY: as above.
        if !already_off && unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) } == 0 {
            THP_TURNED_OFF.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// For a child process about to run (call between fork and exec, as a `pre_exec`
/// hook): gives it back the transparent huge pages the agent turned off for itself, so
/// a program run by the `exec` source behaves as it would anywhere else.
#[cfg(all(target_os = "linux", feature = "source-exec"))]
pub(crate) fn restore_transparent_huge_pages() -> std::io::Result<()> {
    if THP_TURNED_OFF.load(std::sync::atomic::Ordering::Relaxed) {
        // SAFETY: a bare system call with integer arguments: allowed between fork and
        // exec, and it touches no memory.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 0, 0, 0, 0) };
    }
    Ok(())
}

/// Runs an agent: `config` builds the agent block's settings, `run` assembles the flow
/// on the given context and drives it.
pub fn main<F, Fut>(
    info: AgentInfo,
    config: fn() -> Result<AgentConfig, EnvError>,
    run: F,
) -> ExitCode
where
    F: FnOnce(AgentContext) -> Fut,
    Fut: Future<Output = Result<(), AgentError>>,
{
    no_transparent_huge_pages();
    #[cfg(feature = "mimalloc")]
    let purge_delay_ms = crate::allocator::purge_delay_ms();
    let args = match parse_args(&info) {
        Ok(a) => a,
        Err(message) => {
            let is_info = message.contains("Usage:") && !message.starts_with("unknown")
                || message.contains("(sluice ");
            if is_info {
                println!("{message}");
                return ExitCode::SUCCESS;
            }
            eprintln!("{}: {message}", info.name);
            return ExitCode::from(2);
        }
    };
    let env_errors = crate::env::check_all(info.env_vars, info.env_rules);
    if !env_errors.is_empty() {
        eprintln!("{}: {}", info.name, AgentError::Env(env_errors));
        return ExitCode::from(2);
    }
    let mut config = match config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}: {e}", info.name);
            return ExitCode::from(2);
        }
    };
    if args.check_env {
        println!(
            "{}: all {} env(...) values resolve and pass the flow's checks",
            info.name,
            info.env_vars.len()
        );
        return ExitCode::SUCCESS;
    }
    init_logging(args.log_level.unwrap_or(config.log_level));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: cannot start the runtime: {e}", info.name);
            return ExitCode::from(1);
        }
    };
    if let Some(addr) = args.metrics_addr {
        config.metrics = Some(crate::params::Address(addr));
    }
    let result = runtime.block_on(async move {
        let ctx = AgentContext::start(&config, StopOn::Signals).await?;
        tracing::info!(agent = info.name, flow = info.flow_file, "starting");
        #[cfg(feature = "mimalloc")]
        tracing::debug!(purge_delay_ms, "allocator: mimalloc");
        run(ctx).await
    });
    // Tasks still blocked on I/O must not hold the exit up.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", info.name);
            ExitCode::from(e.exit_code())
        }
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn init_logging(level: LogLevel) {
    let level = match level {
        LogLevel::Error => tracing::Level::ERROR,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Trace => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(io::stderr)
        .with_target(false)
        .try_init();
}

async fn watch_signals(
    trigger: Arc<ShutdownTrigger>,
    signalled: ShutdownTrigger,
    timeout: Duration,
) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot install signal handlers");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!(
        timeout_s = timeout.as_secs_f64(),
        "signal received: stopping sources and draining channels"
    );
    signalled.trigger();
    trigger.trigger();
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::warn!("second signal: exiting now");
    std::process::exit(130);
}

/// What generated code assembles a flow with.
pub struct AgentContext {
    metrics: Metrics,
    shutdown: Shutdown,
    /// Fires on SIGTERM/SIGINT only (`shutdown` also fires when every source ended by
    /// itself): a signal during the drain that follows bounds it by `shutdown_timeout`.
    signalled: Shutdown,
    trigger: Arc<ShutdownTrigger>,
    shutdown_timeout: Duration,
    policy: Policy,
    fatal: Fatal,
    sources: JoinSet<()>,
    sinks: JoinSet<()>,
    channels: Vec<(&'static str, Arc<dyn Registered>)>,
    /// The metrics server and the stop watcher: ended with the agent, so an embedded
    /// agent that returns leaves no port bound and no task behind.
    background: Vec<tokio::task::JoinHandle<()>>,
    /// Work to finish when the agent stops, before its channels close, in order: each
    /// aggregate (by name) sends its open windows on.
    on_stop: Vec<(&'static str, OnStop)>,
}

/// Work to finish when the agent stops (see [`AgentContext::on_stop`]): `finish` does
/// it; `abandon`, when there is no time left, gives it up at once and says how much is
/// lost.
struct OnStop {
    finish: Box<dyn FnOnce() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send>,
    abandon: Box<dyn FnOnce() -> usize + Send>,
}

impl Drop for AgentContext {
    fn drop(&mut self) {
        for task in &self.background {
            task.abort();
        }
        crate::metrics::set_agent_serves_metrics(false);
    }
}

/// What the agent needs of a channel at shutdown, whatever its type.
trait Registered: Send + Sync {
    fn close(&self);
    fn len(&self) -> usize;
    fn durable(&self) -> bool;
}

impl<C: Channel> Registered for C {
    fn close(&self) {
        Channel::close(self)
    }

    fn len(&self) -> usize {
        Channel::len(self)
    }

    fn durable(&self) -> bool {
        Channel::durable(self)
    }
}

/// What stops an agent besides its sources ending: SIGTERM/SIGINT for a built agent, a
/// [`crate::embed::Stopper`] for one embedded in a program.
pub(crate) enum StopOn {
    Signals,
    Handle(Shutdown),
}

impl AgentContext {
    /// A context for the settings of the `agent` block: serves metrics if asked, and
    /// stops as `stop` says.
    pub(crate) async fn start(config: &AgentConfig, stop: StopOn) -> Result<Self, AgentError> {
        let metrics = Metrics::default();
        let mut background = Vec::new();
        if let Some(addr) = config.metrics.as_ref().map(|a| a.0.clone()) {
            let listener = tokio::net::TcpListener::bind(&addr)
                .await
                .map_err(AgentError::component("metrics endpoint"))?;
            tracing::info!(addr = %listener.local_addr().map_or(addr.clone(), |a: SocketAddr| a.to_string()), "serving metrics");
            background.push(tokio::spawn(metrics.clone().serve(listener)));
            crate::metrics::set_agent_serves_metrics(true);
        }
        let (trigger, shutdown) = shutdown::channel();
        let trigger = Arc::new(trigger);
        let (signal_trigger, signalled) = shutdown::channel();
        match stop {
            StopOn::Signals => {
                background.push(tokio::spawn(watch_signals(
                    trigger.clone(),
                    signal_trigger,
                    config.shutdown_timeout,
                )));
            }
            StopOn::Handle(mut handle) => {
                let trigger = trigger.clone();
                background.push(tokio::spawn(async move {
                    handle.wait_fired().await;
                    signal_trigger.trigger();
                    trigger.trigger();
                }));
            }
        }
        Ok(AgentContext {
            metrics,
            shutdown,
            signalled,
            trigger,
            shutdown_timeout: config.shutdown_timeout,
            policy: Policy {
                on_failure: config.on_failure,
                max_restarts: config.max_restarts,
            },
            fatal: Fatal::default(),
            sources: JoinSet::new(),
            sinks: JoinSet::new(),
            channels: Vec::new(),
            background,
            on_stop: Vec::new(),
        })
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Registers channel `name` so it is closed at shutdown and what it still holds then
    /// is reported.
    pub fn channel<C: Channel>(&mut self, name: &'static str, channel: C) -> Arc<C> {
        let channel = Arc::new(channel);
        self.channels.push((name, channel.clone()));
        channel
    }

    fn supervisor(&self, role: Role, name: &'static str, restarts: Arc<Counter>) -> Supervisor {
        Supervisor::new(
            role,
            name,
            self.policy,
            restarts,
            self.fatal.clone(),
            self.trigger.clone(),
            self.shutdown.clone(),
        )
    }

    /// Drives aggregate `stage`, whose closed windows go into `out` (the rest of its flow
    /// statement): every [`crate::aggregate::stage::TICK`] the windows the clock closed,
    /// and when the agent stops, before its channels close, every window still open.
    #[cfg(feature = "transform-aggregate")]
    pub fn spawn_aggregate<O: Output>(
        &mut self,
        stage: Arc<crate::aggregate::stage::Stage>,
        out: O,
    ) {
        let out = Arc::new(out);
        let (ticking, ticked) = (stage.clone(), out.clone());
        self.background.push(tokio::spawn(async move {
            let mut every = tokio::time::interval(crate::aggregate::stage::TICK);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let _emitting = ticking.emitting().lock().await;
                let windows = ticking.tick();
                let count = windows.len();
                if count > 0 && ticked.send(windows).await.is_err() {
                    tracing::warn!(
                        transform = ticking.name(),
                        windows = count,
                        "closed windows lost: the channels closed while they went in"
                    );
                    return;
                }
            }
        }));
        let name = stage.name();
        let abandoned = stage.clone();
        let finish = Box::new(
            move || -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
                Box::pin(async move {
                    // After any tick's windows are in: none is left behind a closed channel.
                    let _emitting = stage.emitting().lock().await;
                    let windows = stage.flush();
                    let count = windows.len();
                    if count == 0 {
                        return;
                    }
                    match out.send(windows).await {
                        Ok(()) => tracing::info!(
                            transform = stage.name(),
                            windows = count,
                            "open windows closed at shutdown and sent on"
                        ),
                        Err(_) => tracing::warn!(
                            transform = stage.name(),
                            windows = count,
                            "open windows lost at shutdown: the channels had closed"
                        ),
                    }
                })
            },
        );
        // Out of time: close the stage to new events and count what it held.
        let abandon = Box::new(move || abandoned.flush().len());
        self.on_stop.push((name, OnStop { finish, abandon }));
    }

    /// Finishes the work registered to run before the channels close, in order (once).
    /// It ends by `deadline`, or `shutdown_timeout` after a signal that comes while it
    /// runs (returned, so the drain after it keeps to the same deadline); what is cut
    /// short or never started is reported.
    async fn finish_stopping(
        &mut self,
        mut deadline: Option<tokio::time::Instant>,
    ) -> Option<tokio::time::Instant> {
        let mut signalled = self.signalled.clone();
        let mut stops = std::mem::take(&mut self.on_stop).into_iter();
        while let Some((name, stop)) = stops.next() {
            let mut work = (stop.finish)();
            loop {
                tokio::select! {
                    _ = &mut work => break,
                    _ = signalled.wait_fired(), if deadline.is_none() => {
                        deadline = Some(tokio::time::Instant::now() + self.shutdown_timeout);
                    }
                    _ = sleep_until(deadline) => {
                        tracing::warn!(transform = name, "open windows lost: not sent on within shutdown_timeout");
                        for (transform, stop) in stops {
                            let windows = (stop.abandon)();
                            if windows > 0 {
                                tracing::warn!(transform, windows, "open windows lost: not sent on within shutdown_timeout");
                            }
                        }
                        return deadline;
                    }
                }
            }
        }
        deadline
    }

    /// Runs `source` (built from `config`) into `out` until its input ends or shutdown.
    /// When it fails (an error or a panic) it is built again from `config` and
    /// restarted, as the agent's failure policy says (see [`crate::supervise`]).
    pub fn spawn_source<C, O>(
        &mut self,
        name: &'static str,
        kind: &str,
        config: C,
        source: C::Source,
        out: O,
    ) where
        C: BuildSource + Clone + Send + 'static,
        O: Output,
    {
        let counters = self.metrics.source(name, kind);
        let mut supervisor = self.supervisor(Role::Source, name, counters.restarts.clone());
        let ctx = SourceContext {
            name,
            shutdown: self.shutdown.clone(),
            counters,
        };
        self.sources.spawn(async move {
            let out = Arc::new(out);
            let mut ready = Some(source);
            loop {
                let started = supervisor.started();
                let source = match ready.take() {
                    Some(source) => source,
                    None => match config.clone().build().await {
                        Ok(source) => source,
                        Err(e) => {
                            let cause = format!("cannot start again: {e}");
                            if supervisor.failed(&cause, started.elapsed()).await {
                                continue;
                            }
                            return;
                        }
                    },
                };
                let blocking_io = source.blocking_io();
                let run = source.run(out.clone(), ctx.clone());
                let task = if blocking_io {
                    // A thread of its own: its file I/O never stalls an async worker.
                    let handle = tokio::runtime::Handle::current();
                    tokio::task::spawn_blocking(move || handle.block_on(run))
                } else {
                    tokio::spawn(run)
                };
                let cause = match task.await {
                    Ok(Ok(())) => {
                        tracing::info!(source = name, "source finished");
                        return;
                    }
                    Ok(Err(e)) => e.to_string(),
                    Err(e) if e.is_panic() => panic_message(&*e.into_panic()),
                    Err(_) => return,
                };
                if !supervisor.failed(&cause, started.elapsed()).await {
                    return;
                }
            }
        });
    }

    /// Drives `sink` from `channel`: take up to `batch_size`, write, commit on success,
    /// roll back and retry with exponential backoff on failure. A write that panics is
    /// rolled back too, and the sink carries on as the failure policy says.
    pub fn spawn_sink<C: Channel, S: Sink>(
        &mut self,
        name: &'static str,
        kind: &str,
        channel: Arc<C>,
        mut sink: S,
        batch_size: u64,
    ) {
        let counters = self.metrics.sink(name, kind);
        sink.bind_counters(counters.clone());
        let mut supervisor = self.supervisor(Role::Sink, name, counters.restarts.clone());
        let batch_size = usize::try_from(batch_size).unwrap_or(usize::MAX).max(1);
        let blocking_io = sink.blocking_io();
        // A durable channel only this sink drains keeps the sink's position: the sink
        // undoes what it wrote after the last commit, and records new files at once.
        let keeps_position = match channel.positions_for(name) {
            Some(committed) => {
                if let Some(position) = committed {
                    if let Err(e) = sink.resume(&position) {
                        tracing::error!(sink = name, error = %e, "cannot undo the writes after the last commit; they may be repeated");
                    }
                }
                let journal = channel.clone();
                sink.bind_journal(Journal::new(move |p| journal.note_position(name, p)));
                true
            }
            None => false,
        };
        let drive = async move {
            let mut backoff = Duration::from_millis(100);
            let mut started = supervisor.started();
            let tick_every = sink.tick_every();
            loop {
                // Both arms are cancel-safe: a take that is dropped pending has taken
                // nothing.
                let next = match tick_every {
                    None => channel.take(batch_size).await,
                    Some(every) => tokio::select! {
                        taken = channel.take(batch_size) => taken,
                        () = tokio::time::sleep(every) => {
                            match CatchUnwind::new(sink.tick()).await {
                                Ok(Ok(())) => {}
                                Ok(Err(e)) => tracing::warn!(sink = name, error = %e, "periodic work failed; will retry"),
                                Err(payload) => {
                                    let cause = panic_message(&*payload);
                                    if !supervisor.failed(&cause, started.elapsed()).await {
                                        break;
                                    }
                                    started = supervisor.started();
                                }
                            }
                            continue;
                        }
                    },
                };
                let Some(taken) = next else { break };
                let count = taken.events.len() as u64;
                counters.drain_attempts.add(count);
                match CatchUnwind::new(sink.write(&taken.events)).await {
                    Ok(Ok(())) => {
                        let position = if keeps_position {
                            sink.position()
                        } else {
                            None
                        };
                        channel.commit_at(taken, name, position);
                        counters.drain_successes.add(count);
                        backoff = Duration::from_millis(100);
                    }
                    Ok(Err(e)) => {
                        counters.connection_failures.inc();
                        tracing::warn!(sink = name, error = %e, retry_in_ms = backoff.as_millis() as u64, "delivery failed; will retry");
                        channel.rollback(taken);
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(sink.max_backoff());
                    }
                    Err(payload) => {
                        channel.rollback(taken);
                        let cause = panic_message(&*payload);
                        if !supervisor.failed(&cause, started.elapsed()).await {
                            break;
                        }
                        started = supervisor.started();
                    }
                }
            }
            if let Err(e) = sink.close().await {
                tracing::error!(sink = name, error = %e, "closing failed");
            }
        };
        if blocking_io {
            // A thread of its own: its file I/O never stalls an async worker.
            let handle = tokio::runtime::Handle::current();
            self.sinks.spawn_blocking(move || handle.block_on(drive));
        } else {
            self.sinks.spawn(drive);
        }
    }

    /// Runs until every source has ended by itself, or a signal (or a fatal failure)
    /// stops the agent. Then the channels close to new puts — a source blocked on a full
    /// channel gets `Closed` and acknowledges nothing more — and the sinks drain what is
    /// buffered. After a signal all of that is bounded by `shutdown_timeout`, also with
    /// a stuck sink: events still in a channel that is not durable then are reported
    /// and make the exit status 3.
    pub async fn run(mut self) -> Result<(), AgentError> {
        let mut shutdown = self.shutdown.clone();
        let mut deadline = None;
        loop {
            tokio::select! {
                joined = self.sources.join_next() => {
                    if joined.is_none() {
                        break;
                    }
                }
                _ = shutdown.wait(), if deadline.is_none() => {
                    let until = tokio::time::Instant::now() + self.shutdown_timeout;
                    deadline = Some(until);
                    // Open windows go in while the channels still take puts.
                    deadline = self.finish_stopping(deadline).await;
                    self.close_channels();
                }
                _ = sleep_until(deadline) => {
                    tracing::warn!("sources did not stop within shutdown_timeout");
                    break;
                }
            }
        }
        // Sources are done: their aggregates' open windows go in, everyone sees shutdown,
        // then the channels stop accepting puts.
        deadline = self.finish_stopping(deadline).await;
        self.trigger.trigger();
        self.close_channels();
        // Sinks drain what is buffered: bounded by the deadline after a signal, also when
        // the signal comes only now (every source had ended by itself).
        let mut signalled = self.signalled.clone();
        let drained = loop {
            tokio::select! {
                joined = self.sinks.join_next() => {
                    if joined.is_none() {
                        break true;
                    }
                }
                _ = signalled.wait_fired(), if deadline.is_none() => {
                    deadline = Some(tokio::time::Instant::now() + self.shutdown_timeout);
                }
                _ = sleep_until(deadline) => break false,
            }
        };
        if let Some(reason) = self.fatal.reason() {
            return Err(AgentError::Failed(reason));
        }
        if !drained {
            let lost: Vec<(&str, usize)> = self
                .channels
                .iter()
                .filter(|(_, c)| !c.durable() && c.len() > 0)
                .map(|(name, c)| (*name, c.len()))
                .collect();
            let kept: usize = self
                .channels
                .iter()
                .filter(|(_, c)| c.durable())
                .map(|(_, c)| c.len())
                .sum();
            tracing::warn!(
                timeout_s = self.shutdown_timeout.as_secs_f64(),
                kept_in_durable_channels = kept,
                "shutdown_timeout reached before the sinks drained"
            );
            if !lost.is_empty() {
                return Err(AgentError::Lost(
                    lost.iter().map(|(n, c)| (n.to_string(), *c)).collect(),
                ));
            }
        }
        tracing::info!("stopped");
        Ok(())
    }

    fn close_channels(&self) {
        for (_, channel) in &self.channels {
            channel.close();
        }
    }
}

/// Supervision with real tasks: components that panic or fail are restarted, counted, and
/// end the agent when the policy says so.
#[cfg(all(test, feature = "channel-memory"))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    use super::*;
    use crate::agent_config::OnFailure;
    use crate::build::{BuildChannel, BuildSource};
    use crate::channels::memory::MemoryConfig;
    use crate::event::{Batch, Event};
    use crate::marks::Mark;
    use crate::pipeline::Closed;

    fn context(on_failure: OnFailure, max_restarts: u64) -> AgentContext {
        let (trigger, shutdown) = shutdown::channel();
        let (_, signalled) = shutdown::channel();
        AgentContext {
            metrics: Metrics::default(),
            shutdown,
            signalled,
            trigger: Arc::new(trigger),
            shutdown_timeout: Duration::from_secs(5),
            policy: Policy {
                on_failure,
                max_restarts,
            },
            fatal: Fatal::default(),
            sources: JoinSet::new(),
            sinks: JoinSet::new(),
            channels: Vec::new(),
            background: Vec::new(),
            on_stop: Vec::new(),
        }
    }

    /// A source that panics on its first `panics` runs, then sends one event and ends.
    #[derive(Clone)]
    struct FlakyConfig {
        runs: Arc<AtomicUsize>,
        panics: usize,
    }

    struct Flaky(FlakyConfig);

    impl BuildSource for FlakyConfig {
        type Source = Flaky;

        async fn build(self) -> io::Result<Flaky> {
            Ok(Flaky(self))
        }
    }

    impl Source for Flaky {
        async fn run<O: Output>(self, out: O, _ctx: SourceContext) -> io::Result<()> {
            let run = self.0.runs.fetch_add(1, Ordering::SeqCst);
            if run < self.0.panics {
                panic!("injected panic {run}");
            }
            out.send(vec![Event::new(format!("from run {run}"))])
                .await
                .map_err(io::Error::other)
        }
    }

    #[derive(Default)]
    struct Collect(Mutex<Vec<String>>);

    impl Output for Arc<Collect> {
        async fn send_marked(&self, batch: Batch, _: Option<&Mark>) -> Result<(), Closed> {
            let mut seen = self.0.lock().unwrap();
            seen.extend(
                batch
                    .iter()
                    .map(|e| String::from_utf8_lossy(&e.body).into_owned()),
            );
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_panicking_source_is_rebuilt_restarted_and_counted() {
        let mut ctx = context(OnFailure::Restart, 10);
        let config = FlakyConfig {
            runs: Arc::default(),
            panics: 1,
        };
        let first = config.clone().build().await.unwrap();
        let out = Arc::new(Collect::default());
        ctx.spawn_source("flaky", "test", config.clone(), first, out.clone());
        let metrics = ctx.metrics.clone();
        ctx.run()
            .await
            .expect("a restarted source does not fail the agent");
        assert_eq!(*out.0.lock().unwrap(), ["from run 1"]);
        assert_eq!(config.runs.load(Ordering::SeqCst), 2);
        assert!(metrics.prometheus().contains(
            "sluice_component_restarts_total{component=\"flaky\",kind=\"test\",role=\"source\"} 1"
        ));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn on_failure_exit_ends_the_agent_with_the_cause() {
        let mut ctx = context(OnFailure::Exit, 10);
        let config = FlakyConfig {
            runs: Arc::default(),
            panics: 1,
        };
        let first = config.clone().build().await.unwrap();
        ctx.spawn_source("flaky", "test", config, first, Arc::new(Collect::default()));
        let error = ctx.run().await.unwrap_err().to_string();
        assert!(
            error.contains("source `flaky` failed: panicked: injected panic 0"),
            "{error}"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_component_that_keeps_failing_ends_the_agent() {
        let mut ctx = context(OnFailure::Restart, 1);
        let config = FlakyConfig {
            runs: Arc::default(),
            panics: usize::MAX,
        };
        let first = config.clone().build().await.unwrap();
        ctx.spawn_source(
            "flaky",
            "test",
            config.clone(),
            first,
            Arc::new(Collect::default()),
        );
        let error = ctx.run().await.unwrap_err().to_string();
        assert!(error.contains("failed 2 times in a row"), "{error}");
        assert_eq!(config.runs.load(Ordering::SeqCst), 2);
    }

    /// A sink whose first write panics.
    struct PanicsOnce {
        written: Arc<Mutex<Vec<String>>>,
        panicked: bool,
    }

    impl Sink for PanicsOnce {
        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            if !self.panicked {
                self.panicked = true;
                panic!("injected sink panic");
            }
            let mut written = self.written.lock().unwrap();
            written.extend(
                batch
                    .iter()
                    .map(|e| String::from_utf8_lossy(&e.body).into_owned()),
            );
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_sink_write_that_panics_is_rolled_back_and_delivered_again() {
        let mut ctx = context(OnFailure::Restart, 10);
        let memory = MemoryConfig {
            capacity: 100,
            max_bytes: None,
            transaction_capacity: 10,
        };
        let channel = ctx.channel("buf", memory.build(Arc::default()).await.unwrap());
        channel
            .put(vec![Event::new("a"), Event::new("b")])
            .await
            .unwrap();
        let written = Arc::new(Mutex::new(Vec::new()));
        let sink = PanicsOnce {
            written: written.clone(),
            panicked: false,
        };
        ctx.spawn_sink("out", "test", channel.clone(), sink, 10);
        let metrics = ctx.metrics.clone();
        // No sources: the agent closes the channel and waits for the sink to drain it.
        ctx.run().await.unwrap();
        assert_eq!(*written.lock().unwrap(), ["a", "b"]);
        assert!(metrics.prometheus().contains(
            "sluice_component_restarts_total{component=\"out\",kind=\"test\",role=\"sink\"} 1"
        ));
    }

    /// A source that puts until its channel refuses.
    #[derive(Clone)]
    struct Endless;

    impl BuildSource for Endless {
        type Source = Endless;

        async fn build(self) -> io::Result<Endless> {
            Ok(Endless)
        }
    }

    impl Source for Endless {
        async fn run<O: Output>(self, out: O, _ctx: SourceContext) -> io::Result<()> {
            // Ignores shutdown on purpose: only the closed channel stops it.
            while out.send(vec![Event::new("x"); 5]).await.is_ok() {}
            Ok(())
        }
    }

    /// Puts straight into one channel.
    struct PutInto<C>(Arc<C>);

    impl<C: Channel> Output for PutInto<C> {
        async fn send_marked(&self, batch: Batch, mark: Option<&Mark>) -> Result<(), Closed> {
            self.0.put_marked(batch, mark).await
        }
    }

    /// A sink whose writes never finish.
    struct Stuck;

    impl Sink for Stuck {
        async fn write(&mut self, _batch: &[Event]) -> io::Result<()> {
            std::future::pending().await
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn shutdown_is_bounded_with_a_stuck_sink_and_a_full_channel() {
        let mut ctx = context(OnFailure::Restart, 10);
        ctx.shutdown_timeout = Duration::from_millis(300);
        let memory = MemoryConfig {
            capacity: 20,
            max_bytes: None,
            transaction_capacity: 5,
        };
        let channel = ctx.channel("buf", memory.build(Arc::default()).await.unwrap());
        ctx.spawn_source(
            "endless",
            "test",
            Endless,
            Endless,
            PutInto(channel.clone()),
        );
        ctx.spawn_sink("out", "test", channel.clone(), Stuck, 5);
        let trigger = ctx.trigger.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            trigger.trigger();
        });
        let started = std::time::Instant::now();
        let error = ctx.run().await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(error.exit_code(), 3);
        // The sink holds one take of 5; 15 more wait in the channel: all 20 are lost.
        assert_eq!(
            error.to_string(),
            "shutdown_timeout reached: 20 events left in memory channels are lost (20 in `buf`)"
        );
    }
}
