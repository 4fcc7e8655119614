//! Workspaces (keyset pagination by name) and connectors (credentials only as sealed envelopes).

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::SourceTemplate;
use super::{Store, is_unique_violation, now, now_micros};
use crate::crypto::{self, MasterKey, Sealed};
use crate::error::Error;

/// A workspace of an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// Id.
    pub id: String,
    /// Organization id.
    pub organization_id: String,
    /// Name, unique in its organization.
    pub name: String,
}

/// One page of workspaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspacePage {
    /// The workspaces, by name.
    pub items: Vec<Workspace>,
    /// Whether more follow (after the last name of `items`).
    pub has_more: bool,
}

/// A connector as stored; `sealed` holds the credentials, encrypted.
#[derive(Debug, Clone)]
pub struct ConnectorRecord {
    /// Id.
    pub id: String,
    /// Organization id.
    pub organization_id: String,
    /// Workspace id.
    pub workspace_id: String,
    /// Workspace name.
    pub workspace_name: String,
    /// Connector definition id.
    pub definition_id: String,
    /// Display name.
    pub name: String,
    /// The auth option the credentials matched.
    pub auth_scheme: String,
    /// Replication settings (JSON object text).
    pub replication_config: Option<String>,
    /// The sealed credentials.
    pub sealed: Sealed,
    /// Credentials revision (bumped whenever the credentials change).
    pub revision: i64,
    /// The source template it was made from.
    pub source_template_id: Option<String>,
    /// That template's name.
    pub source_template_name: Option<String>,
    /// Expiry of the stored OAuth2 access token, Unix seconds, when known.
    pub token_expires_at: Option<i64>,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// Last change, Unix seconds.
    pub updated_at: i64,
}

/// What creating a connector needs.
#[derive(Debug)]
pub struct NewConnector<'a> {
    /// Workspace it belongs to.
    pub workspace: &'a Workspace,
    /// Definition id.
    pub definition_id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Matched auth option.
    pub auth_scheme: &'a str,
    /// Replication settings (JSON object text).
    pub replication_config: Option<String>,
    /// The source template it is made from.
    pub source_template: Option<&'a SourceTemplate>,
    /// The request's `Idempotency-Key` and a digest of its body.
    pub idempotency: Option<(&'a str, String)>,
}

/// What [`Store::insert_connector`] did.
#[derive(Debug)]
pub enum Inserted {
    /// A new connector.
    New(ConnectorRecord),
    /// The connector an earlier request with the same idempotency key and body created.
    Existing(ConnectorRecord),
    /// The idempotency key was used before for a different body.
    KeyReused,
}

pub(crate) const CONNECTOR_COLUMNS: &str = "c.id, c.organization_id, c.workspace_id, w.name, c.definition_id, \
     c.name, c.auth_scheme, c.replication_config, c.master_key_id, c.wrapped_data_key, \
     c.sealed_credentials, c.created_at, c.updated_at, c.revision, c.source_template_id, t.name, \
     c.token_expires_at";

/// The tables [`CONNECTOR_COLUMNS`] come from.
pub(crate) const CONNECTOR_FROM: &str = "connectors c JOIN workspaces w ON w.id = c.workspace_id \
     LEFT JOIN source_templates t ON t.id = c.source_template_id";

pub(crate) fn connector_row(r: &AnyRow) -> Result<ConnectorRecord, Error> {
    Ok(ConnectorRecord {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        workspace_id: r.try_get(2)?,
        workspace_name: r.try_get(3)?,
        definition_id: r.try_get(4)?,
        name: r.try_get(5)?,
        auth_scheme: r.try_get(6)?,
        replication_config: r.try_get(7)?,
        sealed: Sealed {
            master_key_id: r.try_get(8)?,
            wrapped_data_key: r.try_get(9)?,
            ciphertext: r.try_get(10)?,
        },
        created_at: r.try_get(11)?,
        updated_at: r.try_get(12)?,
        revision: r.try_get(13)?,
        source_template_id: r.try_get(14)?,
        source_template_name: r.try_get(15)?,
        token_expires_at: r.try_get(16)?,
    })
}

impl Store {
    /// Workspaces of `org` whose name contains `name_contains`, after the name `after`.
    pub async fn list_workspaces(
        &self,
        org: &str,
        name_contains: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<WorkspacePage, Error> {
        let rows = sqlx::query(
            "SELECT id, organization_id, name FROM workspaces WHERE organization_id = $1 \
             AND name > $2 ORDER BY name LIMIT $3",
        )
        .bind(org)
        .bind(after.unwrap_or(""))
        // A substring filter runs in Rust (one query for both backends, no LIKE escaping), so
        // only an unfiltered listing can stop at one row past the page.
        .bind(match name_contains {
            None => i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1),
            Some(_) => i64::MAX,
        })
        .fetch_all(self.pool())
        .await?;
        let mut items = Vec::new();
        let mut has_more = false;
        for r in &rows {
            let name: String = r.try_get(2)?;
            if name_contains.is_some_and(|part| !name.contains(part)) {
                continue;
            }
            if items.len() == limit {
                has_more = true;
                break;
            }
            items.push(Workspace {
                id: r.try_get(0)?,
                organization_id: r.try_get(1)?,
                name,
            });
        }
        Ok(WorkspacePage { items, has_more })
    }

    /// Create a workspace; `None` when the organization already has one of that name.
    pub async fn create_workspace(
        &self,
        org: &str,
        name: &str,
    ) -> Result<Option<Workspace>, Error> {
        let id = crypto::uuid_v4();
        let res = sqlx::query(
            "INSERT INTO workspaces (id, organization_id, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(org)
        .bind(name)
        .bind(now())
        .execute(self.pool())
        .await;
        match res {
            Ok(_) => Ok(Some(Workspace {
                id,
                organization_id: org.to_string(),
                name: name.to_string(),
            })),
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The workspace `id` of `org`.
    pub async fn workspace_by_id(&self, org: &str, id: &str) -> Result<Option<Workspace>, Error> {
        let row = sqlx::query(
            "SELECT id, organization_id, name FROM workspaces WHERE organization_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(Workspace {
                id: r.try_get(0)?,
                organization_id: r.try_get(1)?,
                name: r.try_get(2)?,
            })
        })
        .transpose()
    }

    /// The workspace of `org` named `name`.
    pub async fn workspace_by_name(
        &self,
        org: &str,
        name: &str,
    ) -> Result<Option<Workspace>, Error> {
        let row = sqlx::query(
            "SELECT id, organization_id, name FROM workspaces WHERE organization_id = $1 AND name = $2",
        )
        .bind(org)
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(Workspace {
                id: r.try_get(0)?,
                organization_id: r.try_get(1)?,
                name: r.try_get(2)?,
            })
        })
        .transpose()
    }

    /// Seal `credentials` and insert the connector in one statement (nothing half-stored). With
    /// an idempotency key, a repeated request gets the connector the first one created.
    pub async fn insert_connector(
        &self,
        key: &MasterKey,
        new: NewConnector<'_>,
        credentials: &[u8],
    ) -> Result<Inserted, Error> {
        let id = crypto::uuid_v4();
        let sealed = crypto::seal(key, credentials, &id)?;
        let t = now();
        let org = &new.workspace.organization_id;
        let (idem_key, idem_digest) = match &new.idempotency {
            Some((k, d)) => (Some((*k).to_string()), Some(d.clone())),
            None => (None, None),
        };
        let res = sqlx::query(
            "INSERT INTO connectors (id, organization_id, workspace_id, definition_id, name, \
             auth_scheme, replication_config, master_key_id, wrapped_data_key, sealed_credentials, \
             created_at, updated_at, source_template_id, idempotency_key, idempotency_digest, \
             created_at_us) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(&id)
        .bind(org)
        .bind(&new.workspace.id)
        .bind(new.definition_id)
        .bind(new.name)
        .bind(new.auth_scheme)
        .bind(new.replication_config.clone())
        .bind(&sealed.master_key_id)
        .bind(&sealed.wrapped_data_key)
        .bind(&sealed.ciphertext)
        .bind(t)
        .bind(t)
        .bind(new.source_template.map(|t| t.id.clone()))
        .bind(idem_key.clone())
        .bind(idem_digest.clone())
        .bind(now_micros())
        .execute(self.pool())
        .await;
        match res {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) && idem_key.is_some() => {
                let sql = format!(
                    "SELECT {CONNECTOR_COLUMNS}, c.idempotency_digest FROM {CONNECTOR_FROM} \
                     WHERE c.organization_id = $1 AND c.idempotency_key = $2"
                );
                let row = sqlx::query(&sql)
                    .bind(org)
                    .bind(idem_key.unwrap_or_default())
                    .fetch_optional(self.pool())
                    .await?;
                let Some(row) = row else {
                    // Deleted since: the key stays spent.
                    return Ok(Inserted::KeyReused);
                };
                let digest: Option<String> = row.try_get(17)?;
                if digest != idem_digest {
                    return Ok(Inserted::KeyReused);
                }
                return Ok(Inserted::Existing(connector_row(&row)?));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(Inserted::New(ConnectorRecord {
            id,
            organization_id: org.clone(),
            workspace_id: new.workspace.id.clone(),
            workspace_name: new.workspace.name.clone(),
            definition_id: new.definition_id.to_string(),
            name: new.name.to_string(),
            auth_scheme: new.auth_scheme.to_string(),
            replication_config: new.replication_config,
            sealed,
            revision: 0,
            created_at: t,
            updated_at: t,
            source_template_id: new.source_template.map(|t| t.id.clone()),
            source_template_name: new.source_template.map(|t| t.name.clone()),
            token_expires_at: None,
        }))
    }

    /// Connectors of a workspace, optionally of one definition, oldest first.
    pub async fn list_connectors(
        &self,
        workspace: &Workspace,
        definition_id: Option<&str>,
    ) -> Result<Vec<ConnectorRecord>, Error> {
        let sql = format!(
            "SELECT {CONNECTOR_COLUMNS} FROM {CONNECTOR_FROM} \
             WHERE c.organization_id = $1 AND c.workspace_id = $2 AND ($3 = '' OR c.definition_id = $3) \
             ORDER BY COALESCE(c.created_at_us, c.created_at * 1000000), c.id"
        );
        let rows = sqlx::query(&sql)
            .bind(&workspace.organization_id)
            .bind(&workspace.id)
            .bind(definition_id.unwrap_or(""))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(connector_row).collect()
    }

    /// Every connector, optionally of one organization (administration; credentials stay sealed).
    pub async fn all_connectors(&self, org: Option<&str>) -> Result<Vec<ConnectorRecord>, Error> {
        let sql = format!(
            "SELECT {CONNECTOR_COLUMNS} FROM {CONNECTOR_FROM} \
             WHERE ($1 = '' OR c.organization_id = $1) ORDER BY COALESCE(c.created_at_us, c.created_at * 1000000), c.id"
        );
        let rows = sqlx::query(&sql)
            .bind(org.unwrap_or(""))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(connector_row).collect()
    }

    /// The connector `id` if it belongs to `org`.
    pub async fn connector(&self, org: &str, id: &str) -> Result<Option<ConnectorRecord>, Error> {
        let sql = format!(
            "SELECT {CONNECTOR_COLUMNS} FROM {CONNECTOR_FROM} \
             WHERE c.id = $1 AND c.organization_id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(org)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(connector_row).transpose()
    }

    /// Replace the credentials of connector `id` of `org` (sealed under a fresh data key) and
    /// bump its revision; whether it still existed.
    pub async fn update_credentials(
        &self,
        key: &MasterKey,
        org: &str,
        id: &str,
        credentials: &[u8],
    ) -> Result<bool, Error> {
        let sealed = crypto::seal(key, credentials, id)?;
        let res = sqlx::query(
            "UPDATE connectors SET master_key_id = $1, wrapped_data_key = $2, \
             sealed_credentials = $3, revision = revision + 1, updated_at = $4 \
             WHERE id = $5 AND organization_id = $6",
        )
        .bind(&sealed.master_key_id)
        .bind(&sealed.wrapped_data_key)
        .bind(&sealed.ciphertext)
        .bind(now())
        .bind(id)
        .bind(org)
        .execute(self.pool())
        .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Delete the connector `id` of `org`; whether it existed.
    pub async fn delete_connector(&self, org: &str, id: &str) -> Result<bool, Error> {
        let res = sqlx::query("DELETE FROM connectors WHERE id = $1 AND organization_id = $2")
            .bind(id)
            .bind(org)
            .execute(self.pool())
            .await?;
        Ok(res.rows_affected() > 0)
    }

    /// Re-wrap every data key from `old` to `new` in one transaction; returns the count.
    /// Records already wrapped by `new` are left alone, so an interrupted rotation can rerun.
    pub async fn rotate_master_key(
        &self,
        old: &MasterKey,
        new: &MasterKey,
    ) -> Result<usize, Error> {
        let mut tx = self.pool().begin().await?;
        let rows = sqlx::query(
            "SELECT id, master_key_id, wrapped_data_key, sealed_credentials FROM connectors",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut n = 0;
        for r in &rows {
            let id: String = r.try_get(0)?;
            let sealed = Sealed {
                master_key_id: r.try_get(1)?,
                wrapped_data_key: r.try_get(2)?,
                ciphertext: r.try_get(3)?,
            };
            if sealed.master_key_id == new.id() {
                continue;
            }
            let re = crypto::rewrap(old, new, &sealed, &id)?;
            sqlx::query(
                "UPDATE connectors SET master_key_id = $1, wrapped_data_key = $2 WHERE id = $3",
            )
            .bind(&re.master_key_id)
            .bind(&re.wrapped_data_key)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            n += 1;
        }
        let apps = sqlx::query(
            "SELECT organization_id, definition_id, master_key_id, wrapped_data_key, sealed_secret \
             FROM oauth_apps",
        )
        .fetch_all(&mut *tx)
        .await?;
        for r in &apps {
            let (org, def): (String, String) = (r.try_get(0)?, r.try_get(1)?);
            let sealed = Sealed {
                master_key_id: r.try_get(2)?,
                wrapped_data_key: r.try_get(3)?,
                ciphertext: r.try_get(4)?,
            };
            if sealed.master_key_id == new.id() {
                continue;
            }
            let re = crypto::rewrap(old, new, &sealed, &super::oauth::app_aad(&org, &def))?;
            sqlx::query(
                "UPDATE oauth_apps SET master_key_id = $1, wrapped_data_key = $2 \
                 WHERE organization_id = $3 AND definition_id = $4",
            )
            .bind(&re.master_key_id)
            .bind(&re.wrapped_data_key)
            .bind(&org)
            .bind(&def)
            .execute(&mut *tx)
            .await?;
            n += 1;
        }
        tx.commit().await?;
        Ok(n)
    }
}
