//! Request handling of the double: every request is recorded, an injected fault answers first,
//! then `route` passes it to the handlers of its endpoint family.

// Handlers short-circuit with ready responses; their size does not matter in a test double.
#![allow(clippy::result_large_err)]

pub(crate) mod common;
mod connectors;
mod execute;
mod oauth;
mod scoped_tokens;
mod templates;
pub(crate) mod tokens;
mod workspaces;

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::Request;
use hyper::body::Incoming;
use serde_json::json;

use super::{Recorded, Shared};
use common::{Resp, respond};

pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Resp, Infallible> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => return Ok(respond(400, &json!({"message": "unreadable body"}))),
    };
    let rec = Recorded {
        method,
        path,
        query,
        headers,
        body,
    };
    {
        let mut st = shared.lock();
        st.requests.push(rec.clone());
        let fault = st
            .faults
            .iter_mut()
            .find(|f| f.remaining > 0 && rec.path.contains(&f.path_contains));
        if let Some(f) = fault {
            f.remaining -= 1;
            let mut r = respond(
                f.status,
                &json!({"message": format!("injected failure {}", f.status)}),
            );
            if let Some(ra) = &f.retry_after
                && let Ok(v) = hyper::header::HeaderValue::from_str(ra)
            {
                r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
            }
            return Ok(r);
        }
    }
    Ok(route(&shared, &rec).await)
}

async fn route(shared: &Arc<Shared>, rec: &Recorded) -> Resp {
    let p = rec.path.as_str();
    let m = rec.method.as_str();
    if m == "POST" && p == "/api/v1/account/applications/token" {
        return tokens::token(shared, rec).await;
    }
    if m == "GET" && p == "/oauth/consent" {
        return oauth::consent(shared, rec);
    }
    if p.starts_with("/api/v1/embedded/") && p != "/api/v1/embedded/scoped-token" {
        return super::embedded::route(shared, rec);
    }
    let org = match tokens::authenticate(&shared.lock(), rec) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let segs: Vec<&str> = p.trim_start_matches('/').split('/').collect();
    if let ["api", "v1", "internal", "workflows", rest @ ..] = segs.as_slice() {
        return super::workflows::route(shared, rec, &org, rest).await;
    }
    match (m, segs.as_slice()) {
        ("GET", ["api", "v1", "integrations", "connectors"]) => {
            connectors::list_connectors(shared, rec, &org)
        }
        ("POST", ["api", "v1", "integrations", "connectors"]) => {
            connectors::create_connector(shared, rec, &org)
        }
        (
            "POST",
            [
                "api",
                "v1",
                "integrations",
                "connectors",
                "oauth",
                "initiate",
            ],
        ) => oauth::initiate_oauth(shared, rec, &org),
        ("DELETE", ["api", "v1", "integrations", "connectors", id]) => {
            connectors::delete_connector(shared, &org, id)
        }
        ("POST", ["api", "v1", "integrations", "connectors", id, "execute"]) => {
            execute::execute(shared, rec, &org, id).await
        }
        ("GET", ["api", "v1", "workspaces"]) => workspaces::list_workspaces(shared, rec, &org),
        ("POST", ["api", "v1", "workspaces"]) => workspaces::create_workspace(shared, rec, &org),
        ("GET", ["api", "v1", "integrations", "templates", "sources"]) => {
            templates::list_templates(shared, &org)
        }
        ("POST", ["api", "v1", "integrations", "templates", "sources"]) => {
            templates::create_template(shared, rec, &org)
        }
        ("PUT", ["api", "v1", "oauth", "credentials"]) => oauth::set_oauth_app(shared, rec, &org),
        ("DELETE", ["api", "v1", "oauth", "credentials", "connector_type", t]) => {
            oauth::reset_oauth_app(shared, &org, t)
        }
        ("POST", ["api", "v1", "embedded", "scoped-token"]) => {
            scoped_tokens::scoped_token(shared, rec, &org)
        }
        _ => respond(404, &json!({"detail": "Not Found"})),
    }
}
