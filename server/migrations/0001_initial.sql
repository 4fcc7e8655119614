-- One schema for SQLite and PostgreSQL: TEXT and BIGINT only (binary values are base64 text),
-- times as Unix seconds.
CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE applications (
    client_id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    -- Argon2id PHC string of the client secret; the secret itself is never stored.
    secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE access_tokens (
    -- SHA-256 (hex) of the bearer token: any instance sharing the database can verify it.
    token_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES applications (client_id),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    expires_at BIGINT NOT NULL
);

CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (organization_id, name)
);

CREATE TABLE connectors (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    definition_id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- The auth option the credentials matched (not secret).
    auth_scheme TEXT NOT NULL,
    -- Replication settings as JSON text (not secret).
    replication_config TEXT,
    -- Envelope encryption: the credentials sealed with a per-record data key, the data key
    -- wrapped with the master key identified by master_key_id (base64 of nonce || ciphertext).
    master_key_id TEXT NOT NULL,
    wrapped_data_key TEXT NOT NULL,
    sealed_credentials TEXT NOT NULL,
    -- Bumped on every change of the credentials (refreshed OAuth tokens): clients cached by
    -- any instance are rebuilt from the record when it moves.
    revision BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX connectors_lookup ON connectors (organization_id, workspace_id, definition_id);
