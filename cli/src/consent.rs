//! `setup --oauth`: the hosted OAuth consent flow from a terminal.
//!
//! Airbyte runs the provider's OAuth dance; the CLI only needs to learn how it ended. It listens
//! on a loopback port, asks Airbyte for a consent URL that redirects there, prints the URL, and
//! waits (up to a time limit) for the browser to arrive at `/callback`. The callback's query
//! carries a server-side secret id (the connector is then created with it) or the id of a
//! connector Airbyte already created; an `error` parameter means access was refused.

use std::time::Duration;

use airbyte_agent_runtime::ConnectorDescriptor;
use airbyte_agent_runtime::hosted::{CreateOptions, OAuthCallback, OAuthOptions, Workspace};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::error::CliError;

/// Default wait for the browser.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Larger request heads are not a browser's redirect.
const MAX_HEAD: usize = 16 * 1024;

/// Runs the consent flow; returns the id of the new connector.
pub async fn connect(
    ws: &Workspace,
    d: &'static ConnectorDescriptor,
    create: CreateOptions,
    timeout: Duration,
    say: impl Fn(&str),
) -> Result<String, CliError> {
    let io_err = |e: std::io::Error| CliError::Other(format!("OAuth callback listener: {e}"));
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(io_err)?;
    let port = listener.local_addr().map_err(io_err)?.port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let consent = ws
        .initiate_oauth(d, &redirect, OAuthOptions::new().create(create.clone()))
        .await?;
    say("      open this URL in a browser and grant access:");
    say(&format!("      {consent}"));
    say(&format!(
        "      waiting up to {} s for the browser to return to {redirect}",
        timeout.as_secs()
    ));
    let query = tokio::time::timeout(timeout, callback_query(&listener))
        .await
        .map_err(|_| {
            CliError::Other(format!(
                "the browser did not return within {} s; rerun `airbyte-agent setup {} --oauth` (or raise --oauth-timeout)",
                timeout.as_secs(),
                d.name
            ))
        })?;
    let callback = OAuthCallback::parse(&query).map_err(|e| {
        CliError::Auth(format!(
            "{e}; rerun `airbyte-agent setup {} --oauth` to try again",
            d.name
        ))
    })?;
    match callback {
        OAuthCallback::SecretId(secret) => {
            Ok(ws.create_from_oauth_secret(d, &secret, create).await?.id)
        }
        OAuthCallback::ConnectorId(id) => Ok(id),
        other => Err(CliError::Other(format!(
            "unexpected OAuth callback {other:?}"
        ))),
    }
}

/// Serves the loopback listener until a `GET /callback?...` arrives; returns its query string.
/// Other requests (a browser's `/favicon.ico`, stray probes) get 404 and the wait goes on.
async fn callback_query(listener: &TcpListener) -> String {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            continue;
        };
        let target =
            match tokio::time::timeout(Duration::from_secs(10), request_target(&mut sock)).await {
                Ok(Some(t)) => t,
                _ => continue,
            };
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        if path != "/callback" {
            reply(&mut sock, "404 Not Found", "Not found.").await;
            continue;
        }
        let refused = query.split('&').any(|p| p.starts_with("error="));
        let page = if refused {
            "Access was not granted. Return to the terminal for details."
        } else {
            "Access granted. You can close this tab and return to the terminal."
        };
        reply(&mut sock, "200 OK", page).await;
        return query.to_string();
    }
}

/// The request target of a `GET` request head, or `None` for anything else.
async fn request_target(sock: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let line = std::str::from_utf8(&head).ok()?.lines().next()?;
    let mut parts = line.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) => Some(target.to_string()),
        _ => None,
    }
}

async fn reply(sock: &mut TcpStream, status: &str, text: &str) {
    let body = format!("<!doctype html><title>airbyte-agent setup</title><p>{text}</p>\n");
    let resp = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    // The browser may already be gone; the outcome is decided by the query, not this page.
    let _ = sock.write_all(resp.as_bytes()).await;
    let _ = sock.shutdown().await;
}
