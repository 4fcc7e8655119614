//! Benchmarks of the generated Stripe connector (`customers list`) against any base URL or a
//! built-in Stripe-shaped mock server. See `bench/README.md`.
//!
//! Without `--base-url` the process starts the mock server on its own thread and runs every
//! workload in a child process of itself (`--child`), so the client's CPU time and peak RSS are
//! measured alone. Each workload prints one JSON line per measurement.

mod mock;
mod pages;

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use airbyte_agent_stripe::{StripeAuthConfig, StripeConnector};
use serde_json::{Value, json};

const USAGE: &str = "\
airbyte-agent-bench [options]

  --workload W        latency | throughput | decode | stream | firstcall | clientbuild
                      | all (default: all)
                      | serve (run only the mock server and print its URL)
  --base-url URL      target server (default: start the built-in Stripe-shaped mock)
  --rt R              current | multi | auto: the client's tokio runtime (default auto: multi-thread
                      with one worker per core for throughput, current-thread for the rest)
  --n N               latency: measured sequential calls (default 500, after 20 warm-up calls)
  --limit N           latency: page size (default 10)
  --calls N           throughput: calls per concurrency level (default 2000)
  --concurrency LIST  throughput: comma-separated task counts (default 1,10,20,50)
  --runs N            firstcall: process launches (default 20); decode: calls per limit (default 300)
  --records N         stream: records read through the page stream (default 100000)
  --child             run the workload in this process (used by the parent; also handy with --base-url)
";

#[derive(Debug, Clone)]
struct Opts {
    workload: String,
    base_url: Option<String>,
    rt: String,
    n: usize,
    calls: usize,
    concurrency: Vec<usize>,
    runs: Option<usize>,
    limit: usize,
    records: usize,
    child: bool,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        workload: "all".into(),
        base_url: None,
        rt: "auto".into(),
        n: 500,
        calls: 2000,
        concurrency: vec![1, 10, 20, 50],
        runs: None,
        limit: 10,
        records: 100_000,
        child: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let num = |s: String, name: &str| {
            s.parse::<usize>()
                .map_err(|_| format!("{name}: `{s}` is not a number"))
        };
        match a.as_str() {
            "--workload" => o.workload = val("--workload")?,
            "--base-url" => o.base_url = Some(val("--base-url")?),
            "--rt" => o.rt = val("--rt")?,
            "--n" => o.n = num(val("--n")?, "--n")?,
            "--calls" => o.calls = num(val("--calls")?, "--calls")?,
            "--runs" => o.runs = Some(num(val("--runs")?, "--runs")?),
            "--limit" => o.limit = num(val("--limit")?, "--limit")?.clamp(1, 100),
            "--concurrency" => {
                o.concurrency = val("--concurrency")?
                    .split(',')
                    .map(|s| num(s.trim().to_string(), "--concurrency"))
                    .collect::<Result<_, _>>()?
            }
            "--records" => o.records = num(val("--records")?, "--records")?.max(1),
            "--child" => o.child = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if !matches!(o.rt.as_str(), "current" | "multi" | "auto") {
        return Err(format!(
            "--rt must be current, multi or auto, not `{}`",
            o.rt
        ));
    }
    Ok(o)
}

fn main() -> ExitCode {
    let start = Instant::now();
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = if opts.child {
        run_child(&opts, start)
    } else {
        run_parent(opts)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parent: start the mock (unless --base-url), run each workload in a child process.

fn run_parent(opts: Opts) -> Result<(), String> {
    let _server;
    let base_url = match &opts.base_url {
        Some(u) => u.clone(),
        None => {
            let s = mock::start().map_err(|e| format!("cannot start the mock server: {e}"))?;
            let u = s.base_url.clone();
            _server = s;
            u
        }
    };
    if opts.workload == "serve" {
        println!("{base_url}");
        let _ = std::io::stdout().flush();
        loop {
            std::thread::park();
        }
    }
    let workloads: Vec<&str> = if opts.workload == "all" {
        vec![
            "clientbuild",
            "latency",
            "throughput",
            "decode",
            "stream",
            "firstcall",
        ]
    } else {
        vec![opts.workload.as_str()]
    };
    for w in workloads {
        if w == "firstcall" {
            firstcall_parent(&opts, &base_url)?;
        } else {
            let status = child_command(&opts, w, &base_url)
                .status()
                .map_err(|e| format!("cannot run the {w} child: {e}"))?;
            if !status.success() {
                return Err(format!("the {w} workload failed ({status})"));
            }
        }
    }
    Ok(())
}

fn child_command(opts: &Opts, workload: &str, base_url: &str) -> Command {
    let exe = std::env::current_exe().unwrap_or_else(|_| "airbyte-agent-bench".into());
    let mut c = Command::new(exe);
    c.args(["--child", "--workload", workload, "--base-url", base_url])
        .args(["--rt", &opts.rt])
        .args(["--n", &opts.n.to_string()])
        .args(["--calls", &opts.calls.to_string()])
        .args(["--limit", &opts.limit.to_string()])
        .args(["--records", &opts.records.to_string()]);
    let conc: Vec<String> = opts.concurrency.iter().map(|c| c.to_string()).collect();
    c.args(["--concurrency", &conc.join(",")]);
    if let Some(r) = opts.runs {
        c.args(["--runs", &r.to_string()]);
    }
    c
}

/// Process start → first result, over several launches of a child process.
fn firstcall_parent(opts: &Opts, base_url: &str) -> Result<(), String> {
    let runs = opts.runs.unwrap_or(20).max(1);
    let mut samples = Vec::with_capacity(runs);
    let mut rss = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut cmd = child_command(opts, "firstcall", base_url);
        cmd.stdout(Stdio::piped());
        let t0 = Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot launch the firstcall child: {e}"))?;
        let stdout = child.stdout.take().ok_or("no child stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut got = None;
        for line in lines.by_ref() {
            let line = line.map_err(|e| format!("reading the child: {e}"))?;
            if line == "FIRST_RESULT" {
                got = Some(t0.elapsed());
                break;
            }
        }
        let mut child_report = None;
        for line in lines {
            let line = line.map_err(|e| format!("reading the child: {e}"))?;
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                child_report = Some(v);
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        let d =
            got.ok_or_else(|| format!("the firstcall child printed no FIRST_RESULT ({status})"))?;
        samples.push(d);
        if let Some(kib) = child_report
            .as_ref()
            .and_then(|v| v.get("peak_rss_kib"))
            .and_then(Value::as_u64)
        {
            rss.push(kib);
        }
    }
    let mut line = stats_line("firstcall", &samples);
    line["runs"] = json!(runs);
    line["measured"] = json!("parent: spawn() → FIRST_RESULT line read");
    if let Some(max) = rss.iter().max() {
        line["peak_rss_kib"] = json!(max);
    }
    println!("{line}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Child: the workloads themselves.

/// The client runtime a workload runs on: `--rt`, or for `auto` the one a user would pick
/// (many concurrent calls: multi-thread; sequential calls: current-thread).
fn runtime_kind(opts: &Opts) -> &'static str {
    match (opts.rt.as_str(), opts.workload.as_str()) {
        ("multi", _) | ("auto", "throughput") => "multi",
        _ => "current",
    }
}

fn run_child(opts: &Opts, start: Instant) -> Result<(), String> {
    let base_url = opts
        .base_url
        .clone()
        .ok_or("--child needs --base-url (or run without --child to use the mock)")?;
    let rt = if runtime_kind(opts) == "multi" {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
    .map_err(|e| format!("cannot build the tokio runtime: {e}"))?;
    rt.block_on(async {
        match opts.workload.as_str() {
            "firstcall" => firstcall_child(&base_url, start).await,
            "latency" => latency(opts, &base_url).await,
            "throughput" => throughput(opts, &base_url).await,
            "decode" => decode(opts, &base_url).await,
            "stream" => stream(opts, &base_url).await,
            "clientbuild" => clientbuild(&base_url),
            other => Err(format!("unknown workload `{other}`")),
        }
    })
}

fn connector(base_url: &str) -> Result<StripeConnector, String> {
    StripeConnector::builder(StripeAuthConfig::new(
        "sk_test_bench_not_a_real_key".to_string(),
    ))
    .base_url(base_url)
    .build()
    .map_err(|e| format!("cannot build the connector: {e}"))
}

async fn list(c: &StripeConnector, limit: usize) -> Result<(), String> {
    let page = c
        .customers()
        .list()
        .limit(limit as i64)
        .await
        .map_err(|e| e.to_string())?;
    if page.data.len() != limit {
        return Err(format!("expected {limit} records, got {}", page.data.len()));
    }
    Ok(())
}

async fn firstcall_child(base_url: &str, start: Instant) -> Result<(), String> {
    let c = connector(base_url)?;
    list(&c, 10).await?;
    let in_process = start.elapsed();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "FIRST_RESULT");
    let _ = out.flush();
    let _ = writeln!(
        out,
        "{}",
        json!({
            "bench": "firstcall_child",
            "impl": "rust",
            "main_to_result_ms": ms(in_process),
            "peak_rss_kib": peak_rss_kib(),
        })
    );
    Ok(())
}

async fn latency(opts: &Opts, base_url: &str) -> Result<(), String> {
    let c = connector(base_url)?;
    for _ in 0..20 {
        list(&c, opts.limit).await?;
    }
    let mut samples = Vec::with_capacity(opts.n);
    let cpu0 = cpu_time();
    for _ in 0..opts.n {
        let t = Instant::now();
        list(&c, opts.limit).await?;
        samples.push(t.elapsed());
    }
    let cpu = cpu_time().saturating_sub(cpu0);
    let mut line = stats_line("latency", &samples);
    line["client_cpu_ms_per_call"] = json!(round(ms(cpu) / opts.n.max(1) as f64, 4));
    line["limit"] = json!(opts.limit);
    line["runtime"] = json!(runtime_kind(opts));
    line["peak_rss_kib"] = json!(peak_rss_kib());
    println!("{line}");
    Ok(())
}

async fn throughput(opts: &Opts, base_url: &str) -> Result<(), String> {
    let c = Arc::new(connector(base_url)?);
    // Warm the pool to the largest concurrency level.
    let warm = opts.concurrency.iter().copied().max().unwrap_or(1);
    let mut tasks = Vec::new();
    for _ in 0..warm {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { list(&c, 10).await }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    for &conc in &opts.concurrency {
        let conc = conc.max(1);
        let next = Arc::new(AtomicUsize::new(0));
        let errors = Arc::new(AtomicUsize::new(0));
        let cpu0 = cpu_time();
        let t0 = Instant::now();
        let mut tasks = Vec::with_capacity(conc);
        for _ in 0..conc {
            let (c, next, errors) = (c.clone(), next.clone(), errors.clone());
            let calls = opts.calls;
            tasks.push(tokio::spawn(async move {
                let mut samples = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < calls {
                    let t = Instant::now();
                    if list(&c, 10).await.is_err() {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    samples.push(t.elapsed());
                }
                samples
            }));
        }
        let mut samples = Vec::with_capacity(opts.calls);
        for t in tasks {
            samples.extend(t.await.map_err(|e| e.to_string())?);
        }
        let wall = t0.elapsed();
        let cpu = cpu_time().saturating_sub(cpu0);
        let mut line = stats_line("throughput", &samples);
        line["concurrency"] = json!(conc);
        line["calls"] = json!(samples.len());
        line["errors"] = json!(errors.load(Ordering::Relaxed));
        line["wall_s"] = json!(wall.as_secs_f64());
        line["calls_per_s"] = json!(round(samples.len() as f64 / wall.as_secs_f64(), 1));
        line["client_cpu_ms_per_call"] = json!(round(ms(cpu) / samples.len().max(1) as f64, 4));
        line["runtime"] = json!(runtime_kind(opts));
        line["peak_rss_kib"] = json!(peak_rss_kib());
        println!("{line}");
    }
    Ok(())
}

async fn decode(opts: &Opts, base_url: &str) -> Result<(), String> {
    let c = connector(base_url)?;
    let runs = opts.runs.unwrap_or(300).max(1);
    let mut p50s = Vec::new();
    let mut cpus = Vec::new();
    for limit in [1usize, 10, 100] {
        for _ in 0..20 {
            list(&c, limit).await?;
        }
        let mut samples = Vec::with_capacity(runs);
        let cpu0 = cpu_time();
        for _ in 0..runs {
            let t = Instant::now();
            list(&c, limit).await?;
            samples.push(t.elapsed());
        }
        let cpu_per_call_us = cpu_time().saturating_sub(cpu0).as_secs_f64() * 1e6 / runs as f64;
        cpus.push(cpu_per_call_us);
        let mut line = stats_line("decode", &samples);
        line["limit"] = json!(limit);
        line["client_cpu_ms_per_call"] = json!(round(cpu_per_call_us / 1000.0, 4));
        p50s.push((limit, line["p50_ms"].as_f64().unwrap_or(0.0)));
        println!("{line}");
    }
    if let (Some(&(l1, a)), Some(&(l2, b))) = (p50s.first(), p50s.last()) {
        let slope_us = (b - a) * 1000.0 / (l2 - l1) as f64;
        let cpu_slope_us = match (cpus.first(), cpus.last()) {
            (Some(x), Some(y)) => (y - x) / (l2 - l1) as f64,
            _ => 0.0,
        };
        println!(
            "{}",
            json!({
                "bench": "decode_per_record",
                "impl": "rust",
                "per_record_us": round(slope_us, 3),
                "cpu_per_record_us": round(cpu_slope_us, 3),
                "method": "(p50 at limit 100 - p50 at limit 1) / 99: transfer + parse + typed decode",
                "peak_rss_kib": peak_rss_kib(),
            })
        );
    }
    Ok(())
}

/// `--records` records through the lazy page stream (pages of 100): peak RSS after each tenth
/// of them must stay flat (one page is held at a time).
async fn stream(opts: &Opts, base_url: &str) -> Result<(), String> {
    use futures_core::Stream;
    let c = connector(base_url)?;
    let pages_needed = opts.records.div_ceil(100);
    let mut pages = c
        .customers()
        .list()
        .limit(100)
        .pages()
        .max_pages(pages_needed);
    let (mut records, mut samples) = (0usize, Vec::new());
    let step = (opts.records / 10).max(1);
    let t0 = Instant::now();
    let cpu0 = cpu_time();
    while let Some(page) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut pages).poll_next(cx)).await
    {
        let page = page.map_err(|e| e.to_string())?;
        let before = records;
        records += page.data.len();
        if records / step != before / step {
            samples.push(json!({"records": records, "peak_rss_kib": peak_rss_kib()}));
        }
        if records >= opts.records {
            break;
        }
    }
    let wall = t0.elapsed();
    let cpu = cpu_time().saturating_sub(cpu0);
    if records < opts.records {
        return Err(format!("the stream ended after {records} records"));
    }
    println!(
        "{}",
        json!({
            "bench": "stream",
            "impl": "rust",
            "records": records,
            "wall_s": round(wall.as_secs_f64(), 3),
            "cpu_per_record_us": round(cpu.as_secs_f64() * 1e6 / records as f64, 3),
            "peak_rss_kib": peak_rss_kib(),
            "peak_rss_along_the_way": samples,
            "path": "pages(): records decoded straight from the bytes, next page from a skim of them",
        })
    );
    Ok(())
}

/// Cost of building fresh clients (TLS setup is cached per process).
fn clientbuild(base_url: &str) -> Result<(), String> {
    let t = Instant::now();
    let first = connector(base_url)?;
    let first_ms = ms(t.elapsed());
    drop(first);
    let mut samples = Vec::with_capacity(200);
    for _ in 0..200 {
        let t = Instant::now();
        let c = connector(base_url)?;
        samples.push(t.elapsed());
        drop(c);
    }
    let mut line = stats_line("clientbuild", &samples);
    line["first_build_ms"] = json!(first_ms);
    println!("{line}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Measurement helpers.

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

fn stats_line(bench: &str, samples: &[Duration]) -> Value {
    let mut s: Vec<Duration> = samples.to_vec();
    s.sort_unstable();
    let pct = |p: f64| -> f64 {
        if s.is_empty() {
            return 0.0;
        }
        // Nearest rank.
        let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
        round(ms(s[rank.clamp(1, s.len()) - 1]), 4)
    };
    let total: Duration = s.iter().sum();
    json!({
        "bench": bench,
        "impl": "rust",
        "n": s.len(),
        "min_ms": round(s.first().map(|d| ms(*d)).unwrap_or(0.0), 4),
        "p50_ms": pct(50.0),
        "p90_ms": pct(90.0),
        "p99_ms": pct(99.0),
        "max_ms": round(s.last().map(|d| ms(*d)).unwrap_or(0.0), 4),
        "calls_per_s": if total.is_zero() { 0.0 } else { round(s.len() as f64 / total.as_secs_f64(), 1) },
    })
}

fn rusage() -> Option<libc::rusage> {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a full `rusage` into the pointer on success.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr()) };
    // SAFETY: rc == 0 means the struct was initialised (and it was zeroed before anyway).
    (rc == 0).then(|| unsafe { ru.assume_init() })
}

/// User + system CPU time of this process.
fn cpu_time() -> Duration {
    rusage()
        .map(|r| {
            let tv = |t: libc::timeval| {
                Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
            };
            tv(r.ru_utime) + tv(r.ru_stime)
        })
        .unwrap_or_default()
}

/// Peak resident set size of this process in KiB: `VmHWM` (reset by exec, unlike
/// `ru_maxrss`, which a child inherits from its parent's size at fork), else `ru_maxrss`.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or_else(|| rusage().map(|r| r.ru_maxrss.max(0) as u64).unwrap_or(0))
}
