//! Workflows and their automations, per organization and workspace: every query names both,
//! so another organization's or workspace's ids are simply absent. Listings are keyset pages in
//! creation order (`created_at_us`, then id).

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::{Store, is_foreign_key_violation, now_micros};
use crate::crypto;
use crate::error::Error;

/// The organization and workspace a workflow call is scoped to.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// Organization id.
    pub organization_id: &'a str,
    /// Workspace id.
    pub workspace_id: &'a str,
}

/// Where a page starts: after the row created at `created_at_us` with id `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    /// Creation time of the last row of the previous page, Unix microseconds.
    pub created_at_us: i64,
    /// Its id.
    pub id: String,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows, in creation order.
    pub items: Vec<T>,
    /// Whether more follow the last of `items`.
    pub has_more: bool,
}

/// A stored workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRecord {
    /// Id.
    pub id: String,
    /// Workspace id.
    pub workspace_id: String,
    /// Name.
    pub name: String,
    /// Task definitions (JSON array text).
    pub tasks: String,
    /// Creation time, Unix microseconds.
    pub created_at_us: i64,
    /// Last change, Unix microseconds.
    pub updated_at_us: i64,
}

/// A stored automation (a definition: the server does not fire it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationRecord {
    /// Id.
    pub id: String,
    /// The workflow it triggers.
    pub workflow_id: String,
    /// Workspace id.
    pub workspace_id: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// `schedule` or `webhook`.
    pub trigger_type: String,
    /// Five-field cron expression of a schedule.
    pub cron_expression: Option<String>,
    /// IANA time zone of the schedule.
    pub timezone: String,
    /// URL to call when a run completes.
    pub completion_webhook_url: Option<String>,
    /// Creation time, Unix microseconds.
    pub created_at_us: i64,
    /// Last change, Unix microseconds.
    pub updated_at_us: i64,
}

/// Changes to an automation; `None` leaves a field as it is (`Some(None)` clears it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutomationChanges {
    /// New enabled flag.
    pub enabled: Option<bool>,
    /// New trigger type.
    pub trigger_type: Option<String>,
    /// New cron expression, or `Some(None)` to remove it.
    pub cron_expression: Option<Option<String>>,
    /// New time zone.
    pub timezone: Option<String>,
    /// New completion webhook URL, or `Some(None)` to remove it.
    pub completion_webhook_url: Option<Option<String>>,
}

const WORKFLOW_COLUMNS: &str = "id, workspace_id, name, tasks, created_at_us, updated_at_us";
const AUTOMATION_COLUMNS: &str = "id, workflow_id, workspace_id, enabled, trigger_type, \
     cron_expression, timezone, completion_webhook_url, created_at_us, updated_at_us";
/// The keyset condition of a page (`$3`, `$4`: the last row of the previous page; `$5`: the
/// page size plus one).
const KEYSET: &str = "AND (created_at_us > $3 OR (created_at_us = $3 AND id > $4)) \
     ORDER BY created_at_us, id LIMIT $5";

fn workflow_row(r: &AnyRow) -> Result<WorkflowRecord, Error> {
    Ok(WorkflowRecord {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        name: r.try_get(2)?,
        tasks: r.try_get(3)?,
        created_at_us: r.try_get(4)?,
        updated_at_us: r.try_get(5)?,
    })
}

fn automation_row(r: &AnyRow) -> Result<AutomationRecord, Error> {
    let enabled: i64 = r.try_get(3)?;
    Ok(AutomationRecord {
        id: r.try_get(0)?,
        workflow_id: r.try_get(1)?,
        workspace_id: r.try_get(2)?,
        enabled: enabled != 0,
        trigger_type: r.try_get(4)?,
        cron_expression: r.try_get(5)?,
        timezone: r.try_get(6)?,
        completion_webhook_url: r.try_get(7)?,
        created_at_us: r.try_get(8)?,
        updated_at_us: r.try_get(9)?,
    })
}

/// The first `limit` rows as a page (the query fetched one more to tell whether more follow).
fn page<T>(
    rows: Vec<AnyRow>,
    limit: usize,
    decode: fn(&AnyRow) -> Result<T, Error>,
) -> Result<Page<T>, Error> {
    let has_more = rows.len() > limit;
    let items = rows
        .iter()
        .take(limit)
        .map(decode)
        .collect::<Result<_, _>>()?;
    Ok(Page { items, has_more })
}

/// `(created_at_us, id)` of the keyset start (before everything when `None`).
fn keyset(after: Option<&After>) -> (i64, String) {
    after.map_or((i64::MIN, String::new()), |a| {
        (a.created_at_us, a.id.clone())
    })
}

/// `limit + 1` as a bind value.
fn fetch_size(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1
}

impl Store {
    /// Run `update` and read row `id` of `table` back, in one transaction; `None` when the
    /// update matched no row.
    async fn update_and_read<'q, T>(
        &self,
        update: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        table: &str,
        columns: &str,
        id: &str,
        decode: fn(&AnyRow) -> Result<T, Error>,
    ) -> Result<Option<T>, Error> {
        let mut tx = self.pool().begin().await?;
        if update.execute(&mut *tx).await?.rows_affected() == 0 {
            // Dropping the transaction rolls it back.
            return Ok(None);
        }
        let r = sqlx::query(&format!("SELECT {columns} FROM {table} WHERE id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let row = decode(&r)?;
        tx.commit().await?;
        Ok(Some(row))
    }

    /// One page of the workflows of `scope`.
    pub async fn list_workflows(
        &self,
        scope: Scope<'_>,
        after: Option<&After>,
        limit: usize,
    ) -> Result<Page<WorkflowRecord>, Error> {
        let (t, id) = keyset(after);
        let rows = sqlx::query(&format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE organization_id = $1 \
             AND workspace_id = $2 {KEYSET}"
        ))
        .bind(scope.organization_id)
        .bind(scope.workspace_id)
        .bind(t)
        .bind(id)
        .bind(fetch_size(limit))
        .fetch_all(self.pool())
        .await?;
        page(rows, limit, workflow_row)
    }

    /// Store a new workflow; `tasks` is JSON array text.
    pub async fn insert_workflow(
        &self,
        scope: Scope<'_>,
        name: &str,
        tasks: &str,
    ) -> Result<WorkflowRecord, Error> {
        let t = now_micros();
        let w = WorkflowRecord {
            id: crypto::uuid_v4(),
            workspace_id: scope.workspace_id.to_string(),
            name: name.to_string(),
            tasks: tasks.to_string(),
            created_at_us: t,
            updated_at_us: t,
        };
        sqlx::query(
            "INSERT INTO workflows (id, organization_id, workspace_id, name, tasks, \
             created_at_us, updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&w.id)
        .bind(scope.organization_id)
        .bind(&w.workspace_id)
        .bind(&w.name)
        .bind(&w.tasks)
        .bind(t)
        .bind(t)
        .execute(self.pool())
        .await?;
        Ok(w)
    }

    /// The workflow `id` of `scope`.
    pub async fn workflow(
        &self,
        scope: Scope<'_>,
        id: &str,
    ) -> Result<Option<WorkflowRecord>, Error> {
        let r = sqlx::query(&format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE organization_id = $1 \
             AND workspace_id = $2 AND id = $3"
        ))
        .bind(scope.organization_id)
        .bind(scope.workspace_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(workflow_row).transpose()
    }

    /// Change the name and/or tasks of a workflow; `None` when it does not exist.
    pub async fn update_workflow(
        &self,
        scope: Scope<'_>,
        id: &str,
        name: Option<&str>,
        tasks: Option<&str>,
    ) -> Result<Option<WorkflowRecord>, Error> {
        let update = sqlx::query(
            "UPDATE workflows SET name = COALESCE($1, name), tasks = COALESCE($2, tasks), \
             updated_at_us = $3 WHERE organization_id = $4 AND workspace_id = $5 AND id = $6",
        )
        .bind(name.map(str::to_string))
        .bind(tasks.map(str::to_string))
        .bind(now_micros())
        .bind(scope.organization_id)
        .bind(scope.workspace_id)
        .bind(id);
        self.update_and_read(update, "workflows", WORKFLOW_COLUMNS, id, workflow_row)
            .await
    }

    /// Delete a workflow and its automations in one transaction; `false` when it does not
    /// exist (then nothing changes).
    pub async fn delete_workflow(&self, scope: Scope<'_>, id: &str) -> Result<bool, Error> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "DELETE FROM automations WHERE organization_id = $1 AND workspace_id = $2 \
             AND workflow_id = $3",
        )
        .bind(scope.organization_id)
        .bind(scope.workspace_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query(
            "DELETE FROM workflows WHERE organization_id = $1 AND workspace_id = $2 AND id = $3",
        )
        .bind(scope.organization_id)
        .bind(scope.workspace_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            // Dropping the transaction rolls it back.
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// One page of the automations of workflow `workflow_id`; `None` when the workflow does
    /// not exist in `scope`.
    pub async fn list_automations(
        &self,
        scope: Scope<'_>,
        workflow_id: &str,
        after: Option<&After>,
        limit: usize,
    ) -> Result<Option<Page<AutomationRecord>>, Error> {
        if self.workflow(scope, workflow_id).await?.is_none() {
            return Ok(None);
        }
        let (t, id) = keyset(after);
        let rows = sqlx::query(&format!(
            "SELECT {AUTOMATION_COLUMNS} FROM automations WHERE workflow_id = $1 \
             AND organization_id = $2 {KEYSET}"
        ))
        .bind(workflow_id)
        .bind(scope.organization_id)
        .bind(t)
        .bind(id)
        .bind(fetch_size(limit))
        .fetch_all(self.pool())
        .await?;
        page(rows, limit, automation_row).map(Some)
    }

    /// Store a new automation of workflow `new.workflow_id` (its id and times are set here) in
    /// one statement that also checks the workflow is in `scope`; `None` when it is not, also
    /// when a concurrent delete removes the workflow first.
    pub async fn insert_automation(
        &self,
        scope: Scope<'_>,
        mut new: AutomationRecord,
    ) -> Result<Option<AutomationRecord>, Error> {
        let t = now_micros();
        new.id = crypto::uuid_v4();
        new.workspace_id = scope.workspace_id.to_string();
        new.created_at_us = t;
        new.updated_at_us = t;
        let done = sqlx::query(&format!(
            "INSERT INTO automations (organization_id, {AUTOMATION_COLUMNS}) \
             SELECT $1, $2, w.id, w.workspace_id, $3, $4, $5, $6, $7, $8, $8 FROM workflows w \
             WHERE w.organization_id = $1 AND w.workspace_id = $9 AND w.id = $10"
        ))
        .bind(scope.organization_id)
        .bind(&new.id)
        .bind(i64::from(new.enabled))
        .bind(&new.trigger_type)
        .bind(new.cron_expression.clone())
        .bind(&new.timezone)
        .bind(new.completion_webhook_url.clone())
        .bind(t)
        .bind(scope.workspace_id)
        .bind(&new.workflow_id)
        .execute(self.pool())
        .await;
        match done {
            Ok(done) => Ok((done.rows_affected() == 1).then_some(new)),
            // PostgreSQL: the workflow was deleted after this statement saw it.
            Err(e) if is_foreign_key_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The automation `id` of workflow `workflow_id` in `scope`.
    pub async fn automation(
        &self,
        scope: Scope<'_>,
        workflow_id: &str,
        id: &str,
    ) -> Result<Option<AutomationRecord>, Error> {
        let r = sqlx::query(&format!(
            "SELECT {AUTOMATION_COLUMNS} FROM automations WHERE organization_id = $1 \
             AND workspace_id = $2 AND workflow_id = $3 AND id = $4"
        ))
        .bind(scope.organization_id)
        .bind(scope.workspace_id)
        .bind(workflow_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(automation_row).transpose()
    }

    /// Apply `changes` to an automation in one statement (only the fields given are written,
    /// so concurrent changes of other fields are kept); `None` when it does not exist.
    pub async fn update_automation(
        &self,
        scope: Scope<'_>,
        workflow_id: &str,
        id: &str,
        changes: &AutomationChanges,
    ) -> Result<Option<AutomationRecord>, Error> {
        // Flag/value pairs: a column is written only when its flag is 1.
        let update = sqlx::query(
            "UPDATE automations SET \
             enabled = CASE WHEN $1 = 1 THEN $2 ELSE enabled END, \
             trigger_type = CASE WHEN $3 = 1 THEN $4 ELSE trigger_type END, \
             cron_expression = CASE WHEN $5 = 1 THEN $6 ELSE cron_expression END, \
             timezone = CASE WHEN $7 = 1 THEN $8 ELSE timezone END, \
             completion_webhook_url = CASE WHEN $9 = 1 THEN $10 ELSE completion_webhook_url END, \
             updated_at_us = $11 \
             WHERE organization_id = $12 AND workspace_id = $13 AND workflow_id = $14 AND id = $15",
        )
        .bind(i64::from(changes.enabled.is_some()))
        .bind(i64::from(changes.enabled.unwrap_or(false)))
        .bind(i64::from(changes.trigger_type.is_some()))
        .bind(changes.trigger_type.clone().unwrap_or_default())
        .bind(i64::from(changes.cron_expression.is_some()))
        .bind(changes.cron_expression.clone().flatten())
        .bind(i64::from(changes.timezone.is_some()))
        .bind(changes.timezone.clone().unwrap_or_default())
        .bind(i64::from(changes.completion_webhook_url.is_some()))
        .bind(changes.completion_webhook_url.clone().flatten())
        .bind(now_micros())
        .bind(scope.organization_id)
        .bind(scope.workspace_id)
        .bind(workflow_id)
        .bind(id);
        self.update_and_read(
            update,
            "automations",
            AUTOMATION_COLUMNS,
            id,
            automation_row,
        )
        .await
    }

    /// Delete an automation; `false` when it does not exist.
    pub async fn delete_automation(
        &self,
        scope: Scope<'_>,
        workflow_id: &str,
        id: &str,
    ) -> Result<bool, Error> {
        let done = sqlx::query(
            "DELETE FROM automations WHERE organization_id = $1 AND workspace_id = $2 \
             AND workflow_id = $3 AND id = $4",
        )
        .bind(scope.organization_id)
        .bind(scope.workspace_id)
        .bind(workflow_id)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
