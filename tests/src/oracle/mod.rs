//! `cargo xtask oracle ORACLE_DIR --specs SPEC_DIR`: replay the reference runtime's recorded
//! requests and results against a local server, through the same runtime code path that
//! generated crates use, and report every difference.
//!
//! For every `ORACLE_DIR/<name>.json` the spec `SPEC_DIR/<name>/connector.yaml` is loaded by the
//! generator into a [`ConnectorDescriptor`](airbyte_agent_runtime::ConnectorDescriptor); each
//! case then gets a fresh `Client` pointed at one shared recording server, calls
//! `execute(entity, action, params)`, and the received requests and the result are compared
//! with the oracle (see [`compare`]). Deliberate differences live in a checked-in allow-list
//! ([`allowlist`]).

pub mod allowlist;
pub mod compare;
pub mod mask;
pub mod model;
mod replay;
pub mod report;
pub mod server;
pub mod typed;

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use allowlist::{AllowList, Verdict};
use compare::{Aspect, Mismatch};
use model::OracleFile;
use report::{CaseOutcome, CaseStatus, ConnectorReport, Summary, case_details};
use server::MockServer;

/// Errors that stop the whole replay (per-case problems are reported as mismatches instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OracleError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file could not be parsed.
    #[error("cannot parse {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Bad command-line usage.
    #[error("{0}\n\n{USAGE}")]
    Usage(String),
    /// No oracle file matched.
    #[error("no oracle files found in {0}")]
    Empty(String),
}

/// Command-line usage.
pub const USAGE: &str = "usage: cargo xtask oracle ORACLE_DIR --specs SPEC_DIR [options]

options:
  --allowlist FILE   allow-list of deliberate differences (default: tests/oracle-allowlist.toml)
  --only NAME[,NAME] replay only these connectors
  --case PATTERN     replay only cases whose id matches (`*` wildcards)
  --verbose, -v      print details of the first failures of each connector
  --details N        how many failures per connector --verbose prints (default 3)
  --report FILE      write the details of every failing and allow-listed case to FILE";

/// Replay options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Directory of `<name>.json` oracle files.
    pub oracle_dir: PathBuf,
    /// Directory of `<name>/connector.yaml` specs.
    pub specs_dir: PathBuf,
    /// Allow-list file (`None`: nothing is allow-listed).
    pub allowlist: Option<PathBuf>,
    /// Connectors to replay (empty: all).
    pub only: Vec<String>,
    /// Case id pattern.
    pub case_pattern: Option<String>,
    /// Print details of failures.
    pub verbose: bool,
    /// Failures per connector printed with `verbose`.
    pub details: usize,
    /// Write every failure's details here.
    pub report: Option<PathBuf>,
}

/// The checked-in allow-list of this repository.
pub fn default_allowlist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oracle-allowlist.toml")
}

impl Options {
    /// Options with defaults.
    pub fn new(oracle_dir: impl Into<PathBuf>, specs_dir: impl Into<PathBuf>) -> Self {
        Options {
            oracle_dir: oracle_dir.into(),
            specs_dir: specs_dir.into(),
            allowlist: Some(default_allowlist()),
            only: Vec::new(),
            case_pattern: None,
            verbose: false,
            details: 3,
            report: None,
        }
    }

    /// Parse command-line arguments (after the `oracle` subcommand).
    pub fn from_args<I: IntoIterator<Item = String>>(args: I) -> Result<Self, OracleError> {
        let mut oracle_dir = None;
        let mut specs_dir = None;
        let mut opts = Options::new("", "");
        let mut it = args.into_iter();
        let value = |it: &mut I::IntoIter, flag: &str| {
            it.next()
                .ok_or_else(|| OracleError::Usage(format!("{flag} needs a value")))
        };
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--specs" => specs_dir = Some(PathBuf::from(value(&mut it, "--specs")?)),
                "--allowlist" => {
                    opts.allowlist = Some(PathBuf::from(value(&mut it, "--allowlist")?))
                }
                "--no-allowlist" => opts.allowlist = None,
                "--only" => opts.only.extend(
                    value(&mut it, "--only")?
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                ),
                "--case" => opts.case_pattern = Some(value(&mut it, "--case")?),
                "--verbose" | "-v" => opts.verbose = true,
                "--details" => {
                    let v = value(&mut it, "--details")?;
                    opts.details = v
                        .parse()
                        .map_err(|_| OracleError::Usage(format!("--details: not a number: {v}")))?;
                }
                "--report" => opts.report = Some(PathBuf::from(value(&mut it, "--report")?)),
                "-h" | "--help" => return Err(OracleError::Usage("help".into())),
                s if s.starts_with('-') => {
                    return Err(OracleError::Usage(format!("unknown option {s}")));
                }
                s => {
                    if oracle_dir.replace(PathBuf::from(s)).is_some() {
                        return Err(OracleError::Usage(format!("unexpected argument {s}")));
                    }
                }
            }
        }
        opts.oracle_dir =
            oracle_dir.ok_or_else(|| OracleError::Usage("missing ORACLE_DIR".into()))?;
        opts.specs_dir = specs_dir.ok_or_else(|| OracleError::Usage("missing --specs".into()))?;
        Ok(opts)
    }
}

/// Entry point for `cargo xtask oracle ...`: parse, replay, print, exit code.
pub fn main_with_args<I: IntoIterator<Item = String>>(args: I) -> ExitCode {
    let opts = match Options::from_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(summary) if summary.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("oracle: {e}");
            ExitCode::from(2)
        }
    }
}

/// Replay everything, printing rows to stdout; returns the summary.
pub fn run(opts: &Options) -> Result<Summary, OracleError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| OracleError::Io {
            path: "tokio runtime".into(),
            source,
        })?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    rt.block_on(replay_all(opts, &mut out))
}

/// The oracle files to replay, sorted by name.
fn oracle_files(opts: &Options) -> Result<Vec<PathBuf>, OracleError> {
    let dir = &opts.oracle_dir;
    let entries = std::fs::read_dir(dir).map_err(|source| OracleError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| {
            opts.only.is_empty()
                || p.file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| opts.only.iter().any(|o| o == s))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(OracleError::Empty(dir.display().to_string()));
    }
    Ok(files)
}

/// Replay everything, writing the report to `out`.
pub async fn replay_all(opts: &Options, out: &mut dyn Write) -> Result<Summary, OracleError> {
    let started = Instant::now();
    let allow = match &opts.allowlist {
        Some(p) => AllowList::load(p)?,
        None => AllowList::default(),
    };
    let files = oracle_files(opts)?;
    let reports = replay_files(opts, allow, files).await?;
    let mut summary = Summary::default();
    let mut details = String::new();
    for report in reports {
        let _ = writeln!(out, "{}", report.row());
        let mut shown = 0;
        for case in &report.cases {
            let is_failure = matches!(case.status, CaseStatus::Failed { .. });
            if matches!(case.status, CaseStatus::Passed) {
                continue;
            }
            let text = case_details(&report.name, case);
            if opts.verbose && is_failure && shown < opts.details {
                let _ = write!(out, "{text}");
                shown += 1;
            }
            details.push_str(&text);
        }
        summary.connectors.push(report);
    }
    summary.elapsed_ms = started.elapsed().as_millis();
    if let Some(path) = &opts.report {
        std::fs::write(path, &details).map_err(|source| OracleError::Io {
            path: path.display().to_string(),
            source,
        })?;
    }
    let groups = summary.by_aspect();
    if !groups.is_empty() {
        let _ = writeln!(out, "\nfailures by aspect:");
        for (aspect, (n, connectors)) in &groups {
            let _ = writeln!(
                out,
                "  {:<22} {n:>4} case(s) in {} connector(s): {}",
                aspect.name(),
                connectors.len(),
                connectors.join(", ")
            );
        }
    }
    let stale: Vec<String> = summary
        .connectors
        .iter()
        .flat_map(|c| {
            c.passed_but_listed()
                .map(move |k| format!("{}:{}", c.name, k.id))
        })
        .collect();
    if !stale.is_empty() {
        let _ = writeln!(
            out,
            "\n{} allow-listed case(s) passed (entry may be stale): {}",
            stale.len(),
            stale.join(", ")
        );
    }
    let mut slowest: Vec<(u128, String)> = summary
        .connectors
        .iter()
        .flat_map(|c| {
            c.cases
                .iter()
                .map(move |k| (k.elapsed_ms, format!("{}:{}", c.name, k.id)))
        })
        .collect();
    slowest.sort_by_key(|b| std::cmp::Reverse(b.0));
    if opts.verbose {
        let _ = writeln!(out, "\nslowest cases:");
        for (ms, id) in slowest.iter().take(5) {
            let _ = writeln!(out, "  {ms:>6} ms  {id}");
        }
    }
    let _ = writeln!(
        out,
        "\n{} case(s) in {} connector(s) in {:.2} s; {} allow-listed",
        summary
            .connectors
            .iter()
            .map(|c| c.cases.len())
            .sum::<usize>(),
        summary.connectors.len(),
        summary.elapsed_ms as f64 / 1000.0,
        summary.allow_listed()
    );
    let _ = writeln!(
        out,
        "{} passed, {} failed",
        summary.passed(),
        summary.failed()
    );
    Ok(summary)
}

/// How many connectors are replayed at once, each against its own server.
const WORKERS: usize = 2;

/// Replay the files on [`WORKERS`] workers (one reused server each); reports in file order.
async fn replay_files(
    opts: &Options,
    allow: AllowList,
    files: Vec<PathBuf>,
) -> Result<Vec<ConnectorReport>, OracleError> {
    let queue = Arc::new(Mutex::new(
        files.into_iter().enumerate().collect::<VecDeque<_>>(),
    ));
    let opts = Arc::new(opts.clone());
    let allow = Arc::new(allow);
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let server = MockServer::start()
            .await
            .map_err(|source| OracleError::Io {
                path: "127.0.0.1 listener".into(),
                source,
            })?;
        let (queue, opts, allow) = (Arc::clone(&queue), Arc::clone(&opts), Arc::clone(&allow));
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some((index, path)) = next else { break };
                let file = OracleFile::load(&path)?;
                done.push((index, replay_connector(&opts, &file, &allow, &server).await));
            }
            Ok::<_, OracleError>(done)
        }));
    }
    let mut reports = Vec::new();
    for worker in workers {
        match worker.await {
            Ok(done) => reports.extend(done?),
            Err(e) => {
                return Err(OracleError::Parse {
                    path: "replay worker".into(),
                    message: e.to_string(),
                });
            }
        }
    }
    reports.sort_by_key(|(index, _)| *index);
    Ok(reports.into_iter().map(|(_, r)| r).collect())
}

/// Replay every case of one connector.
async fn replay_connector(
    opts: &Options,
    file: &OracleFile,
    allow: &AllowList,
    server: &MockServer,
) -> ConnectorReport {
    let mut report = ConnectorReport {
        name: file.connector.clone(),
        cases: Vec::new(),
    };
    let cases: Vec<&model::Case> = file
        .cases
        .iter()
        .filter(|c| {
            opts.case_pattern
                .as_deref()
                .is_none_or(|p| allowlist::glob_match(p, &c.id))
        })
        .collect();
    let spec = opts.specs_dir.join(&file.connector).join("connector.yaml");
    let connector = replay::Connector::load(&spec);
    for case in cases {
        let started = Instant::now();
        let (mismatches, error) = match &connector {
            Ok(c) => c.replay(file, case, server).await,
            Err(e) => (vec![Mismatch::new(Aspect::Setup, e.clone())], None),
        };
        let status = if mismatches.is_empty() {
            if allow.is_listed(&file.connector, &case.id) {
                CaseStatus::PassedButAllowListed
            } else {
                CaseStatus::Passed
            }
        } else {
            match allow.judge(&file.connector, &case.id, error, &mismatches) {
                Verdict::Allowed(reasons) => CaseStatus::AllowListed {
                    reasons,
                    mismatches,
                },
                _ => CaseStatus::Failed { mismatches },
            }
        };
        report.cases.push(CaseOutcome {
            id: case.id.clone(),
            status,
            elapsed_ms: started.elapsed().as_millis(),
        });
    }
    report
}
