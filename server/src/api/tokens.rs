//! `POST /api/v1/account/applications/token`: client id + secret → a short-lived bearer token.

use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::extract::{JsonBody, organization_header};
use crate::crypto;
use crate::error::{ApiError, Error};
use crate::storage::{TokenGrant, now};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenRequest {
    client_id: String,
    client_secret: SecretString,
}

/// A hash no secret matches, verified for unknown client ids so both paths take as long.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| {
        crypto::hash_secret(&SecretString::from(crypto::random_hex(16))).unwrap_or_default()
    })
}

pub(crate) async fn token(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<TokenRequest>,
) -> Result<Json<Value>, ApiError> {
    let app = st.store.application(&req.client_id).await?;
    let (org, hash) = match &app {
        Some((org, hash)) => (Some(org.clone()), hash.clone()),
        None => (None, dummy_hash().to_string()),
    };
    let secret = req.client_secret.clone();
    let valid =
        tokio::task::spawn_blocking(move || crypto::verify_secret(secret.expose_secret(), &hash))
            .await
            .map_err(|_| Error::Crypto("verification task failed"))?;
    let Some(org) = org.filter(|_| valid) else {
        return Err(ApiError::unauthorized("invalid client credentials"));
    };
    if let Some(wanted) = organization_header(&headers)?
        && wanted != org
    {
        return Err(ApiError::forbidden(format!(
            "application is not a member of organization {wanted}"
        )));
    }
    let ttl = i64::try_from(st.config.token_ttl.as_secs()).unwrap_or(i64::MAX);
    let token = format!("abt_{}", crypto::random_hex(32));
    st.store
        .insert_token(
            &token,
            &TokenGrant {
                organization_id: org,
                client_id: req.client_id,
                expires_at: now().saturating_add(ttl),
                workspace_id: None,
                region_id: None,
            },
        )
        .await?;
    Ok(Json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl,
    })))
}
