//! Organizations, applications (client id + Argon2id hash of the secret) and access tokens
//! (stored as SHA-256 digests, so every instance sharing the database can verify them).

use secrecy::SecretString;
use sqlx::Row as _;

use super::{Store, now};
use crate::crypto;
use crate::error::Error;

/// Client credentials created by [`Store::create_organization`]; the secret is shown once.
#[derive(Debug)]
pub struct Application {
    /// The organization's id.
    pub organization_id: String,
    /// The application's client id.
    pub client_id: String,
    /// The client secret (only its hash is stored).
    pub client_secret: SecretString,
}

/// What a valid bearer token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The organization the token was issued for.
    pub organization_id: String,
    /// The application it was issued to.
    pub client_id: String,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
    /// The one workspace a scoped token may touch (`None`: an application token, the whole
    /// organization).
    pub workspace_id: Option<String>,
    /// Region a scoped token was minted for.
    pub region_id: Option<String>,
}

impl Store {
    /// Create an organization, its first workspace and an application; returns the credentials.
    pub async fn create_organization(
        &self,
        name: &str,
        workspace: &str,
    ) -> Result<Application, Error> {
        let org = crypto::uuid_v4();
        let ws = crypto::uuid_v4();
        let client_id = crypto::uuid_v4();
        let secret = SecretString::from(format!("abs_{}", crypto::random_hex(32)));
        let hash = {
            let s = secret.clone();
            tokio::task::spawn_blocking(move || crypto::hash_secret(&s))
                .await
                .map_err(|_| Error::Crypto("hashing task failed"))??
        };
        let t = now();
        let mut tx = self.pool().begin().await?;
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&org)
            .bind(name)
            .bind(t)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO workspaces (id, organization_id, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&ws)
        .bind(&org)
        .bind(workspace)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO applications (client_id, organization_id, secret_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&client_id)
        .bind(&org)
        .bind(&hash)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Application {
            organization_id: org,
            client_id,
            client_secret: secret,
        })
    }

    /// The organization and secret hash of a client id.
    pub async fn application(&self, client_id: &str) -> Result<Option<(String, String)>, Error> {
        let row = sqlx::query(
            "SELECT organization_id, secret_hash FROM applications WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    /// Store a new token's digest; expired tokens are purged on the way.
    pub async fn insert_token(&self, token: &str, grant: &TokenGrant) -> Result<(), Error> {
        sqlx::query("DELETE FROM access_tokens WHERE expires_at < $1")
            .bind(now())
            .execute(self.pool())
            .await?;
        sqlx::query(
            "INSERT INTO access_tokens (token_hash, client_id, organization_id, expires_at, \
             workspace_id, region_id) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(crypto::token_digest(token))
        .bind(&grant.client_id)
        .bind(&grant.organization_id)
        .bind(grant.expires_at)
        .bind(grant.workspace_id.clone())
        .bind(grant.region_id.clone())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// What a bearer token grants, if it was issued here (expired or not).
    pub async fn token(&self, token: &str) -> Result<Option<TokenGrant>, Error> {
        let row = sqlx::query(
            "SELECT organization_id, client_id, expires_at, workspace_id, region_id \
             FROM access_tokens WHERE token_hash = $1",
        )
        .bind(crypto::token_digest(token))
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(TokenGrant {
                organization_id: r.try_get(0)?,
                client_id: r.try_get(1)?,
                expires_at: r.try_get(2)?,
                workspace_id: r.try_get(3)?,
                region_id: r.try_get(4)?,
            })
        })
        .transpose()
    }

    /// Every organization id, oldest first.
    pub async fn organizations(&self) -> Result<Vec<(String, String)>, Error> {
        let rows = sqlx::query("SELECT id, name FROM organizations ORDER BY created_at, id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }
}
