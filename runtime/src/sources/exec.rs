//! `exec`: the stdout lines of a command (Flume's exec source).

use std::time::Duration;

use sluice_macros::Component;

use crate::params::ByteSize;

/// Runs a command and turns each line it writes to stdout into an event; stderr is logged.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "exec")]
pub struct ExecConfig {
    /// The command to run, e.g. `"tail -F /var/log/app.log"`.
    pub command: String,
    /// Shell that runs `command`, e.g. `"/bin/sh -c"`; without it the command is split on
    /// spaces and run directly.
    pub shell: Option<String>,
    /// Start the command again when it exits.
    #[param(default = "false")]
    pub restart: bool,
    /// Pause before a restart.
    #[param(default = "10s")]
    pub restart_delay: Duration,
    /// Longest line accepted; longer lines are counted as rejected and skipped.
    #[param(default = "64KiB", min = 1)]
    pub max_line: ByteSize,
    /// Events put into the channel per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
}

#[cfg(feature = "source-exec")]
pub use imp::Exec;

#[cfg(feature = "source-exec")]
mod imp {
    use crate::build::BuildSource;
    use std::io;
    use std::process::Stdio;

    use tokio::process::Command;

    use super::ExecConfig;
    use crate::lines::{forward_lines, Line, LineReader};
    use crate::pipeline::{Output, Source, SourceContext};

    pub struct Exec {
        config: ExecConfig,
    }

    impl BuildSource for ExecConfig {
        type Source = Exec;

        async fn build(self) -> io::Result<Exec> {
            let config = self;
            if config.command.trim().is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "command is empty",
                ));
            }
            Ok(Exec { config })
        }
    }

    impl Exec {
        /// `shell` runs the command as one argument (`/bin/sh -c "…"`); without it the
        /// command is split on whitespace and run directly.
        fn command(&self) -> Command {
            let (program, args): (String, Vec<String>) = match &self.config.shell {
                Some(shell) => {
                    let mut parts = shell.split_whitespace().map(str::to_owned);
                    let program = parts.next().unwrap_or_else(|| "/bin/sh".to_owned());
                    let mut args: Vec<String> = parts.collect();
                    args.push(self.config.command.clone());
                    (program, args)
                }
                None => {
                    let mut parts = self.config.command.split_whitespace().map(str::to_owned);
                    (parts.next().unwrap_or_default(), parts.collect())
                }
            };
            let mut cmd = Command::new(program);
            cmd.args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true);
            #[cfg(target_os = "linux")]
            // SAFETY: the hook makes one system call and allocates nothing, as code
            // between fork and exec must.
            unsafe {
                cmd.pre_exec(crate::agent::restore_transparent_huge_pages);
            }
            cmd
        }
    }

    impl Source for Exec {
        async fn run<O: Output>(self, out: O, ctx: SourceContext) -> io::Result<()> {
            let max_line = usize::try_from(self.config.max_line.0).unwrap_or(usize::MAX);
            let mut shutdown = ctx.shutdown.clone();
            loop {
                let mut child = match self.command().spawn() {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::error!(source = ctx.name, command = %self.config.command, error = %e, "cannot start command");
                        if !self.config.restart {
                            return Err(e);
                        }
                        tokio::select! {
                            _ = tokio::time::sleep(self.config.restart_delay) => continue,
                            _ = shutdown.wait() => return Ok(()),
                        }
                    }
                };
                tracing::info!(source = ctx.name, command = %self.config.command, pid = child.id(), "command started");
                if let Some(stderr) = child.stderr.take() {
                    let name = ctx.name;
                    tokio::spawn(async move {
                        // Bounded like stdout: a runaway line is skipped, not buffered.
                        let mut lines = LineReader::new(stderr, max_line);
                        while let Ok(Some(line)) = lines.next().await {
                            match line {
                                Line::Data(text) => tracing::warn!(
                                    source = name,
                                    stderr = %String::from_utf8_lossy(&text),
                                    "command wrote to stderr"
                                ),
                                Line::TooLong => tracing::warn!(
                                    source = name,
                                    max_line,
                                    "command wrote a stderr line over max_line; skipped"
                                ),
                            }
                        }
                    });
                }
                if let Some(stdout) = child.stdout.take() {
                    let mut reader = LineReader::new(stdout, max_line);
                    forward_lines(&mut reader, &out, &ctx, self.config.batch_size as usize).await?;
                }
                if ctx.shutdown.is_triggered() {
                    let _ = child.kill().await;
                    return Ok(());
                }
                let status = child.wait().await?;
                tracing::info!(source = ctx.name, %status, "command exited");
                if !self.config.restart {
                    return Ok(());
                }
                tokio::select! {
                    _ = tokio::time::sleep(self.config.restart_delay) => {}
                    _ = shutdown.wait() => return Ok(()),
                }
            }
        }
    }
}
