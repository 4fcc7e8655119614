//! In-process decode profile: one Stripe customers page (the mock's body, 100 records by
//! default) decoded `--iters` times through the functions `Client::call_list` uses, without
//! HTTP. Meant for `valgrind --tool=callgrind` (instruction counts do not move with machine
//! load) as well as for plain timing. See `bench/README.md`.
//!
//! Paths (`--path`, default `all`):
//! - `direct`: `page_from_bytes::page` (what `call_list` runs for Stripe's list shape);
//! - `general`: `parse_body` + `shape` + `Page::decode` (the `Value`-based path);
//! - `value`: `serde_json::from_slice::<Value>` only (the DOM the general path builds);
//! - `lex`: `serde_json::from_slice::<IgnoredAny>` (lexing every byte, building nothing);
//! - `utf8`: `std::str::from_utf8` of the body.

#[path = "../pages.rs"]
mod pages;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use airbyte_agent_core::headers::Headers;
use airbyte_agent_core::{Page, page_from_bytes, response};
use airbyte_agent_stripe::descriptor::{CONNECTOR, CUSTOMERS};
use airbyte_agent_stripe::{Customer, CustomersListMeta};
use serde_json::{Value, json};

type CustomersPage = Page<Customer, CustomersListMeta>;

const USAGE: &str = "\
decode-profile [--path direct|general|value|lex|utf8|all] [--iters N] [--records N] [--check]

  --iters N     decodes of the page per path (default 300)
  --records N   records on the page, 1..=100 (default 100)
  --check       only compare the direct and the general path's pages, then exit
";

struct Opts {
    path: String,
    iters: usize,
    records: usize,
    check: bool,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        path: "all".into(),
        iters: 300,
        records: 100,
        check: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let num = |s: String| {
            s.parse::<usize>()
                .map_err(|_| format!("`{s}` is not a number"))
        };
        match a.as_str() {
            "--path" => o.path = val("--path")?,
            "--iters" => o.iters = num(val("--iters")?)?.max(1),
            "--records" => o.records = num(val("--records")?)?.clamp(1, 100),
            "--check" => o.check = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(o)
}

fn headers() -> Headers {
    Headers(vec![
        ("content-type".into(), "application/json".into()),
        ("request-id".into(), "req_bench".into()),
    ])
}

fn direct(headers: &Headers, body: &[u8]) -> Result<CustomersPage, String> {
    match page_from_bytes::page::<Customer, CustomersListMeta>(
        &CONNECTOR,
        &CUSTOMERS[0],
        headers,
        body,
    ) {
        Some(p) => p.map_err(|e| e.to_string()),
        None => Err("the direct decoder declined the page".into()),
    }
}

fn general(headers: &Headers, body: &[u8]) -> Result<CustomersPage, String> {
    let op = &CUSTOMERS[0];
    response::parse_body(200, headers, body)
        .and_then(|v| response::shape(&CONNECTOR, op, headers, v, &BTreeMap::new()))
        .and_then(|r| Page::decode(op, r))
        .map_err(|e| e.to_string())
}

/// Records and meta as JSON, for comparing pages of a type without `PartialEq`.
fn as_json(p: &CustomersPage) -> Value {
    json!({"data": p.data, "has_more": p.meta.has_more})
}

fn check(headers: &Headers, body: &[u8], records: usize) -> Result<(), String> {
    let d = direct(headers, body)?;
    let g = general(headers, body)?;
    if d.data.len() != records {
        return Err(format!("expected {records} records, got {}", d.data.len()));
    }
    if as_json(&d) != as_json(&g) {
        return Err("the direct and the general path decode different pages".into());
    }
    Ok(())
}

/// Run one path `iters` times; returns the count of records seen (kept alive via black_box).
fn run(path: &str, iters: usize, headers: &Headers, body: &[u8]) -> Result<usize, String> {
    let mut seen = 0usize;
    for _ in 0..iters {
        let body = black_box(body);
        seen += match path {
            "direct" => black_box(direct(headers, body)?).data.len(),
            "general" => black_box(general(headers, body)?).data.len(),
            "value" => match black_box(serde_json::from_slice::<Value>(body)) {
                Ok(Value::Object(m)) => m.len(),
                _ => return Err("not an object".into()),
            },
            "lex" => {
                serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(|e| e.to_string())?;
                1
            }
            "utf8" => std::str::from_utf8(body).map_err(|e| e.to_string())?.len(),
            other => return Err(format!("unknown path `{other}`")),
        };
    }
    Ok(seen)
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let customers: Vec<Value> = (0..opts.records).map(pages::customer).collect();
    let body = pages::page_body(&customers);
    let headers = headers();
    if let Err(e) = check(&headers, &body, opts.records) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    if opts.check {
        println!("direct and general pages agree ({} records)", opts.records);
        return ExitCode::SUCCESS;
    }
    let paths: Vec<&str> = if opts.path == "all" {
        vec!["utf8", "lex", "value", "direct", "general"]
    } else {
        vec![opts.path.as_str()]
    };
    for path in paths {
        // One untimed pass warms caches and the allocator.
        if let Err(e) = run(path, 1, &headers, &body) {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
        let t = Instant::now();
        if let Err(e) = run(path, opts.iters, &headers, &body) {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
        let secs = t.elapsed().as_secs_f64();
        let records = (opts.iters * opts.records) as f64;
        println!(
            "{}",
            json!({
                "bench": "decode_profile",
                "path": path,
                "records_per_page": opts.records,
                "body_bytes": body.len(),
                "bytes_per_record": body.len() / opts.records,
                "record_size_of": std::mem::size_of::<Customer>(),
                "iters": opts.iters,
                "ns_per_record": (secs * 1e9 / records * 10.0).round() / 10.0,
                "mb_per_s": ((body.len() * opts.iters) as f64 / secs / 1e6).round(),
            })
        );
    }
    ExitCode::SUCCESS
}
