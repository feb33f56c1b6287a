-- Pending OAuth2 authorizations (startOAuth → GET /oauth/callback). The state is stored
-- only as its SHA-256 hash; the PKCE verifier is sealed by the vault (bound to the hash
-- and key id). A row is single use (used_at) and expires after 10 minutes; rows are
-- pruned a day after they expire.
CREATE TABLE oauth_states (
    state_hash      TEXT PRIMARY KEY,
    integration_id  TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    project_id      TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    sealed_verifier BLOB NOT NULL,
    redirect_uri    TEXT NOT NULL,
    callback_url    TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    created_by_id   TEXT,
    created_by_name TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    used_at         TIMESTAMP
);
CREATE INDEX oauth_states_integration_idx ON oauth_states (integration_id);
CREATE INDEX oauth_states_expires_idx ON oauth_states (expires_at);
