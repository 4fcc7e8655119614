//! Faults: the database going away (503 with Retry-After, then recovery), a SIGKILLed
//! instance restarted on the same database (everything persists), and one of two instances
//! killed during concurrent creates and executes (no acknowledged write lost, no connector
//! created twice for one idempotent request). SQLite always; PostgreSQL when
//! `AIRBYTE_SERVER_TEST_PG` is set.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use airbyte_agent_server::storage::Store;
use common::process::{self, Instance, init};
use common::*;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A loopback TCP relay to the database that can be cut (live connections dropped, new ones
/// refused) and restored: the database "going away" over a real socket.
struct Relay {
    addr: String,
    cut: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let cut = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (c, cs) = (cut.clone(), conns.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is closed at once
                }
                let target = target.clone();
                let h = tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                cs.lock().unwrap_or_else(|p| p.into_inner()).push(h);
            }
        });
        Relay { addr, cut, conns }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for h in self
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            h.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// `postgres://user@HOST:PORT/db?...` with another `HOST:PORT`, and the original one.
fn via(url: &str, addr: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("scheme");
    let (user, rest) = rest.split_once('@').expect("user");
    let (host, tail) = rest.split_once('/').expect("path");
    (format!("{scheme}://{user}@{addr}/{tail}"), host.to_string())
}

async fn execute(url: &str, token: &str, id: &str) -> (u16, String) {
    send_raw(
        url,
        "POST",
        &format!("/api/v1/integrations/connectors/{id}/execute"),
        Some(token),
        &[],
        Some(json!({"entity": "customers", "action": "list"}).to_string()),
    )
    .await
}

/// 503 with `Retry-After` (never a hang, never a 500) while the database is unreachable or
/// locked; `/healthz` stays up, `/readyz` says 503; everything works again once it is back.
#[tokio::test]
async fn database_outage_answers_503_with_retry_after_and_recovers() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let (relay, url) = if db.sqlite_file.is_some() {
            (None, db.url.clone())
        } else {
            let (_, host) = via(&db.url, "x");
            let relay = Relay::start(host).await;
            let (url, _) = via(&db.url, &relay.addr);
            (Some(relay), url)
        };
        let outage_db = Database {
            url: url.clone(),
            sqlite_file: None,
        };
        let srv = TestServer::start(&outage_db, config_for(&provider)).await;
        let token = srv.token(&srv.app).await;
        let id = srv.create_stripe(&token).await;
        let (s, _) = execute(&srv.url, &token, &id).await;
        assert_eq!(s, 200);

        // The outage: PostgreSQL unreachable, or SQLite locked by another writer.
        let mut lock = None;
        match &relay {
            Some(r) => r.cut(),
            None => {
                use sqlx::Connection as _;
                let mut c = sqlx::AnyConnection::connect(&url).await.expect("connects");
                sqlx::query("BEGIN EXCLUSIVE")
                    .execute(&mut c)
                    .await
                    .expect("lock");
                lock = Some(c);
            }
        }
        let (s, head) = srv
            .send_text(
                "POST",
                "/api/v1/integrations/connectors",
                Some(&token),
                &[],
                Some(
                    json!({"definition_id": stripe().definition_id, "workspace_name": "default",
                           "credentials": {"api_key": STRIPE_KEY}})
                    .to_string(),
                ),
            )
            .await;
        assert_eq!(
            s, 503,
            "create during the outage (answered, not hung): {head}"
        );
        let raw = send_head(&srv.url, "/api/v1/workspaces", &token).await;
        assert!(raw.starts_with("HTTP/1.1 503"), "{raw}");
        assert!(
            raw.to_ascii_lowercase().contains("\r\nretry-after: 2\r\n"),
            "{raw}"
        );
        if relay.is_some() {
            let (s, _) = execute(&srv.url, &token, &id).await;
            assert_eq!(s, 503, "execute reads the record");
            let (s, _) = srv.send("GET", "/readyz", None, None).await;
            assert_eq!(s, 503);
        }
        let (s, _) = srv.send("GET", "/healthz", None, None).await;
        assert_eq!(s, 200, "liveness does not need the database");

        // Back: the same server recovers without a restart.
        match &relay {
            Some(r) => r.restore(),
            None => {
                if let Some(mut c) = lock.take() {
                    sqlx::query("COMMIT").execute(&mut c).await.expect("unlock");
                }
            }
        }
        let mut last = 0;
        for _ in 0..50 {
            let (s, _) = execute(&srv.url, &token, &id).await;
            last = s;
            if s == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(last, 200, "recovered");
        let id2 = srv.create_stripe(&token).await;
        assert_ne!(id2, id);
        let (s, _) = srv.send("GET", "/readyz", None, None).await;
        assert_eq!(s, 200);
    }
}

/// The raw head and body of a GET.
async fn send_head(url: &str, path: &str, token: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\nconnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    String::from_utf8_lossy(&raw).into_owned()
}

/// A working directory and database URL for the binary: the SQLite file's directory, or a
/// fresh temp directory next to a PostgreSQL schema.
fn workdir(db: &Database) -> (tempdir::Dir, String) {
    (tempdir::Dir::new(), db.url.clone())
}

mod tempdir {
    /// A directory removed when dropped.
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let p = std::env::temp_dir().join(format!(
                "airbyte-agent-server-faults-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).expect("dir");
            Dir(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn app_token(url: &str, app: &process::Init) -> String {
    let (s, b) = send_json(
        url,
        "POST",
        "/api/v1/account/applications/token",
        None,
        Some(json!({"client_id": app.client_id, "client_secret": app.client_secret}).to_string()),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    b["access_token"].as_str().expect("token").to_string()
}

/// SIGKILL and restart: tokens, workspaces, templates, connectors (credentials decryptable
/// with the key file) and scoped tokens all survive.
#[tokio::test]
async fn restart_after_sigkill_keeps_everything() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let (dir, url) = workdir(&db);
        let app = init(&dir.0, &url);
        let extra = vec![format!("--provider-base-url=stripe={}", provider.uri())];
        let mut first = Instance::start(&dir.0, &url, &extra).await;
        let token = app_token(&first.url, &app).await;
        let (s, _) = send_json(
            &first.url,
            "POST",
            "/api/v1/workspaces",
            Some(&token),
            Some(json!({"name": "second"}).to_string()),
        )
        .await;
        assert_eq!(s, 201);
        let (s, t) = send_json(
            &first.url,
            "POST",
            "/api/v1/integrations/templates/sources",
            Some(&token),
            Some(
                json!({"actor_definition_id": stripe().definition_id, "name": "tpl", "mode": "DIRECT"})
                    .to_string(),
            ),
        )
        .await;
        assert_eq!(s, 201, "{t}");
        let (s, c) = send_json(
            &first.url,
            "POST",
            "/api/v1/integrations/connectors",
            Some(&token),
            Some(
                json!({"definition_id": stripe().definition_id, "workspace_name": "second",
                       "source_template_id": t["id"], "credentials": {"api_key": STRIPE_KEY}})
                .to_string(),
            ),
        )
        .await;
        assert_eq!(s, 201, "{c}");
        let id = c["id"].as_str().expect("id").to_string();
        let (_, sc) = send_json(
            &first.url,
            "POST",
            "/api/v1/embedded/scoped-token",
            Some(&token),
            Some(json!({"workspace_name": "second"}).to_string()),
        )
        .await;
        let scoped = sc["token"].as_str().expect("scoped").to_string();
        first.kill();

        let second = Instance::start(&dir.0, &url, &extra).await;
        let (s, w) = send_json(&second.url, "GET", "/api/v1/workspaces", Some(&token), None).await;
        assert_eq!(s, 200, "the old token still works: {w}");
        assert_eq!(w["data"].as_array().map(Vec::len), Some(2));
        let (_, l) = send_json(
            &second.url,
            "GET",
            "/api/v1/integrations/connectors?workspace_name=second",
            Some(&scoped),
            None,
        )
        .await;
        assert_eq!(l["data"][0]["id"], json!(id), "{l}");
        assert_eq!(
            l["data"][0]["summarized_source_template"]["name"],
            json!("tpl")
        );
        let (s, r) = execute(&second.url, &scoped, &id).await;
        assert_eq!(s, 200, "credentials still open: {r}");
        let (_, ts) = send_json(
            &second.url,
            "GET",
            "/api/v1/integrations/templates/sources",
            Some(&token),
            None,
        )
        .await;
        assert_eq!(ts["data"].as_array().map(Vec::len), Some(1));
    }
}

/// Sends `body` with `key` to `first`; a dead connection or 5xx is retried on `fallback`
/// (the client's job once an instance dies). Every acknowledged answer is recorded.
async fn create_with_retry(
    first: &str,
    fallback: &str,
    token: &str,
    key: &str,
    body: String,
    acks: &Mutex<Vec<(String, String)>>,
    failed_first: &AtomicUsize,
) -> String {
    let mut target = first;
    for _ in 0..20 {
        let (s, text) = send_raw(
            target,
            "POST",
            "/api/v1/integrations/connectors",
            Some(token),
            &[("idempotency-key", key)],
            Some(body.clone()),
        )
        .await;
        if s == 200 || s == 201 {
            let v: Value = serde_json::from_str(&text).expect("json");
            let id = v["id"].as_str().expect("id").to_string();
            acks.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((key.to_string(), id.clone()));
            return id;
        }
        assert!(s == 0 || s >= 500, "unexpected {s}: {text}");
        if target == first {
            failed_first.fetch_add(1, Ordering::SeqCst);
        }
        target = fallback;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{key} never acknowledged");
}

/// Two instances, creates (each with an Idempotency-Key, some sent to both at once) and
/// executes spread over both; one instance is SIGKILLed mid-run and its failed requests are
/// retried on the other. Every acknowledged create is in the database, every key made exactly
/// one connector, and no execute failed on the surviving instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_one_of_two_instances_loses_no_acknowledged_write() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let (dir, url) = workdir(&db);
        let app = init(&dir.0, &url);
        let extra = vec![format!("--provider-base-url=stripe={}", provider.uri())];
        let mut a = Instance::start(&dir.0, &url, &extra).await;
        let b = Instance::start(&dir.0, &url, &extra).await;
        let token = app_token(&a.url, &app).await;
        let (s, c) = send_json(
            &b.url,
            "POST",
            "/api/v1/integrations/connectors",
            Some(&token),
            Some(
                json!({"definition_id": stripe().definition_id, "workspace_name": "default",
                       "name": "exec target", "credentials": {"api_key": STRIPE_KEY}})
                .to_string(),
            ),
        )
        .await;
        assert_eq!(s, 201);
        let exec_id = c["id"].as_str().expect("id").to_string();

        const N: usize = 60;
        let acks: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let failed_on_a = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..N {
            let (ua, ub, token) = (a.url.clone(), b.url.clone(), token.clone());
            let (acks, failed) = (acks.clone(), failed_on_a.clone());
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(10 * i as u64)).await;
                let key = format!("create-{i}");
                let body =
                    json!({"definition_id": stripe().definition_id, "workspace_name": "default",
                                  "name": format!("c{i}"), "credentials": {"api_key": STRIPE_KEY}})
                    .to_string();
                if i % 5 == 0 {
                    // The same request to both instances at once.
                    let (x, y) = tokio::join!(
                        create_with_retry(&ua, &ub, &token, &key, body.clone(), &acks, &failed),
                        create_with_retry(&ub, &ub, &token, &key, body, &acks, &failed),
                    );
                    assert_eq!(x, y, "{key}: one connector for both");
                } else {
                    // Alternately to A (retried on B once A is gone) and to B.
                    let first = if i % 2 == 0 { &ua } else { &ub };
                    create_with_retry(first, &ub, &token, &key, body, &acks, &failed).await;
                }
            }));
        }
        let exec_failures_on_b = Arc::new(AtomicUsize::new(0));
        for i in 0..40 {
            let (ua, ub, token, id) =
                (a.url.clone(), b.url.clone(), token.clone(), exec_id.clone());
            let fails = exec_failures_on_b.clone();
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(15 * i as u64)).await;
                let (s, _) = execute(if i % 2 == 0 { &ua } else { &ub }, &token, &id).await;
                if s != 200 {
                    let (s, _) = execute(&ub, &token, &id).await;
                    if s != 200 {
                        fails.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        a.kill();
        for t in tasks {
            t.await.expect("task");
        }

        assert!(
            failed_on_a.load(Ordering::SeqCst) > 0,
            "the kill hit requests in flight (else this test proves nothing)"
        );
        assert_eq!(exec_failures_on_b.load(Ordering::SeqCst), 0);
        let acks = acks.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut by_key: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (k, id) in &acks {
            by_key.entry(k.clone()).or_default().insert(id.clone());
        }
        assert_eq!(by_key.len(), N, "every request acknowledged");
        for (k, ids) in &by_key {
            assert_eq!(
                ids.len(),
                1,
                "{k} acknowledged with different connectors: {ids:?}"
            );
        }
        let store = Store::open(&url).await.expect("store");
        let stored: BTreeSet<String> = store
            .all_connectors(Some(&app.organization_id))
            .await
            .expect("list")
            .into_iter()
            .map(|c| c.id)
            .filter(|id| *id != exec_id)
            .collect();
        let acked: BTreeSet<String> = by_key.values().flatten().cloned().collect();
        assert_eq!(
            stored, acked,
            "stored = acknowledged, nothing lost, nothing extra"
        );
        store.close().await;
    }
}
