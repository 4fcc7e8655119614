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

-- OAuth: each organization's own OAuth app per connector definition (client secret sealed
-- like connector credentials, AAD "oauth-app:ORG:DEFINITION"), and consent flows under way
-- (keyed by a digest of the state parameter, single use, short-lived).
CREATE TABLE oauth_apps (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    definition_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    master_key_id TEXT NOT NULL,
    wrapped_data_key TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (organization_id, definition_id)
);

CREATE TABLE oauth_states (
    state_hash TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    definition_id TEXT NOT NULL,
    redirect_url TEXT NOT NULL,
    callback_url TEXT NOT NULL,
    -- JSON text: name, replication_config, source_template_id, environment (not secret).
    request TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
