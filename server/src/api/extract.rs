//! Request extractors: the bearer check ([`Authed`]) and JSON bodies that answer malformed,
//! oversized or unexpected input in the protocol's error shape.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::AppState;
use crate::crypto;
use crate::error::ApiError;
use crate::storage::{TokenGrant, now};

/// The caller's organization, from a valid, unexpired bearer token. An `X-Organization-Id`
/// header, when present, must name the same organization. A scoped token also names the one
/// workspace it may touch: everything outside it is answered as if it did not exist.
#[derive(Debug, Clone)]
pub struct Authed {
    /// Organization id.
    pub organization_id: String,
    /// The application the token was issued to.
    pub client_id: String,
    /// The workspace of a scoped token (`None`: an application token).
    pub workspace_id: Option<String>,
}

impl Authed {
    /// Whether the caller may see workspace `id`.
    pub fn sees(&self, workspace_id: &str) -> bool {
        self.workspace_id
            .as_deref()
            .is_none_or(|w| w == workspace_id)
    }

    /// 403 for scoped tokens: organization-wide operations need an application token.
    pub fn require_application(&self) -> Result<(), ApiError> {
        match self.workspace_id {
            None => Ok(()),
            Some(_) => Err(ApiError::forbidden(
                "this operation needs an application token, not a workspace-scoped token",
            )),
        }
    }
}

/// The `X-Organization-Id` header, if any (400 when it is not text).
pub(crate) fn organization_header(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    headers
        .get("x-organization-id")
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::bad_request("X-Organization-Id is not valid text"))
        })
        .transpose()
}

impl FromRequestParts<Arc<AppState>> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("Unauthorized: missing bearer token"))?;
        let grant = match state.tokens.get(token) {
            Some(g) => g,
            None => {
                let g = state
                    .store
                    .token(token)
                    .await?
                    .ok_or_else(|| ApiError::unauthorized("Unauthorized: unknown token"))?;
                state.tokens.put(token, &g);
                g
            }
        };
        if now() >= grant.expires_at {
            return Err(ApiError::unauthorized("Token expired"));
        }
        if let Some(org) = organization_header(&parts.headers)?
            && org != grant.organization_id
        {
            return Err(ApiError::forbidden(
                "token was issued for another organization",
            ));
        }
        Ok(Authed {
            organization_id: grant.organization_id,
            client_id: grant.client_id,
            workspace_id: grant.workspace_id,
        })
    }
}

/// Most tokens kept verified in memory.
const MAX_CACHED_TOKENS: usize = 4096;

/// Tokens already verified against the database, by digest. Tokens cannot be revoked before
/// they expire (as on Airbyte), so a verified grant stays valid until its own expiry, which is
/// still checked on every request; other instances verify through the database.
#[derive(Default)]
pub(crate) struct TokenCache {
    grants: Mutex<HashMap<String, TokenGrant>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").finish_non_exhaustive()
    }
}

impl TokenCache {
    fn get(&self, token: &str) -> Option<TokenGrant> {
        let map = self.grants.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&crypto::token_digest(token)).cloned()
    }

    fn put(&self, token: &str, grant: &TokenGrant) {
        let mut map = self.grants.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_CACHED_TOKENS {
            let t = now();
            map.retain(|_, g| g.expires_at > t);
            if map.len() >= MAX_CACHED_TOKENS {
                map.clear();
            }
        }
        map.insert(crypto::token_digest(token), grant.clone());
    }
}

/// A JSON object body decoded into `T`: 413 when too large, 400 when not a JSON object, 422
/// when its members do not fit `T` (unknown members included, where `T` forbids them).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            ApiError::new(
                r.status(),
                match r.status() {
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                        "request body is too large".to_string()
                    }
                    _ => r.body_text(),
                },
            )
        })?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("request body is not valid JSON: {e}")))?;
        if !value.is_object() {
            return Err(ApiError::bad_request("request body must be a JSON object"));
        }
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|e| ApiError::unprocessable(format!("invalid request body: {e}")))
    }
}

/// The workspace a query names: `workspace_name`, or the names older clients send for the same
/// thing (`customer_name` in the per-connector Python packages, `external_user_id` in older docs).
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct WorkspaceQuery {
    workspace_name: Option<String>,
    customer_name: Option<String>,
    external_user_id: Option<String>,
}

impl WorkspaceQuery {
    /// The first name given.
    pub(crate) fn name(&self) -> Option<&str> {
        self.workspace_name
            .as_deref()
            .or(self.customer_name.as_deref())
            .or(self.external_user_id.as_deref())
    }
}
