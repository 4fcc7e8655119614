-- Workflows and their automations (`/api/v1/internal/workflows...`): stored definitions of one
-- workspace. The server does not run them (no scheduler, no trigger webhooks). Same text on
-- SQLite and PostgreSQL: TEXT and BIGINT only, booleans as 0/1, JSON as text, times as Unix
-- microseconds (listings are in creation order, also within one second).
CREATE TABLE workflows (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    -- JSON array text, as sent.
    tasks TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    updated_at_us BIGINT NOT NULL
);

CREATE INDEX workflows_listing ON workflows (organization_id, workspace_id, created_at_us, id);

CREATE TABLE automations (
    id TEXT PRIMARY KEY,
    -- Deleting a workflow deletes its automations (the server also deletes them explicitly in
    -- the same transaction).
    workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    enabled BIGINT NOT NULL,
    trigger_type TEXT NOT NULL,
    cron_expression TEXT,
    timezone TEXT NOT NULL,
    completion_webhook_url TEXT,
    created_at_us BIGINT NOT NULL,
    updated_at_us BIGINT NOT NULL
);

CREATE INDEX automations_listing ON automations (workflow_id, created_at_us, id);
