//! Execute overhead of the server over direct mode, on loopback (ignored by default: a
//! measurement, not a check). `cargo test -p airbyte-agent-server --release --test overhead --
//! --ignored --nocapture`; set `AIRBYTE_SERVER_TEST_PG` to measure on PostgreSQL too.

mod common;

use std::time::{Duration, Instant};

use airbyte_agent_runtime::{Client, Credentials};
use common::*;
use serde_json::json;

const N: usize = 300;

fn p50(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test]
#[ignore = "measurement"]
async fn execute_overhead_over_direct_mode() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let token = srv.token(&srv.app).await;
        let id = srv.create_stripe(&token).await;
        let direct = Client::builder(
            stripe(),
            Credentials::new("bearerAuth").set("api_key", STRIPE_KEY),
        )
        .base_url(provider.uri())
        .build()
        .expect("direct");
        let hosted = Client::hosted(stripe(), srv.auth(&srv.app))
            .connector_id(id)
            .build()
            .expect("hosted");
        let params = json!({"limit": 2});
        for _ in 0..20 {
            direct
                .execute("customers", "list", params.clone())
                .await
                .expect("warm direct");
            hosted
                .execute("customers", "list", params.clone())
                .await
                .expect("warm hosted");
        }
        let (mut d, mut h) = (Vec::with_capacity(N), Vec::with_capacity(N));
        for _ in 0..N {
            let t = Instant::now();
            direct
                .execute("customers", "list", params.clone())
                .await
                .expect("direct");
            d.push(t.elapsed());
            let t = Instant::now();
            hosted
                .execute("customers", "list", params.clone())
                .await
                .expect("hosted");
            h.push(t.elapsed());
        }
        let (d50, h50) = (p50(d), p50(h));
        eprintln!(
            "{}: direct p50 {d50:?}, through the server p50 {h50:?}, overhead {:?} (n={N})",
            if db.sqlite_file.is_some() {
                "sqlite"
            } else {
                "postgres"
            },
            h50.saturating_sub(d50)
        );
    }
}
