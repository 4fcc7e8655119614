//! `airbyte-agent setup` and `airbyte-agent <connector> check` driving the real binary against
//! the Airbyte API double (tests crate) and a Stripe-shaped provider: piped input, a
//! pseudo-terminal (no echo of secrets), `--yes`, one/several workspaces, template
//! present/absent, bad client credentials, verification failure and resumption, `.env`
//! handling, and a transcript of a full run compared with `tests/transcripts/setup-stripe.txt`.
#![cfg(feature = "stripe")]

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use airbyte_agent_runtime::serde_json::{Map, json};
use airbyte_agent_tests::airbyte_double::Definition;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod setup_world;
use setup_world::*;

#[tokio::test]
async fn full_run_piped_then_rerun_resumes() {
    let w = world(&["default"]).await;
    std::fs::write(w.env_file(), "# my settings\nOTHER_TOOL_TOKEN=keep-me\n").unwrap();
    let input = format!("{}\n{SECRET}\n{GOOD_KEY}\n", w.client_id);
    let out = run(&w, &["setup", "stripe"], &input).await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains(SECRET) && !out.stdout.contains(GOOD_KEY));
    assert!(!out.stderr.contains(SECRET) && !out.stderr.contains(GOOD_KEY));
    assert!(out.stdout.contains("(mode DIRECT)"), "{}", out.stdout);
    assert!(
        out.stdout.contains("returned 1 record(s)"),
        "{}",
        out.stdout
    );

    // Transcript: produced by this run, compared on later runs (secrets and ports masked).
    let transcript = w.mask(&out.stdout);
    let golden =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/transcripts/setup-stripe.txt");
    if std::env::var_os("UPDATE_TRANSCRIPTS").is_some() || !golden.exists() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &transcript).unwrap();
    } else {
        assert_eq!(
            transcript,
            std::fs::read_to_string(&golden).unwrap(),
            "transcript changed; rerun with UPDATE_TRANSCRIPTS=1 if intended"
        );
    }

    let conns = w.double.connectors();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0].credentials.get("api_key"), Some(&json!(GOOD_KEY)));
    assert!(conns[0].source_template_id.is_some());
    let env = env_text(&w.env_file());
    assert!(
        env.starts_with("# my settings\nOTHER_TOOL_TOKEN=keep-me\n"),
        "{env}"
    );
    assert!(env.contains(&format!("AIRBYTE_CLIENT_ID={}", w.client_id)));
    assert!(env.contains(&format!("AIRBYTE_CLIENT_SECRET={SECRET}")));
    assert!(env.contains("AIRBYTE_WORKSPACE_NAME=default"));
    assert!(env.contains(&format!("STRIPE_CONNECTOR_ID={}", conns[0].id)));
    #[cfg(unix)]
    assert_eq!(mode(&w.env_file()), 0o600);

    // Rerun: everything comes from .env, nothing is duplicated, no prompt needed.
    let out = run(&w, &["setup", "stripe", "--yes"], "").await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("found `Stripe connector`"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("found existing"), "{}", out.stdout);
    assert_eq!(w.double.connectors().len(), 1);
    assert_eq!(w.platform().list_source_templates().await.unwrap().len(), 1);
    assert_eq!(
        env_text(&w.env_file())
            .matches("AIRBYTE_CLIENT_ID=")
            .count(),
        1
    );

    // The check command uses what setup wrote (hosted mode through .env).
    let mut cmd = command(&w, &["stripe", "check", "--compact"]);
    let out = cmd.stdin(Stdio::null()).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("\"status\":\"ok\""), "{stdout}");
    assert!(stdout.contains("\"mode\":\"hosted\""), "{stdout}");
}

#[tokio::test]
async fn several_workspaces_and_existing_template() {
    let w = world(&["alpha", "beta", "gamma"]).await;
    let t = w
        .platform()
        .register_source_template(stripe().definition_id, "Our Stripe", Map::new())
        .await
        .unwrap();
    let input = format!("{}\n{SECRET}\n2\n{GOOD_KEY}\n", w.client_id);
    let out = run(&w, &["setup", "stripe"], &input).await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("several workspaces"), "{}", out.stdout);
    assert!(out.stdout.contains("found `Our Stripe`"), "{}", out.stdout);
    let conns = w.double.connectors();
    assert_eq!(conns[0].workspace_name, "beta");
    assert_eq!(conns[0].source_template_id.as_deref(), Some(t.id.as_str()));
    assert!(env_text(&w.env_file()).contains("AIRBYTE_WORKSPACE_NAME=beta"));

    // Non-interactive with several workspaces: asks for --workspace.
    let w2 = world(&["alpha", "beta"]).await;
    std::fs::write(w2.env_file(), format!("AIRBYTE_CLIENT_SECRET={SECRET}\n")).unwrap();
    let out = run(
        &w2,
        &[
            "setup",
            "stripe",
            "--yes",
            "--client-id",
            &w2.client_id,
            "--set",
            &format!("api_key={GOOD_KEY}"),
        ],
        "",
    )
    .await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("--workspace"), "{}", out.stderr);
    assert!(w2.double.connectors().is_empty());
}

#[tokio::test]
async fn bad_client_credentials_say_where_to_regenerate() {
    let w = world(&["default"]).await;
    let input = format!("{}\nwrong-secret\n", w.client_id);
    let out = run(&w, &["setup", "stripe"], &input).await;
    assert_eq!(out.code, Some(3), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("Settings → Applications"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("wrong-secret"));
    assert!(!w.env_file().exists(), "nothing written on failure");
    // --yes without credentials: a usage error naming the flag/variable.
    let out = run(&w, &["setup", "stripe", "--yes"], "").await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("AIRBYTE_CLIENT_ID"), "{}", out.stderr);
}

#[tokio::test]
async fn no_workspace_creates_default() {
    let w = world(&[]).await;
    let input = format!("{}\n{SECRET}\n{GOOD_KEY}\n", w.client_id);
    let out = run(&w, &["setup", "stripe"], &input).await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("creating `default`"), "{}", out.stdout);
    assert_eq!(w.double.connectors()[0].workspace_name, "default");
}

#[tokio::test]
async fn verification_failure_then_replace() {
    let w = world(&["default"]).await;
    let input = format!("{}\n{SECRET}\nsk_test_revoked\n", w.client_id);
    let out = run(&w, &["setup", "stripe"], &input).await;
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("failed: customers.list:"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("--replace"), "{}", out.stderr);
    assert!(!out.stdout.contains("sk_test_revoked") && !out.stderr.contains("sk_test_revoked"));
    // The connector and .env exist: the rerun resumes.
    assert_eq!(w.double.connectors().len(), 1);
    assert!(env_text(&w.env_file()).contains("STRIPE_CONNECTOR_ID="));
    let out = run(&w, &["setup", "stripe", "--yes"], "").await;
    assert_eq!(out.code, Some(1), "still failing without new credentials");
    let out = run(
        &w,
        &[
            "setup",
            "stripe",
            "--yes",
            "--replace",
            "--set",
            &format!("api_key={GOOD_KEY}"),
        ],
        "",
    )
    .await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let conns = w.double.connectors();
    assert_eq!(conns.len(), 1, "replaced, not duplicated");
    assert_eq!(conns[0].credentials.get("api_key"), Some(&json!(GOOD_KEY)));
    assert!(env_text(&w.env_file()).contains(&format!("STRIPE_CONNECTOR_ID={}", conns[0].id)));
}

/// A real pseudo-terminal: prompts appear, secrets are read without echo.
#[cfg(unix)]
#[tokio::test]
async fn pseudo_terminal_hides_secrets() {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    let w = world(&["default"]).await;
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 200,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_airbyte-agent"));
    cmd.args([
        "setup",
        "stripe",
        "--api-host",
        &w.double.base_url(),
        "--env-file",
    ]);
    cmd.arg(w.env_file());
    cmd.cwd(&w.dir);
    for k in [
        "AIRBYTE_CLIENT_ID",
        "AIRBYTE_CLIENT_SECRET",
        "STRIPE_API_KEY",
        "SDK_DEV_ADP_API_HOST",
    ] {
        cmd.env_remove(k);
    }
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let mut writer = pty.master.take_writer().unwrap();
    let client_id = w.client_id.clone();
    // Blocking pty I/O on its own thread; the double keeps serving on the test runtime.
    let io = std::thread::spawn(move || {
        let mut seen = String::new();
        let mut buf = [0u8; 4096];
        let mut wait_for = |needle: &str, seen: &mut String| -> bool {
            let start = std::time::Instant::now();
            while !seen.contains(needle) {
                if start.elapsed() > Duration::from_secs(30) {
                    return false;
                }
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return seen.contains(needle),
                    Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                }
            }
            true
        };
        assert!(wait_for("Airbyte client id: ", &mut seen), "{seen}");
        writeln!(writer, "{client_id}").unwrap();
        assert!(
            wait_for("client secret (input hidden): ", &mut seen),
            "{seen}"
        );
        writer.write_all(format!("{SECRET}\r").as_bytes()).unwrap();
        assert!(wait_for("(api_key) (input hidden): ", &mut seen), "{seen}");
        writer
            .write_all(format!("{GOOD_KEY}\r").as_bytes())
            .unwrap();
        wait_for("Done.", &mut seen);
        // Drain the rest.
        let _ = wait_for("\u{0}never", &mut seen);
        seen
    });
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    drop(pty.master);
    let seen = io.join().unwrap();
    assert!(status.success(), "{seen}");
    assert!(
        seen.contains(&w.client_id),
        "the client id is echoed: {seen}"
    );
    assert!(!seen.contains(SECRET), "secret echoed: {seen}");
    assert!(!seen.contains(GOOD_KEY), "key echoed: {seen}");
    assert!(seen.contains("returned 1 record(s)"), "{seen}");
    assert_eq!(w.double.connectors().len(), 1);
}

/// Pylon needs a replication `start_date`: without it the rejection says how to pass it.
#[cfg(feature = "pylon")]
#[tokio::test]
async fn replication_settings_for_pylon() {
    let provider = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/accounts"))
        .and(header("authorization", "Bearer pylon_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "acc_1"}, {"id": "acc_2"}], "pagination": {"has_next_page": false}
        })))
        .mount(&provider)
        .await;
    let pylon = airbyte_agent_registry::find("pylon").expect("pylon is compiled in");
    let definition = Definition::new(pylon, provider.uri()).require_replication(["start_date"]);
    let w = world_with(definition, provider).await;
    let args = ["setup", "pylon", "--yes", "--set", "api_token=pylon_token"];
    let out = run(&w, &args, "").await;
    assert_eq!(out.code, Some(2), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("start_date"), "{}", out.stderr);
    assert!(out.stderr.contains("--replication"), "{}", out.stderr);
    let mut args = args.to_vec();
    args.extend(["--replication", "start_date=2024-01-01T00:00:00Z"]);
    let out = run(&w, &args, "").await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("accounts.list returned 2 record(s)"),
        "{}",
        out.stdout
    );
    let c = &w.double.connectors()[0];
    assert_eq!(
        c.replication_config
            .as_ref()
            .and_then(|r| r.get("start_date")),
        Some(&json!("2024-01-01T00:00:00Z"))
    );
    assert!(env_text(&w.env_file()).contains(&format!("PYLON_CONNECTOR_ID={}", c.id)));
}
