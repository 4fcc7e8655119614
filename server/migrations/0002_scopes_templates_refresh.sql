-- Scoped tokens, source templates, idempotent creation and the expiry of refreshed OAuth2
-- access tokens. Plain ADD COLUMN / CREATE TABLE: the same text runs on SQLite and PostgreSQL.

-- Workspace-scoped tokens (POST /api/v1/embedded/scoped-token) live beside application tokens:
-- a non-NULL workspace_id limits the token to that workspace; region_id is what it was minted for.
ALTER TABLE access_tokens ADD COLUMN workspace_id TEXT REFERENCES workspaces (id);
ALTER TABLE access_tokens ADD COLUMN region_id TEXT;

CREATE TABLE source_templates (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    actor_definition_id TEXT NOT NULL,
    name TEXT NOT NULL,
    mode TEXT NOT NULL,
    -- JSON object text (not secret: defaults shared by every connector made from the template).
    partial_default_config TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (organization_id, name)
);

ALTER TABLE connectors ADD COLUMN source_template_id TEXT REFERENCES source_templates (id);
-- Idempotency-Key of the create request and a digest of its body: a repeated request returns
-- the connector it made, never a second one.
ALTER TABLE connectors ADD COLUMN idempotency_key TEXT;
ALTER TABLE connectors ADD COLUMN idempotency_digest TEXT;
CREATE UNIQUE INDEX connectors_idempotency ON connectors (organization_id, idempotency_key);
-- When the stored OAuth2 access token expires (Unix seconds; NULL: unknown).
ALTER TABLE connectors ADD COLUMN token_expires_at BIGINT;
-- Creation time in microseconds: listings are oldest first also within one second.
ALTER TABLE connectors ADD COLUMN created_at_us BIGINT;
