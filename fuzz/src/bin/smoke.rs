//! Stable-toolchain fuzz harness: mutates seed inputs with a small deterministic mutator and runs
//! the same target bodies as the libFuzzer binaries, for a time budget. No coverage feedback, so
//! it finds less than `cargo fuzz`, but it runs anywhere (CI smoke runs).
//!
//! ```text
//! cargo run --release --no-default-features --bin smoke -- [--seconds 45] [--target NAME] [--seed N]
//! ```
//! Seeds: built-in inputs, `corpus/<target>/` when present, and for the spec loader the corpus
//! specs under `../shared/airbyte-specs/` (read in place, never copied). A panicking input is
//! written to the system temp directory and the process exits with status 1.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("spec_loader", airbyte_agent_fuzz::spec_loader),
    ("record_decode", airbyte_agent_fuzz::record_decode),
    ("jsonpath_template", airbyte_agent_fuzz::jsonpath_template),
];

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "null",
    "true",
    "-0",
    "1e999",
    "18446744073709551616",
    "\\u0000",
    "\\ud800",
    "$.",
    "[*]",
    "['a']",
    "[-1]",
    "..",
    "{{",
    "}}",
    "${",
    "|",
    " | lower",
    " | replace('a','b')",
    " == ",
    " and ",
    " not ",
    "record.",
    "config.",
    "\n  ",
    "\n- ",
    ": ",
    "x-airbyte-",
    "$ref: '#/components/schemas/X'",
    "type: object",
    "paths:",
    "&a",
    "*a",
    "!!str",
    "\u{feff}",
    "\u{10ffff}",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, input: &[u8], seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = v.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                v.insert(i, rng.next() as u8);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(64)) + 1;
                v.drain(i..i + n);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(64)) + 1;
                let chunk = v[i..i + n].to_vec();
                let at = rng.below(len + 1);
                v.splice(at..at, chunk);
            }
            4 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let i = rng.below(len + 1);
                v.splice(i..i, t.iter().copied());
            }
            5 if len > 0 => v.truncate(rng.below(len)),
            6 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let i = rng.below(other.len());
                    let n = rng.below((other.len() - i).min(256)) + 1;
                    let at = rng.below(len + 1);
                    v.splice(at..at, other[i..i + n].iter().copied());
                }
            }
            _ if len > 0 => {
                // Replace a line-ish range with a token (YAML/JSON structure damage).
                let i = rng.below(len);
                let end = v[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(len, |p| i + p);
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                v.splice(i..end, t.iter().copied());
            }
            _ => v.push(b'{'),
        }
    }
    v
}

fn builtin_seeds(target: &str) -> Vec<Vec<u8>> {
    let s: &[&str] = match target {
        "spec_loader" => &[
            "openapi: 3.1.0\ninfo:\n  title: T\n  version: 1.0.0\n  x-airbyte-connector-name: t\nservers:\n  - url: https://api.example.invalid\npaths: {}\n",
            "{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"T\",\"version\":\"1\"},\"paths\":{}}",
            "",
        ],
        "record_decode" => &[
            r#"{"object":"list","data":[{"id":"a","n":1,"f":1.5,"ok":true,"tags":["x"],"nested":{"k":[1,2]}}],"has_more":true,"paging":{"cursor":"c"}}"#,
            r#"{"result":{"items":[{"id":"b"}]},"paging":{"cursor":null},"has_more":false}"#,
            r#"{"ok":false,"error":"bad","data":[]}"#,
            r#"{"data":[1,"two",null,[3]]}"#,
            r#"{"data":{"id":"single"}}"#,
            r#"{"errors":[{"message":"m","code":"E1"}]}"#,
        ],
        _ => &[
            "$.data[*].id\n{\"data\":[{\"id\":1},{\"id\":\"two\"}]}",
            "$['a']['b'][0]\n{\"a\":{\"b\":[true]}}",
            "{{ record.name | lower }}-{{ config.subdomain }}\n{\"name\":\"ACME\"}",
            "{{ record.status == 'open' and not record.archived }}\n{\"status\":\"open\",\"archived\":false}",
            "{{ record.x | replace('a', 'b') | default('z') }}\n{\"x\":\"aaa\"}",
            "${key}:${other}\n{\"key\":\"v\",\"other\":\"w\"}",
            "attachments[0].url\n{\"attachments\":[{\"url\":\"u\"}]}",
        ],
    };
    s.iter().map(|x| x.as_bytes().to_vec()).collect()
}

fn read_dir_files(dir: &Path, out: &mut Vec<Vec<u8>>, depth: usize, name: Option<&str>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() && depth > 0 {
            read_dir_files(&p, out, depth - 1, name);
        } else if p.is_file()
            && name.is_none_or(|n| p.file_name().is_some_and(|f| f == n))
            && let Ok(b) = std::fs::read(&p)
        {
            out.push(b);
        }
    }
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut v = builtin_seeds(target);
    read_dir_files(&Path::new("corpus").join(target), &mut v, 0, None);
    if target == "spec_loader" {
        for root in ["../shared/airbyte-specs", "../../shared/airbyte-specs"] {
            let before = v.len();
            read_dir_files(Path::new(root), &mut v, 2, Some("connector.yaml"));
            if v.len() > before {
                break;
            }
        }
    }
    v
}

fn main() {
    let mut seconds = 45.0f64;
    let mut only: Option<String> = None;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => seconds = args.next().and_then(|s| s.parse().ok()).unwrap_or(seconds),
            "--target" => only = args.next(),
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(seed),
            other => {
                eprintln!("unknown argument `{other}`");
                std::process::exit(2);
            }
        }
    }
    let targets: Vec<&(&str, Target)> = TARGETS
        .iter()
        .filter(|(n, _)| only.as_deref().is_none_or(|o| o == *n))
        .collect();
    if targets.is_empty() {
        eprintln!("no such target");
        std::process::exit(2);
    }
    // Panics are findings: keep their messages short and collect the inputs.
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    let per_target = Duration::from_secs_f64(seconds / targets.len() as f64);
    let mut failed = false;
    for (name, f) in targets {
        let seeds = seeds(name);
        let mut rng = Rng(seed | 1);
        let start = Instant::now();
        let (mut runs, mut crashes) = (0u64, 0u64);
        // Every seed once, then mutations until the budget is spent.
        let mut i = 0usize;
        while start.elapsed() < per_target {
            let input = if i < seeds.len() {
                seeds[i].clone()
            } else {
                let base = &seeds[rng.below(seeds.len())];
                mutate(&mut rng, base, &seeds)
            };
            i += 1;
            runs += 1;
            if catch_unwind(AssertUnwindSafe(|| f(&input))).is_err() {
                crashes += 1;
                failed = true;
                let path = std::env::temp_dir().join(format!("fuzz-crash-{name}-{runs}"));
                let _ = std::fs::write(&path, &input);
                eprintln!("{name}: crashing input written to {}", path.display());
            }
        }
        println!(
            "{name}: {runs} inputs ({} seeds) in {:.1} s, {crashes} crashes",
            seeds.len(),
            start.elapsed().as_secs_f64()
        );
    }
    if failed {
        std::process::exit(1);
    }
}
