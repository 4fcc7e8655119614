//! Source templates: named per organization, registered idempotently (the same name with the
//! same definition, mode and defaults is the same template).

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::{Store, is_unique_violation, now};
use crate::crypto;
use crate::error::Error;

/// A source template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTemplate {
    /// Id.
    pub id: String,
    /// Organization id.
    pub organization_id: String,
    /// Connector definition id.
    pub actor_definition_id: String,
    /// Name, unique in its organization.
    pub name: String,
    /// Mode (`DIRECT`).
    pub mode: String,
    /// Defaults as JSON object text.
    pub partial_default_config: String,
    /// Creation time, Unix seconds.
    pub created_at: i64,
}

/// What registering a template did.
#[derive(Debug)]
pub enum Registered {
    /// A new template.
    New(SourceTemplate),
    /// The same template existed already.
    Existing(SourceTemplate),
    /// A different template has that name.
    Conflict(SourceTemplate),
}

const COLUMNS: &str =
    "id, organization_id, actor_definition_id, name, mode, partial_default_config, created_at";

fn row(r: &AnyRow) -> Result<SourceTemplate, Error> {
    Ok(SourceTemplate {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        actor_definition_id: r.try_get(2)?,
        name: r.try_get(3)?,
        mode: r.try_get(4)?,
        partial_default_config: r.try_get(5)?,
        created_at: r.try_get(6)?,
    })
}

/// Whether two JSON texts hold the same value.
fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

impl Store {
    /// Templates of `org`, oldest first.
    pub async fn list_templates(&self, org: &str) -> Result<Vec<SourceTemplate>, Error> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM source_templates WHERE organization_id = $1 ORDER BY created_at, id"
        ))
        .bind(org)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row).collect()
    }

    /// The template `id` of `org`.
    pub async fn template(&self, org: &str, id: &str) -> Result<Option<SourceTemplate>, Error> {
        let r = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM source_templates WHERE organization_id = $1 AND id = $2"
        ))
        .bind(org)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(row).transpose()
    }

    async fn template_named(&self, org: &str, name: &str) -> Result<Option<SourceTemplate>, Error> {
        let r = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM source_templates WHERE organization_id = $1 AND name = $2"
        ))
        .bind(org)
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(row).transpose()
    }

    /// Register a template; concurrent registrations of one name make one row.
    pub async fn register_template(
        &self,
        org: &str,
        actor_definition_id: &str,
        name: &str,
        mode: &str,
        partial_default_config: &str,
    ) -> Result<Registered, Error> {
        let t = SourceTemplate {
            id: crypto::uuid_v4(),
            organization_id: org.to_string(),
            actor_definition_id: actor_definition_id.to_string(),
            name: name.to_string(),
            mode: mode.to_string(),
            partial_default_config: partial_default_config.to_string(),
            created_at: now(),
        };
        let res = sqlx::query(&format!(
            "INSERT INTO source_templates ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&t.id)
        .bind(&t.organization_id)
        .bind(&t.actor_definition_id)
        .bind(&t.name)
        .bind(&t.mode)
        .bind(&t.partial_default_config)
        .bind(t.created_at)
        .execute(self.pool())
        .await;
        match res {
            Ok(_) => Ok(Registered::New(t)),
            Err(e) if is_unique_violation(&e) => {
                let Some(old) = self.template_named(org, name).await? else {
                    return Err(e.into());
                };
                let same = old
                    .actor_definition_id
                    .eq_ignore_ascii_case(actor_definition_id)
                    && old.mode == mode
                    && same_json(&old.partial_default_config, partial_default_config);
                Ok(if same {
                    Registered::Existing(old)
                } else {
                    Registered::Conflict(old)
                })
            }
            Err(e) => Err(e.into()),
        }
    }
}
