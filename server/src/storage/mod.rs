//! Storage over `sqlx::Any`: one schema and one set of queries for an embedded SQLite file (the
//! default) and PostgreSQL. Migrations live in `server/migrations/` and are compiled in.

mod accounts;
mod connectors;
mod locks;
mod oauth;
mod templates;
mod workflows;

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

pub use accounts::{Application, TokenGrant};
pub use connectors::{ConnectorRecord, Inserted, NewConnector, Workspace, WorkspacePage};
pub use locks::LockedConnector;
pub use oauth::PendingOAuth;
pub use templates::{Registered, SourceTemplate};
pub use workflows::{After, AutomationChanges, AutomationRecord, Page, Scope, WorkflowRecord};

use crate::error::Error;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://airbyte-agent-server.db";

/// The compiled-in migrations, in order.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/0001_initial.sql"),
    ),
    (
        2,
        "scopes_templates_refresh",
        include_str!("../../migrations/0002_scopes_templates_refresh.sql"),
    ),
    (
        3,
        "workflows",
        include_str!("../../migrations/0003_workflows.sql"),
    ),
];

#[derive(Debug)]
struct Embedded;

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> futures_core_box::BoxFuture<'s, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|(v, d, sql)| {
                    Migration::new(
                        *v,
                        Cow::Borrowed(*d),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// `BoxFuture` without naming the futures crate.
mod futures_core_box {
    pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The server's database: organizations, applications, tokens, workspaces and connectors.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// SQLite URLs create their file unless they say otherwise.
fn normalize_url(url: &str) -> Result<(String, Backend), Error> {
    if url.starts_with("sqlite:") {
        if url.contains("mode=") || url.contains(":memory:") {
            return Ok((url.to_string(), Backend::Sqlite));
        }
        let sep = if url.contains('?') { '&' } else { '?' };
        return Ok((format!("{url}{sep}mode=rwc"), Backend::Sqlite));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((url.to_string(), Backend::Postgres));
    }
    Err(Error::Config(
        "the database URL must start with sqlite:// or postgres://".into(),
    ))
}

/// A new SQLite file is created readable by its owner only (it holds hashes and sealed
/// credentials); an existing file keeps its mode.
fn create_private_file(url: &str) -> Result<(), Error> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.contains(":memory:") || std::path::Path::new(path).exists() {
        return Ok(());
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::Config(format!(
            "cannot create the database file {path}: {e}"
        ))),
    }
}

/// Current time in Unix microseconds (creation order of rows made within one second).
pub(crate) fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Current time in Unix seconds.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Store {
    /// Connect to `url` (`sqlite://FILE` or `postgres://...`) and apply pending migrations.
    pub async fn open(url: &str) -> Result<Self, Error> {
        install_default_drivers();
        let (url, backend) = normalize_url(url)?;
        if backend == Backend::Sqlite {
            create_private_file(&url)?;
        }
        let max = match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 10,
        };
        // A short acquire timeout: while the database is away, requests fail fast with 503
        // (and Retry-After) instead of queueing for half a minute.
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(&url)
            .await?;
        Migrator::new(Embedded).await?.run(&pool).await?;
        Ok(Store { pool, backend })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Close the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// Whether an error is a unique-constraint violation (both backends).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation()
                || d.code()
                    .is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
        }
        _ => false,
    }
}

/// Whether an error is a foreign-key violation (both backends): a row it refers to is gone.
pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_foreign_key_violation() || d.code().is_some_and(|c| c == "23503" || c == "787")
        }
        _ => false,
    }
}

/// The text columns of each table, for [`Store::debug_dump`].
const TEXT_COLUMNS: &[(&str, &str)] = &[
    ("organizations", "id, name"),
    ("applications", "client_id, organization_id, secret_hash"),
    ("access_tokens", "token_hash, client_id, organization_id"),
    ("workspaces", "id, organization_id, name"),
    (
        "connectors",
        "id, organization_id, workspace_id, definition_id, name, auth_scheme, \
         COALESCE(replication_config, ''), master_key_id, wrapped_data_key, sealed_credentials",
    ),
];

impl Store {
    /// Every text value stored in `table`, one row a line (audits and tests: shows what an
    /// attacker with a copy of the database would read).
    pub async fn debug_dump(&self, table: &str) -> Result<String, Error> {
        use sqlx::Row as _;
        let (_, cols) = TEXT_COLUMNS
            .iter()
            .find(|(t, _)| *t == table)
            .ok_or_else(|| Error::Config(format!("unknown table {table}")))?;
        let rows = sqlx::query(&format!("SELECT {cols} FROM {table}"))
            .fetch_all(&self.pool)
            .await?;
        let mut out = String::new();
        for r in &rows {
            for i in 0..r.len() {
                let v: String = r.try_get(i)?;
                out.push_str(&v);
                out.push('\t');
            }
            out.push('\n');
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            normalize_url("sqlite://a.db").unwrap().0,
            "sqlite://a.db?mode=rwc"
        );
        assert_eq!(
            normalize_url("sqlite://a.db?mode=ro").unwrap().0,
            "sqlite://a.db?mode=ro"
        );
        assert_eq!(
            normalize_url("postgres://u@h/db").unwrap().1,
            Backend::Postgres
        );
        assert!(normalize_url("mysql://x").is_err());
    }
}
