//! Application tokens and organizations: `POST /api/v1/account/applications/token`, the
//! `X-Organization-Id` rule of multi-organization accounts, and the bearer check every other
//! endpoint starts with.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::{Value, json};

use super::common::{Resp, json_body, respond};
use crate::airbyte_double::{IssuedToken, Recorded, Shared, State};

/// Organization of the call: the header, required when the account has several.
fn organization(st: &State, client_id: &str, rec: &Recorded) -> Result<String, Resp> {
    let Some(acct) = st.accounts.iter().find(|a| a.client_id == client_id) else {
        return Err(respond(401, &json!({"message": "Unauthorized"})));
    };
    match rec.header("x-organization-id") {
        Some(org) if acct.organizations.iter().any(|o| o == org) => Ok(org.to_string()),
        Some(org) => Err(respond(
            403,
            &json!({"message": format!("application is not a member of organization {org}")}),
        )),
        None if acct.organizations.len() == 1 => Ok(acct.organizations[0].clone()),
        None => Err(respond(
            400,
            &json!({"detail": "X-Organization-Id header is required: this application belongs to several organizations"}),
        )),
    }
}

/// Authenticate a bearer call → organization id.
pub(crate) fn authenticate(st: &State, rec: &Recorded) -> Result<String, Resp> {
    let token = rec
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| {
            respond(
                401,
                &json!({"message": "Unauthorized: missing bearer token"}),
            )
        })?;
    let t = st
        .tokens
        .get(token)
        .ok_or_else(|| respond(401, &json!({"message": "Unauthorized: unknown token"})))?;
    if Instant::now() >= t.expires_at {
        return Err(respond(401, &json!({"message": "Token expired"})));
    }
    let org = organization(st, &t.client_id, rec)?;
    if org != t.organization_id {
        return Err(respond(
            403,
            &json!({"message": "token was issued for another organization"}),
        ));
    }
    Ok(org)
}

pub(crate) async fn token(shared: &Arc<Shared>, rec: &Recorded) -> Resp {
    shared.token_requests.fetch_add(1, Ordering::SeqCst);
    let latency = shared.lock().config.token_latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let body = match json_body(rec) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let id = body.get("client_id").and_then(Value::as_str).unwrap_or("");
    let secret = body
        .get("client_secret")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut st = shared.lock();
    let ok = st
        .accounts
        .iter()
        .any(|a| a.client_id == id && a.client_secret == secret);
    if !ok {
        let msg = if st.config.echo_credentials_in_errors {
            format!("invalid client credentials: client_id={id} client_secret={secret}")
        } else {
            "invalid client credentials".to_string()
        };
        return respond(401, &json!({"error": "invalid_client", "message": msg}));
    }
    let org = match organization(&st, id, rec) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let ttl = st.config.token_ttl;
    let value = format!("app-{}", st.id("tok-"));
    st.tokens.insert(
        value.clone(),
        IssuedToken {
            client_id: id.to_string(),
            organization_id: org,
            expires_at: Instant::now() + ttl,
        },
    );
    let mut out = json!({"access_token": value, "token_type": "Bearer"});
    if st.config.send_expires_in {
        out["expires_in"] = json!(ttl.as_secs_f64());
    }
    respond(200, &out)
}
