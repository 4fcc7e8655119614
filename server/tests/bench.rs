//! Throughput of the server binary (a measurement, ignored by default; it prints numbers and
//! asserts no timings):
//!
//! ```sh
//! cargo test -p airbyte-agent-server --release --test bench -- --ignored --nocapture
//! ```
//!
//! One and two `serve` processes on one database (SQLite; PostgreSQL too when
//! `AIRBYTE_SERVER_TEST_PG` is set), a Stripe-shaped provider on loopback (axum, in this
//! process), and 50 concurrent executes from the runtime's hosted client for a few seconds:
//! executes/s, each instance's peak RSS (VmHWM), and startup time (spawn to the first
//! `/healthz` 200 on an existing database). Client, provider and servers share the machine.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use airbyte_agent_runtime::Client;
use airbyte_agent_runtime::hosted::AirbyteAuthConfig;
use axum::Router;
use axum::routing::get;
use common::process::{Init, Instance, init};
use common::*;
use serde_json::json;

const CONCURRENCY: usize = 50;
const SECONDS: u64 = 5;

async fn provider() -> String {
    let body = json!({
        "object": "list", "url": "/v1/customers", "has_more": false,
        "data": (1..=3).map(customer).collect::<Vec<_>>(),
    })
    .to_string();
    let app = Router::new().route(
        "/v1/customers",
        get(move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

async fn connector(url: &str, app: &Init) -> String {
    let (s, b) = send_json(
        url,
        "POST",
        "/api/v1/account/applications/token",
        None,
        Some(json!({"client_id": app.client_id, "client_secret": app.client_secret}).to_string()),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let token = b["access_token"].as_str().expect("token").to_string();
    let (s, b) = send_json(
        url,
        "POST",
        "/api/v1/integrations/connectors",
        Some(&token),
        Some(
            json!({"definition_id": stripe().definition_id, "workspace_name": "default",
                   "credentials": {"api_key": STRIPE_KEY}})
            .to_string(),
        ),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().expect("id").to_string()
}

async fn measure(label: &str, db: &Database, instances: usize, provider: &str) {
    let dir = std::env::temp_dir().join(format!(
        "airbyte-agent-server-bench-{}-{label}-{instances}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let app = init(&dir, &db.url);
    let extra = vec![format!("--provider-base-url=stripe={provider}")];
    let mut servers = Vec::new();
    for _ in 0..instances {
        servers.push(Instance::start(&dir, &db.url, &extra).await);
    }
    let id = connector(&servers[0].url, &app).await;
    let clients: Vec<Client> = servers
        .iter()
        .map(|s| {
            Client::hosted(
                stripe(),
                AirbyteAuthConfig::new(app.client_id.clone(), app.client_secret.clone())
                    .organization_id(app.organization_id.clone())
                    .base_url(s.url.clone())
                    .connector_id(id.clone()),
            )
            .build()
            .expect("client")
        })
        .collect();
    // Warm up: token, client caches, pools.
    for c in &clients {
        for _ in 0..20 {
            c.execute("customers", "list", json!({"limit": 3}))
                .await
                .expect("warm-up");
        }
    }
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..CONCURRENCY {
        let c = clients[i % clients.len()].clone();
        let (done, failed, stop) = (done.clone(), failed.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match c.execute("customers", "list", json!({"limit": 3})).await {
                    Ok(_) => done.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let secs = started.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    let rss: Vec<String> = servers
        .iter()
        .map(|s| format!("{} MiB", peak_rss_kib(s.pid()) / 1024))
        .collect();
    // Startup on the now existing database.
    let again = Instance::start(&dir, &db.url, &extra).await;
    println!(
        "{label}, {instances} instance(s), concurrency {CONCURRENCY}: {:.0} executes/s ({n} in {secs:.1} s, {} failed); peak RSS {}; startup {:?}",
        n as f64 / secs,
        failed.load(Ordering::Relaxed),
        rss.join(", "),
        again.startup,
    );
    drop(again);
    drop(servers);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "measurement, not a check"]
async fn executes_per_second() {
    let provider = provider().await;
    for instances in [1, 2] {
        for db in databases().await {
            let label = if db.sqlite_file.is_some() {
                "SQLite"
            } else {
                "PostgreSQL"
            };
            measure(label, &db, instances, &provider).await;
        }
    }
}
