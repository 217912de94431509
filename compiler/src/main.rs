//! `sluice`: check, format, draw and explain `.flow` files.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use miette::NamedSource;
use sluice_compiler::crates::Catalogue;
use sluice_compiler::diagnostic::Severity;
use sluice_compiler::graph_render::GraphFormat;
use sluice_compiler::render::{self, Format};
use sluice_compiler::scaffold;
use sluice_compiler::{check, explain, graph_render, SourceFile};
use sluice_runtime::catalogue::Role;

/// Sluice compiles declarative dataflow files (.flow) into dedicated event agents.
///
/// A flow wires sources (files, sockets, HTTP, processes) through transforms into
/// channels (memory, or a crash-safe file log) and out to sinks. `sluice check` finds
/// configuration mistakes before anything runs, so CI can catch them.
#[derive(Parser)]
#[command(name = "sluice", version, about, long_about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check flow files: syntax, names, parameters, topology and lints.
    ///
    /// Every problem is reported in one run with a stable code (see `docs/language.md`).
    /// Exit status: 0 when clean or warnings only, 1 on errors (or on warnings with
    /// --deny-warnings), 2 on usage or I/O errors.
    Check {
        /// Flow files; each describes one agent.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// How to print diagnostics: human (to stderr), json or github (to stdout).
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Treat warnings as errors for the exit status.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Rewrite flow files in the canonical layout (comments are kept).
    Fmt {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Change nothing; show a diff and exit 1 if any file is not formatted.
        #[arg(long)]
        check: bool,
        /// Print the formatted text instead of rewriting the files.
        #[arg(long, conflicts_with = "check")]
        stdout: bool,
    },
    /// Print a flow's topology as Graphviz dot or Mermaid.
    ///
    /// Render dot with `sluice graph f.flow | dot -Tsvg > f.svg`.
    Graph {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormat,
    },
    /// Build a flow into a dedicated agent binary.
    ///
    /// Generates a Rust crate that links only the components the flow uses and compiles
    /// it with cargo. Compiled dependencies are shared between builds in one target
    /// directory ($SLUICE_TARGET_DIR, default ~/.cache/sluice/target), so rebuilding after
    /// editing a flow only compiles the generated crate.
    Build {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Where to write the agent binary [default: ./AGENT_NAME].
        #[arg(short, long, value_name = "OUT")]
        out: Option<PathBuf>,
        /// Also keep the generated crate in DIR, to read or build it yourself.
        #[arg(long, value_name = "DIR")]
        emit_crate: Option<PathBuf>,
        /// Build without optimisations: faster to compile, slower to run.
        #[arg(long)]
        debug: bool,
    },
    /// Build a flow, then run the agent (arguments after `--` go to the agent).
    ///
    /// The agent accepts --metrics-addr ADDR, --log-level LEVEL and --check-env.
    Run {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[arg(long)]
        debug: bool,
        /// Arguments for the agent.
        #[arg(last = true, value_name = "AGENT_ARGS")]
        args: Vec<String>,
    },
    /// Create something new: `sluice new component --role sink --kind NAME DIR`.
    #[command(subcommand)]
    New(New),
    /// List every source, channel, sink, transform and group kind.
    List {
        /// Also list the kinds of a component crate (a directory; repeatable).
        #[arg(long = "use", value_name = "DIR")]
        uses: Vec<PathBuf>,
    },
    /// Show a kind's description and parameters (types, defaults, docs).
    Explain {
        /// A kind, e.g. `taildir`, `memory`, `file_roll`, `filter`, or `agent`.
        kind: String,
        /// Also look in a component crate (a directory; repeatable).
        #[arg(long = "use", value_name = "DIR")]
        uses: Vec<PathBuf>,
    },
    /// Run the `test` blocks of flow files, in process (no sources, sinks or network).
    ///
    /// A test sends events in after a source or at a transform and states what must reach
    /// channels, sinks or groups: `count`, `all`, `any`, `none`, `events` (in order).
    /// Transforms, filters, routes and aggregates run on the runtime's own code; open
    /// windows are flushed at the end, as at shutdown. See docs/testing.md. Exit status:
    /// 0 when every test passed, 1 when one failed or could not run, 2 on usage or I/O
    /// errors.
    Test {
        /// Flow files holding `test "…" { … }` blocks.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// How to print results: human (to stderr), json or github (to stdout).
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Convert an Apache Flume configuration (.properties) into a flow.
    ///
    /// Reads the files as Flume does (comments, continuation lines, `${env:VAR}`, the last
    /// key winning; later files override earlier ones), translates every component
    /// Sluice has a counterpart for with Flume's defaults written out, and reports, with
    /// line numbers, everything it could not carry over or that will behave differently.
    /// The flow is still written, with a `# sluice import:` comment at each gap. See
    /// docs/import.md. Exit status: 0 when everything was carried over, 1 when something
    /// was not, 2 on usage or I/O errors.
    Import {
        /// Flume properties files, read in order into one configuration.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The agent to import (Flume's `-n NAME`); needed when the files hold several.
        #[arg(long, value_name = "NAME")]
        agent: Option<String>,
        /// Write the flow to OUT instead of standard output.
        #[arg(short, long, value_name = "OUT")]
        out: Option<PathBuf>,
        /// How to print the report: human (to stderr) or json (to stdout, with the flow).
        #[arg(long, value_enum, default_value = "human")]
        format: ImportFormat,
    },
    /// Print a shell completion script for sluice's commands and options.
    ///
    /// bash: `source <(sluice completions bash)`, or save it as
    /// /etc/bash_completion.d/sluice. zsh: save it as `_sluice` in a directory of
    /// $fpath. fish: save it as ~/.config/fish/completions/sluice.fish.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page sluice(1), or write one page per command into a directory.
    ///
    /// Read it with `sluice man | man -l -`; install with `sluice man --dir
    /// /usr/local/share/man/man1`.
    Man {
        /// Write sluice.1 and sluice-COMMAND.1 for every command into DIR.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// `sluice test`: every file's tests, then a summary with the time they took.
fn run_test(files: &[PathBuf], format: Format) -> Result<ExitCode, String> {
    use sluice_compiler::flowtest;
    let started = std::time::Instant::now();
    let sources = files.iter().map(load).collect::<Result<Vec<_>, _>>()?;
    let reports: Vec<flowtest::FileReport> = sources.iter().map(flowtest::run).collect();
    let (mut passed, mut failed, mut broken) = (0, 0, 0);
    for r in &reports {
        broken += usize::from(!r.problems.is_empty());
        for o in &r.outcomes {
            if o.passed() {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    }
    let elapsed = started.elapsed();
    match format {
        Format::Human => {
            let color = color_stderr();
            let mut err = std::io::stderr().lock();
            for (source, r) in sources.iter().zip(&reports) {
                let named = NamedSource::new(source.name.clone(), source.text.clone());
                for d in &r.problems {
                    let _ = write!(err, "{}", render::human(source, &named, d, color));
                }
                if !r.problems.is_empty() {
                    let _ = writeln!(err, "{}: tests not run: fix the errors above", source.name);
                }
                if r.problems.is_empty() && r.outcomes.is_empty() {
                    let _ = writeln!(err, "{}: no tests", source.name);
                }
                for o in &r.outcomes {
                    let verdict = if o.passed() { "ok" } else { "FAILED" };
                    let _ = writeln!(
                        err,
                        "{}: test \"{}\" ... {verdict} ({:.1} ms)",
                        source.name,
                        o.name,
                        o.elapsed.as_secs_f64() * 1000.0
                    );
                    for d in &o.failures {
                        let _ = write!(err, "{}", render::human(source, &named, d, color));
                    }
                }
            }
            let _ = writeln!(
                err,
                "{passed} passed, {failed} failed{} in {:.2} s",
                if broken > 0 {
                    format!(", {broken} file(s) with errors")
                } else {
                    String::new()
                },
                elapsed.as_secs_f64()
            );
        }
        Format::Json => {
            let files: Vec<serde_json::Value> = sources
                .iter()
                .zip(&reports)
                .map(|(source, r)| {
                    let tests: Vec<serde_json::Value> = r
                        .outcomes
                        .iter()
                        .map(|o| {
                            let failures = render::json(&[(source, &o.failures[..])]);
                            let failures: serde_json::Value =
                                serde_json::from_str(&failures).unwrap_or_default();
                            serde_json::json!({
                                "name": o.name,
                                "passed": o.passed(),
                                "millis": o.elapsed.as_secs_f64() * 1000.0,
                                "failures": failures["diagnostics"],
                            })
                        })
                        .collect();
                    let problems = render::json(&[(source, &r.problems[..])]);
                    let problems: serde_json::Value =
                        serde_json::from_str(&problems).unwrap_or_default();
                    serde_json::json!({
                        "file": source.name,
                        "errors": problems["diagnostics"],
                        "tests": tests,
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "files": files,
                "passed": passed,
                "failed": failed,
                "seconds": elapsed.as_secs_f64(),
            });
            println!("{doc:#}");
        }
        Format::Github => {
            for (source, r) in sources.iter().zip(&reports) {
                print!("{}", render::github(source, &r.problems));
                for o in &r.outcomes {
                    print!("{}", render::github(source, &o.failures));
                }
            }
        }
    }
    Ok(if failed > 0 || broken > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// How `sluice import` prints its report.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ImportFormat {
    Human,
    Json,
}

/// `sluice import`: the flow to OUT or stdout, the report to stderr (or JSON to stdout).
fn run_import(
    files: &[PathBuf],
    agent: Option<String>,
    out: Option<PathBuf>,
    format: ImportFormat,
) -> Result<ExitCode, String> {
    use sluice_compiler::import;
    let inputs = files
        .iter()
        .map(|path| {
            std::fs::read(path)
                .map(|bytes| import::Input {
                    name: path.display().to_string(),
                    bytes,
                })
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let imported =
        import::import(&inputs, &import::Options { agent }).map_err(|e| e.to_string())?;
    if let Some(path) = &out {
        std::fs::write(path, &imported.flow)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    match format {
        ImportFormat::Human => {
            if out.is_none() {
                print!("{}", imported.flow);
            }
            eprint!("{}", import::render_human(&imported, &inputs));
            if let Some(path) = &out {
                eprintln!("wrote {}", path.display());
            }
        }
        ImportFormat::Json => print!("{}", import::render_json(&imported, &inputs)),
    }
    Ok(if imported.complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `sluice completions SHELL`: the script on standard output.
fn run_completions(shell: clap_complete::Shell) -> Result<ExitCode, String> {
    clap_complete::generate(shell, &mut Cli::command(), "sluice", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

/// `sluice man [--dir DIR]`: sluice(1) on standard output, or every page into DIR.
fn run_man(dir: Option<PathBuf>) -> Result<ExitCode, String> {
    let command = Cli::command();
    let Some(dir) = dir else {
        let mut out = std::io::stdout();
        clap_mangen::Man::new(command)
            .render(&mut out)
            .map_err(|e| format!("cannot write the manual page: {e}"))?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut pages = vec![("sluice".to_owned(), command.clone())];
    for sub in command.get_subcommands() {
        // clap names are `&'static str`; this runs once per command, then exits.
        let name: &'static str = Box::leak(format!("sluice-{}", sub.get_name()).into_boxed_str());
        pages.push((name.to_owned(), sub.clone().name(name)));
    }
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        let mut file =
            std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        clap_mangen::Man::new(page)
            .render(&mut file)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
enum New {
    /// Create a crate holding one component of your own, ready to build and test.
    ///
    /// The crate declares the component with `#[derive(Component)]` and implements it
    /// on the runtime's API; its unit test runs it with `sluice_runtime::testing`. A flow
    /// uses it with `use "DIR"` (relative to the flow file), and `sluice check`, `explain
    /// --use DIR`, `graph` and `build` then treat the kind like a built-in one.
    /// Templates: a sink printing each body as a line, a source emitting a counter, a
    /// transform uppercasing bodies. See docs/writing-a-component.md.
    Component {
        /// What the component is.
        #[arg(long, value_parser = ["source", "sink", "transform"])]
        role: String,
        /// The kind flows declare it with (`sink out = KIND`): lowercase, digits, `_`.
        #[arg(long)]
        kind: String,
        /// The new crate's directory (must not exist, or be empty); it names the package.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

fn run_new(new: New) -> Result<ExitCode, String> {
    let New::Component { role, kind, dir } = new;
    let role = match role.as_str() {
        "source" => Role::Source,
        "sink" => Role::Sink,
        _ => Role::Transform,
    };
    let request = scaffold::NewComponent {
        role,
        kind: kind.clone(),
        dir: dir.clone(),
        cache_dir: None,
    };
    let files = scaffold::new_component(&request).map_err(|e| e.to_string())?;
    println!("Created {role} `{kind}` in {}:", dir.display());
    for file in files {
        println!("  {file}");
    }
    println!(
        "\nNext:\n  cd {} && cargo test\n  then add `use \"{}\"` to a flow (the path is relative to the flow file) and declare `{role} NAME = {kind}`",
        dir.display(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check {
            files,
            format,
            deny_warnings,
        } => run_check(&files, format, deny_warnings),
        Command::Fmt {
            files,
            check,
            stdout,
        } => run_fmt(&files, check, stdout),
        Command::Graph { file, format } => run_graph(&file, format),
        Command::Build {
            file,
            out,
            emit_crate,
            debug,
        } => run_build(&file, out, emit_crate, debug)
            .map(|r| r.map_or_else(|code| code, |_| ExitCode::SUCCESS)),
        Command::Run { file, debug, args } => match run_build(&file, None, None, debug) {
            Ok(Ok(binary)) => exec_agent(&binary, &args),
            Ok(Err(code)) => Ok(code),
            Err(e) => Err(e),
        },
        Command::New(new) => run_new(new),
        Command::Test { files, format } => run_test(&files, format),
        Command::Import {
            files,
            agent,
            out,
            format,
        } => run_import(&files, agent, out, format),
        Command::Completions { shell } => run_completions(shell),
        Command::Man { dir } => run_man(dir),
        Command::List { uses } => Catalogue::with_dirs(&uses).map(|catalogue| {
            print!("{}", explain::list(&catalogue));
            ExitCode::SUCCESS
        }),
        Command::Explain { kind, uses } => {
            Catalogue::with_dirs(&uses).and_then(|catalogue| run_explain(&catalogue, &kind))
        }
    };
    result.unwrap_or_else(|message| {
        eprintln!("error: {message}");
        ExitCode::from(2)
    })
}

fn load(path: &PathBuf) -> Result<SourceFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(SourceFile::new(path.display().to_string(), text))
}

fn color_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn run_check(files: &[PathBuf], format: Format, deny_warnings: bool) -> Result<ExitCode, String> {
    let sources = files.iter().map(load).collect::<Result<Vec<_>, _>>()?;
    // The flow's diagnostics, then its test blocks' (which `sluice build` ignores).
    let checked: Vec<Vec<sluice_compiler::Diagnostic>> = sources
        .iter()
        .map(|source| {
            let c = check(source);
            let mut diags = c.diagnostics.clone();
            diags.extend(sluice_compiler::flowtest::check_tests(source, &c));
            diags
        })
        .collect();
    let (mut errors, mut warnings) = (0, 0);
    for c in &checked {
        for d in c {
            match d.severity {
                Severity::Error => errors += 1,
                Severity::Warning => warnings += 1,
            }
        }
    }
    match format {
        Format::Human => {
            let color = color_stderr();
            let mut err = std::io::stderr().lock();
            for (source, c) in sources.iter().zip(&checked) {
                let named = NamedSource::new(source.name.clone(), source.text.clone());
                for d in c {
                    let _ = write!(err, "{}", render::human(source, &named, d, color));
                }
            }
            let _ = writeln!(err, "{}", summary(files.len(), errors, warnings));
        }
        Format::Json => {
            let pairs: Vec<_> = sources
                .iter()
                .zip(&checked)
                .map(|(s, c)| (s, &c[..]))
                .collect();
            print!("{}", render::json(&pairs));
        }
        Format::Github => {
            for (source, c) in sources.iter().zip(&checked) {
                print!("{}", render::github(source, c));
            }
        }
    }
    let failed = errors > 0 || (deny_warnings && warnings > 0);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn summary(files: usize, errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let checked = plural(files, "file");
    match (errors, warnings) {
        (0, 0) => format!("checked {checked}: no problems"),
        _ => format!(
            "checked {checked}: {}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        ),
    }
}

fn run_fmt(files: &[PathBuf], check_only: bool, to_stdout: bool) -> Result<ExitCode, String> {
    let mut status = ExitCode::SUCCESS;
    for path in files {
        let source = load(path)?;
        let parsed = sluice_dsl::parse(&source.text);
        if !parsed.errors.is_empty() {
            let checked = check(&source);
            let named = NamedSource::new(source.name.clone(), source.text.clone());
            for d in checked
                .diagnostics
                .iter()
                .filter(|d| d.code == sluice_compiler::Code::Syntax)
            {
                eprint!("{}", render::human(&source, &named, d, color_stderr()));
            }
            eprintln!(
                "{}: not formatted: fix the syntax errors first",
                source.name
            );
            status = ExitCode::from(1);
            continue;
        }
        let formatted = sluice_dsl::format(&source.text, &parsed.file);
        if to_stdout {
            print!("{formatted}");
        } else if check_only {
            if formatted != source.text {
                let diff = similar::TextDiff::from_lines(&source.text, &formatted);
                print!(
                    "{}",
                    diff.unified_diff()
                        .header(&source.name, &format!("{} (formatted)", source.name))
                );
                status = ExitCode::from(1);
            }
        } else if formatted != source.text {
            std::fs::write(path, formatted)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!("formatted {}", source.name);
        }
    }
    Ok(status)
}

fn run_graph(path: &PathBuf, format: GraphFormat) -> Result<ExitCode, String> {
    let source = load(path)?;
    let checked = check(&source);
    let Some(topology) = &checked.topology else {
        let named = NamedSource::new(source.name.clone(), source.text.clone());
        for d in &checked.diagnostics {
            eprint!("{}", render::human(&source, &named, d, color_stderr()));
        }
        return Ok(ExitCode::from(1));
    };
    if checked.has_errors() {
        eprintln!(
            "warning: {} has errors; `sluice check` explains them",
            source.name
        );
    }
    let name = agent_name(&source, &checked.file);
    match format {
        GraphFormat::Dot => print!("{}", graph_render::dot(&name, topology)),
        GraphFormat::Mermaid => print!("{}", graph_render::mermaid(topology)),
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks, generates and compiles; `Ok(Ok(binary))` on success, `Ok(Err(code))` when
/// problems were reported.
fn run_build(
    file: &PathBuf,
    out: Option<PathBuf>,
    emit_crate: Option<PathBuf>,
    debug: bool,
) -> Result<Result<PathBuf, ExitCode>, String> {
    let started = std::time::Instant::now();
    let source = load(file)?;
    let checked = check(&source);
    let named = NamedSource::new(source.name.clone(), source.text.clone());
    let color = color_stderr();
    for d in &checked.diagnostics {
        eprint!("{}", render::human(&source, &named, d, color));
    }
    if checked.has_errors() {
        eprintln!(
            "{}: not built: fix the errors above (`sluice check` reports the same)",
            source.name
        );
        return Ok(Err(ExitCode::from(1)));
    }
    let generated = match sluice_compiler::codegen::generate(&source, &checked) {
        Ok(g) => g,
        Err(diags) => {
            for d in &diags {
                eprint!("{}", render::human(&source, &named, d, color));
            }
            eprintln!("{}: not built", source.name);
            return Ok(Err(ExitCode::from(1)));
        }
    };
    let for_run =
        out.is_none() && emit_crate.is_none() && std::env::args().nth(1).as_deref() == Some("run");
    let options = sluice_compiler::build::BuildOptions {
        out: out.clone(),
        emit_crate,
        debug,
        progress: std::io::stderr().is_terminal(),
        ..Default::default()
    };
    let flow_file = file
        .file_name()
        .map_or(source.name.clone(), |f| f.to_string_lossy().into_owned());
    let binary = match sluice_compiler::build::build_crate(&generated, &flow_file, &options) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(Err(ExitCode::from(1)));
        }
    };
    if for_run {
        return Ok(Ok(binary));
    }
    let dest = out.unwrap_or_else(|| PathBuf::from(&generated.crate_name));
    sluice_compiler::build::install(&binary, &dest).map_err(|e| e.to_string())?;
    let size = std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "built agent `{}` -> {} ({:.1} MiB) in {:.1}s",
        generated.agent_name,
        dest.display(),
        size as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64()
    );
    Ok(Ok(dest))
}

/// Replaces this process with the agent.
fn exec_agent(binary: &PathBuf, args: &[String]) -> Result<ExitCode, String> {
    use std::os::unix::process::CommandExt;
    let error = std::process::Command::new(binary).args(args).exec();
    Err(format!("cannot run {}: {error}", binary.display()))
}

fn agent_name(source: &SourceFile, file: &sluice_dsl::File) -> String {
    file.items
        .iter()
        .find_map(|i| match i {
            sluice_dsl::Item::Agent(a) => Some(a.name.value.clone()),
            _ => None,
        })
        .unwrap_or_else(|| source.stem().to_owned())
}

fn run_explain(catalogue: &Catalogue, kind: &str) -> Result<ExitCode, String> {
    let specs = explain::find(catalogue, kind);
    if specs.is_empty() {
        let kinds: Vec<&str> = catalogue.all().map(|c| c.kind).collect();
        let hint = kinds
            .iter()
            .min_by_key(|k| strsim::damerau_levenshtein(kind, k))
            .filter(|k| strsim::damerau_levenshtein(kind, k) <= 3)
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_else(|| "; `sluice list` shows every kind".to_owned());
        return Err(format!("no kind named `{kind}`{hint}"));
    }
    let texts: Vec<String> = specs.iter().map(|s| explain::explain(s)).collect();
    print!("{}", texts.join("\n"));
    Ok(ExitCode::SUCCESS)
}
