-- A common word without visiting its every hit (docs/services/content.md, "Reading"): for each
-- word of an entry's title and summary (its `ranking` vector), the score a search for that word
-- alone gives the entry there (`quick`, ts_rank on `ranking`), kept when the entry is written.
-- A search for one word reads the best entries for it in index order, instead of scoring every
-- entry whose document holds it (15,355 of 20,000 for "heart": 51 ms of database time). The
-- word is kept as the one-word query's text (`'heart'`), which is how the search names it.
CREATE TABLE search_top (
    term        text NOT NULL,
    quick       real NOT NULL,
    slug        text NOT NULL,
    locale      text NOT NULL,
    document_id uuid NOT NULL,
    FOREIGN KEY (document_id, locale) REFERENCES search_entries (document_id, locale)
        ON DELETE CASCADE
);
CREATE INDEX search_top_best ON search_top (term, quick DESC, slug) INCLUDE (locale, document_id);
-- The cascade from search_entries finds an entry's rows by this.
CREATE INDEX search_top_entry ON search_top (document_id, locale);

INSERT INTO search_top (term, quick, slug, locale, document_id)
SELECT t.term, ts_rank(e.ranking, t.term::tsquery), e.slug, e.locale, e.document_id
FROM search_entries e,
     LATERAL (SELECT quote_literal(w)::tsquery::text AS term
              FROM unnest(tsvector_to_array(e.ranking)) AS w) t;
-- A catalogue's worth of rows at once: planned with statistics from the start, not after
-- autovacuum's next look.
ANALYZE search_top;
