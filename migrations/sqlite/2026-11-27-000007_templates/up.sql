-- Integration templates. A family is one template across its versions (slug, owner,
-- sharing); each row of `templates` is one version: DRAFT (editable), PUBLISHED
-- (immutable) or DEPRECATED. Built-in templates (project_id NULL, owner 'builtin') are
-- written at start-up from the files embedded in the binary.
CREATE TABLE template_families (
    id              TEXT PRIMARY KEY,
    -- 'builtin' or the owning project's id: slugs are unique per owner.
    owner           TEXT NOT NULL,
    project_id      TEXT REFERENCES projects (id) ON DELETE CASCADE,
    slug            TEXT NOT NULL,
    built_in        BOOLEAN NOT NULL,
    shared_with_all BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMP NOT NULL,
    CONSTRAINT template_families_owner_slug_key UNIQUE (owner, slug)
);

CREATE TABLE template_shares (
    family_id  TEXT NOT NULL REFERENCES template_families (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    PRIMARY KEY (family_id, project_id)
);
CREATE INDEX template_shares_by_project ON template_shares (project_id);

CREATE TABLE templates (
    id            TEXT PRIMARY KEY,
    family_id     TEXT NOT NULL REFERENCES template_families (id) ON DELETE CASCADE,
    project_id    TEXT,
    version       INTEGER NOT NULL,
    state         TEXT NOT NULL,
    -- The version listings show: the newest published one, or the draft of a family
    -- never published.
    is_current    BOOLEAN NOT NULL,
    built_in      BOOLEAN NOT NULL,
    support_level TEXT NOT NULL,
    slug          TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT,
    category      TEXT NOT NULL,
    protocol      TEXT NOT NULL,
    icon          TEXT,
    -- JSON: the whole validated template document (schemas, operations, health check, …).
    definition    TEXT NOT NULL,
    -- SHA-256 of the document: a built-in file whose content changed becomes a new version.
    content_hash  TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    published_at  TIMESTAMP,
    deprecated_at TIMESTAMP,
    CONSTRAINT templates_family_version_key UNIQUE (family_id, version)
);
CREATE INDEX templates_by_family ON templates (family_id, version);
CREATE INDEX templates_current ON templates (is_current, id);

-- The template version an integration was made from (NULL: configured by hand). No
-- REFERENCES here (PostgreSQL has one): SQLite cannot drop a column that has a foreign key,
-- so the down migration could not run; the code treats a vanished template as none.
ALTER TABLE integrations ADD COLUMN template_id TEXT;
CREATE INDEX integrations_by_template ON integrations (template_id);
