-- Editorial documents, their revisions, what is published, and the change log sync reads.

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;

CREATE TABLE documents (
    id                 uuid PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('condition', 'treatment', 'service')),
    slug               text NOT NULL,
    -- The latest revision's number; If-Match compares against it.
    version            integer NOT NULL CHECK (version >= 1),
    draft              jsonb NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    published_revision integer,
    published_at       timestamptz,
    scheduled_revision integer,
    scheduled_for      timestamptz,
    UNIQUE (kind, slug)
);
CREATE INDEX documents_due ON documents (scheduled_for) WHERE scheduled_for IS NOT NULL;

CREATE TABLE revisions (
    document_id uuid NOT NULL REFERENCES documents (id),
    number      integer NOT NULL,
    body        jsonb NOT NULL,
    author      text NOT NULL,
    created_at  timestamptz NOT NULL,
    note        text,
    PRIMARY KEY (document_id, number)
);

-- A renamed document keeps answering at its old slugs, with a 301 to the new one.
CREATE TABLE slug_redirects (
    kind        text NOT NULL,
    old_slug    text NOT NULL,
    document_id uuid NOT NULL REFERENCES documents (id),
    PRIMARY KEY (kind, old_slug)
);

-- What the delivery API serves: the published revision, rendered (Markdown and sanitised HTML).
CREATE TABLE published (
    document_id  uuid PRIMARY KEY REFERENCES documents (id),
    kind         text NOT NULL,
    slug         text NOT NULL,
    revision     integer NOT NULL,
    rendered     jsonb NOT NULL,
    locales      text[] NOT NULL,
    specialty    text,
    tags         text[] NOT NULL DEFAULT '{}',
    published_at timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    UNIQUE (kind, slug)
);
CREATE INDEX published_list ON published (kind, slug);
CREATE INDEX published_updated ON published (kind, updated_at, document_id);
CREATE INDEX published_tags ON published USING gin (tags);

-- One row per (document, locale), in the language's text-search configuration.
CREATE TABLE search_entries (
    document_id uuid NOT NULL REFERENCES published (document_id) ON DELETE CASCADE,
    locale      text NOT NULL,
    kind        text NOT NULL,
    slug        text NOT NULL,
    title       text NOT NULL,
    summary     text NOT NULL,
    body        text NOT NULL,
    config      regconfig NOT NULL,
    document    tsvector NOT NULL,
    PRIMARY KEY (document_id, locale)
);
CREATE INDEX search_entries_document ON search_entries USING gin (document);
CREATE INDEX search_entries_title_trgm ON search_entries USING gin (title public.gin_trgm_ops);

-- Every publish and unpublish, in order: sync tokens are positions in this log.
CREATE TABLE changes (
    seq         bigserial PRIMARY KEY,
    document_id uuid NOT NULL,
    kind        text NOT NULL,
    slug        text NOT NULL,
    action      text NOT NULL CHECK (action IN ('published', 'unpublished')),
    revision    integer NOT NULL,
    at          timestamptz NOT NULL
);
