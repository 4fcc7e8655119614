//! `POST /api/v1/integrations/connectors/{id}/execute/prepare`, refused with a clear 422.
//!
//! On Airbyte's API it answers a bundle for local execution whose credentials are
//! `secret_coordinate::...` references into the organization's own secret manager (AWS or GCP),
//! which the SDK reads when `SECRETS_CONFIGURED_FROM_ENVIRONMENT` is set. This server keeps
//! credentials sealed in its own database and writes them to no secret manager, so it has no
//! coordinate a caller could resolve, and it never hands credentials out. The request is
//! checked as `execute` checks it (same body type, same connector visibility), so a bad body
//! or a foreign id gets the same answer as there.

use std::sync::Arc;

use axum::extract::{Path, State};

use super::AppState;
use super::connectors::visible;
use super::execute::ExecuteRequest;
use super::extract::{Authed, JsonBody};
use crate::error::ApiError;

pub(crate) async fn prepare(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    Path(id): Path<String>,
    JsonBody(_req): JsonBody<ExecuteRequest>,
) -> Result<(), ApiError> {
    let rec = visible(&st, &auth, &id).await?;
    Err(ApiError::unprocessable(format!(
        "execute/prepare is not supported by this server: it keeps the credentials of connector \
         {} sealed in its own database, not in a secret manager a local executor could read; \
         call execute instead (unset SECRETS_CONFIGURED_FROM_ENVIRONMENT)",
        rec.id
    )))
}
