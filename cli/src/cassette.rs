//! `airbyte-agent cassette record|replay`: record one real call into a cassette file, and replay
//! cassettes offline (the runtime's `cassette` module does the work).
//!
//! Recording runs in direct mode: a loopback proxy sits between the client and the API, and the
//! cassette refers to credentials by the same environment variables the CLI reads
//! (`STRIPE_API_KEY`, ...), so a replay needs only those variables.

use std::path::Path;

use airbyte_agent_runtime::cassette::{Cassette, RecordedCall, Recorder, Replay};
use airbyte_agent_runtime::serde_json::{Map, Value};
use airbyte_agent_runtime::{ConnectorDescriptor, OperationDescriptor};

use crate::env::{self, Env, var_name};
use crate::error::CliError;

/// Make the call through a recording proxy and write the cassette to `out`.
pub async fn record(
    d: &'static ConnectorDescriptor,
    env: &Env,
    op: &'static OperationDescriptor,
    params: Map<String, Value>,
    base_flag: Option<&str>,
    out: &Path,
) -> Result<(), CliError> {
    let over = env::base_url_override(d, env, base_flag)?;
    let base = env::direct_builder(d, env, over.as_ref())?
        .build()?
        .resolved_base_url()?;
    let (origin, path) = split_origin(&base)
        .ok_or_else(|| CliError::Usage(format!("the API base URL `{base}` is not a URL")))?;
    let recorder = Recorder::start(origin).await.map_err(other)?;
    let client = env::direct_builder(d, env, None)?
        .base_url(format!("{}{path}", recorder.base_url()))
        .build()?;
    let outcome = client
        .execute(op.entity, op.action, Value::Object(params.clone()))
        .await;
    let credentials = env::direct_credentials(d, env).map_err(CliError::Auth)?;
    let test_name = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("{}_{}", op.entity, op.action));
    let mut call = RecordedCall::new(test_name, op.entity, op.action, Value::Object(params))
        .description(format!("{} {}.{}", d.title, op.entity, op.action));
    for field in credentials.field_names() {
        call = call.auth_env(field, var_name(d, field));
    }
    for (key, value) in env::server_variables(d, env) {
        call = call.config(key, value);
    }
    let cassette = recorder.cassette(&call, &credentials).map_err(other)?;
    cassette.save(out).map_err(other)?;
    let status = cassette.captured_response.status_code;
    eprintln!(
        "recorded {}.{} (HTTP {status}) into {}",
        op.entity,
        op.action,
        out.display()
    );
    // A failed call is still a faithful cassette; the exit code says how the call went.
    outcome.map(|_| ()).map_err(CliError::from)
}

/// Replay every cassette; prints one line per file and fails when any differs.
pub async fn replay(
    d: &'static ConnectorDescriptor,
    env: &Env,
    files: &[String],
) -> Result<(), CliError> {
    if files.is_empty() {
        return Err(CliError::Usage(
            "`cassette replay` needs at least one cassette file".into(),
        ));
    }
    let mut failed = 0;
    for file in files {
        let cassette = Cassette::load(file).map_err(other)?;
        let report = Replay::run(&cassette, d, |var| env.get(var))
            .await
            .map_err(other)?;
        let mut lines = String::new();
        if report.mismatches.is_empty() {
            lines.push_str(&format!("ok    {file} ({} request(s))\n", report.requests));
        } else {
            failed += 1;
            lines.push_str(&format!("FAIL  {file}\n"));
            for m in &report.mismatches {
                lines.push_str(&format!("      {m}\n"));
            }
        }
        crate::output::write_stdout(&lines)?;
    }
    if failed > 0 {
        return Err(CliError::Other(format!(
            "{failed} of {} cassette(s) differ from what the connector sends now",
            files.len()
        )));
    }
    Ok(())
}

/// `https://api.example.com/v1` → (`https://api.example.com`, `/v1`).
fn split_origin(url: &str) -> Option<(&str, &str)> {
    let scheme_end = url.find("://")? + 3;
    let host_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    (host_end > scheme_end).then(|| url.split_at(host_end))
}

fn other(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::split_origin;

    #[test]
    fn origins_and_base_paths() {
        assert_eq!(
            split_origin("https://api.stripe.com/v1"),
            Some(("https://api.stripe.com", "/v1"))
        );
        assert_eq!(
            split_origin("http://127.0.0.1:8080"),
            Some(("http://127.0.0.1:8080", ""))
        );
        assert_eq!(split_origin("https:///x"), None);
        assert_eq!(split_origin("not a url"), None);
    }
}
