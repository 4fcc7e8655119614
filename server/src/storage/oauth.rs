//! OAuth: an organization's own OAuth app per connector definition (the client secret sealed
//! under the master key) and the consent flows under way (single use: the callback that
//! deletes the row is the only one to get it, whichever instance serves it).

use secrecy::{ExposeSecret, SecretString};
use sqlx::Row as _;

use super::{Store, now};
use crate::crypto::{self, MasterKey, Sealed};
use crate::error::Error;

/// The AAD binding a sealed OAuth app secret to its row.
pub(crate) fn app_aad(org: &str, definition_id: &str) -> String {
    format!("oauth-app:{org}:{}", definition_id.to_ascii_lowercase())
}

/// A consent flow under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingOAuth {
    /// Organization id.
    pub organization_id: String,
    /// Workspace the connector will belong to.
    pub workspace_id: String,
    /// Connector definition id.
    pub definition_id: String,
    /// Where the user goes after the callback.
    pub redirect_url: String,
    /// The `redirect_uri` sent to the provider (the token request repeats it).
    pub callback_url: String,
    /// The initiate request's other settings (JSON object text, no secrets).
    pub request: String,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
}

impl Store {
    /// Set (or replace) the OAuth app of `org` for `definition_id`.
    pub async fn set_oauth_app(
        &self,
        key: &MasterKey,
        org: &str,
        definition_id: &str,
        client_id: &str,
        client_secret: &SecretString,
    ) -> Result<(), Error> {
        let def = definition_id.to_ascii_lowercase();
        let sealed = crypto::seal(
            key,
            client_secret.expose_secret().as_bytes(),
            &app_aad(org, &def),
        )?;
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM oauth_apps WHERE organization_id = $1 AND definition_id = $2")
            .bind(org)
            .bind(&def)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO oauth_apps (organization_id, definition_id, client_id, master_key_id, \
             wrapped_data_key, sealed_secret, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(org)
        .bind(&def)
        .bind(client_id)
        .bind(&sealed.master_key_id)
        .bind(&sealed.wrapped_data_key)
        .bind(&sealed.ciphertext)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Remove the OAuth app of `org` for `definition_id`; whether there was one.
    pub async fn delete_oauth_app(&self, org: &str, definition_id: &str) -> Result<bool, Error> {
        let res =
            sqlx::query("DELETE FROM oauth_apps WHERE organization_id = $1 AND definition_id = $2")
                .bind(org)
                .bind(definition_id.to_ascii_lowercase())
                .execute(self.pool())
                .await?;
        Ok(res.rows_affected() > 0)
    }

    /// The OAuth app (client id, secret) of `org` for `definition_id`.
    pub async fn oauth_app(
        &self,
        key: &MasterKey,
        org: &str,
        definition_id: &str,
    ) -> Result<Option<(String, SecretString)>, Error> {
        let def = definition_id.to_ascii_lowercase();
        let row = sqlx::query(
            "SELECT client_id, master_key_id, wrapped_data_key, sealed_secret FROM oauth_apps \
             WHERE organization_id = $1 AND definition_id = $2",
        )
        .bind(org)
        .bind(&def)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let sealed = Sealed {
            master_key_id: r.try_get(1)?,
            wrapped_data_key: r.try_get(2)?,
            ciphertext: r.try_get(3)?,
        };
        let plain = crypto::open(key, &sealed, &app_aad(org, &def))?;
        let secret = String::from_utf8(plain.expose_secret().clone())
            .map_err(|_| Error::Corrupt(format!("OAuth app secret of {def}")))?;
        Ok(Some((r.try_get(0)?, SecretString::from(secret))))
    }

    /// Remember a consent flow under the digest of its state parameter.
    pub async fn insert_oauth_state(&self, state: &str, p: &PendingOAuth) -> Result<(), Error> {
        sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1")
            .bind(now())
            .execute(self.pool())
            .await?;
        sqlx::query(
            "INSERT INTO oauth_states (state_hash, organization_id, workspace_id, definition_id, \
             redirect_url, callback_url, request, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(crypto::token_digest(state))
        .bind(&p.organization_id)
        .bind(&p.workspace_id)
        .bind(&p.definition_id)
        .bind(&p.redirect_url)
        .bind(&p.callback_url)
        .bind(&p.request)
        .bind(p.expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Take (read and delete) the unexpired consent flow of `state`; `None` when unknown,
    /// expired or already taken (by this or another instance).
    pub async fn take_oauth_state(&self, state: &str) -> Result<Option<PendingOAuth>, Error> {
        let digest = crypto::token_digest(state);
        let row = sqlx::query(
            "SELECT organization_id, workspace_id, definition_id, redirect_url, callback_url, \
             request, expires_at FROM oauth_states WHERE state_hash = $1",
        )
        .bind(&digest)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let taken = sqlx::query("DELETE FROM oauth_states WHERE state_hash = $1")
            .bind(&digest)
            .execute(self.pool())
            .await?;
        let p = PendingOAuth {
            organization_id: r.try_get(0)?,
            workspace_id: r.try_get(1)?,
            definition_id: r.try_get(2)?,
            redirect_url: r.try_get(3)?,
            callback_url: r.try_get(4)?,
            request: r.try_get(5)?,
            expires_at: r.try_get(6)?,
        };
        Ok((taken.rows_affected() == 1 && p.expires_at >= now()).then_some(p))
    }
}
