//! One connector row held exclusively across instances while its OAuth2 tokens are renewed:
//! `SELECT ... FOR UPDATE` in a transaction on PostgreSQL, a `BEGIN IMMEDIATE` transaction (the
//! database's write lock) on SQLite. Whoever holds it decides whether a refresh is still needed
//! and stores its result before anyone uses it.

use sqlx::{Any, Transaction};

use super::connectors::{CONNECTOR_COLUMNS, CONNECTOR_FROM, connector_row};
use super::{Backend, ConnectorRecord, Store, now};
use crate::crypto::{self, MasterKey};
use crate::error::Error;

/// A connector row locked until [`LockedConnector::store`] commits or the value is dropped
/// (rolled back).
pub struct LockedConnector {
    tx: Transaction<'static, Any>,
    /// The record as of the lock.
    pub record: ConnectorRecord,
}

impl std::fmt::Debug for LockedConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockedConnector")
            .field("id", &self.record.id)
            .field("revision", &self.record.revision)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Lock the connector `id` (any organization: callers are internal); `None` when absent.
    pub async fn lock_connector(&self, id: &str) -> Result<Option<LockedConnector>, Error> {
        let mut tx = match self.backend {
            Backend::Sqlite => self.pool().begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool().begin().await?,
        };
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE OF c",
        };
        let sql = format!("SELECT {CONNECTOR_COLUMNS} FROM {CONNECTOR_FROM} WHERE c.id = $1{lock}");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *tx).await?;
        match row {
            Some(r) => Ok(Some(LockedConnector {
                record: connector_row(&r)?,
                tx,
            })),
            None => {
                tx.rollback().await?;
                Ok(None)
            }
        }
    }
}

impl LockedConnector {
    /// Seal `credentials` into the record, bump its revision, note when the access token
    /// expires, and commit (releasing the lock). Returns the new revision.
    pub async fn store(
        mut self,
        key: &MasterKey,
        credentials: &[u8],
        token_expires_at: Option<i64>,
    ) -> Result<i64, Error> {
        let sealed = crypto::seal(key, credentials, &self.record.id)?;
        sqlx::query(
            "UPDATE connectors SET master_key_id = $1, wrapped_data_key = $2, \
             sealed_credentials = $3, revision = revision + 1, updated_at = $4, \
             token_expires_at = $5 WHERE id = $6",
        )
        .bind(&sealed.master_key_id)
        .bind(&sealed.wrapped_data_key)
        .bind(&sealed.ciphertext)
        .bind(now())
        .bind(token_expires_at)
        .bind(&self.record.id)
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        Ok(self.record.revision + 1)
    }

    /// Release the lock without changes.
    pub async fn release(self) -> Result<(), Error> {
        self.tx.rollback().await?;
        Ok(())
    }
}
