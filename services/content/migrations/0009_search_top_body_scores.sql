-- A one-word search's page without reading its candidates' documents (issue 22;
-- docs/services/content.md, "Reading").
--
-- A page's rank is the candidate's score on its title and summary plus a tenth of the cover
-- density of the word over the whole document (`ts_rank_cd` on its vector, normalised into
-- [0, 1)). For the 200 candidates of a common word that meant reading 200 documents' vectors,
-- compressed out of line: 2.9 of the 4.1 ms a search for "insufficiency" took in the database
-- (10,000 documents). For one word that density depends on the entry and the word alone, so
-- it is kept in the word's row of `search_top` when the entry is written (`body`), beside
-- `quick`, and the page is ordered from the lists; the same value as before, as the same
-- function of the same vectors.
ALTER TABLE search_top ADD COLUMN body real;
UPDATE search_top t
SET body = ts_rank_cd(e.document, t.term::tsquery, 32)
FROM search_entries e
WHERE e.document_id = t.document_id AND e.locale = t.locale;
ALTER TABLE search_top ALTER COLUMN body SET NOT NULL;
-- Read with the candidates, from the index alone.
DROP INDEX search_top_best;
CREATE INDEX search_top_best ON search_top (term, quick DESC, slug)
    INCLUDE (locale, document_id, body);
ANALYZE search_top;

-- The search of migration 0008, its candidates from the lists ranked with `body`.
CREATE OR REPLACE FUNCTION search_page(
    words text,
    search_config regconfig,
    reader_locales text[],
    page_size integer,
    candidate_count integer,
    use_top boolean
)
RETURNS TABLE (kind text, slug text, locale text, title text, rank float8, snippet text)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET plan_cache_mode = force_generic_plan
AS $function$
-- The names of the returned columns are variables too; in the statement, a name is a column.
#variable_conflict use_column
DECLARE
    asked tsquery := websearch_to_tsquery(search_config, words);
    fixed tsquery;
BEGIN
    FOR attempt IN 1..2 LOOP
        RETURN QUERY
        WITH q AS MATERIALIZED (SELECT asked AS query),
        top AS MATERIALIZED (
            SELECT t.document_id, t.locale, t.slug, t.quick, t.body
            FROM search_top t
            WHERE use_top
              AND (SELECT numnode(query) FROM q) = 1 AND t.term = (SELECT query::text FROM q)
              AND t.locale = ANY(reader_locales)
              AND (cardinality(reader_locales) = 1 OR NOT EXISTS (
                  SELECT FROM search_entries p
                  WHERE p.document_id = t.document_id
                    -- The locales before t's, in the index condition: none for the first.
                    AND p.locale = ANY(reader_locales[:array_position(reader_locales, t.locale) - 1])
                    AND p.document @@ (SELECT query FROM q)))
            ORDER BY t.quick DESC, t.slug LIMIT candidate_count),
        matched AS (
            SELECT e.document_id, e.locale, e.slug,
                   ts_rank(e.ranking, (SELECT query FROM q)) AS quick
            FROM search_entries e
            WHERE cardinality(reader_locales) = 1
              AND e.locale = ANY(reader_locales) AND e.document @@ (SELECT query FROM q)
            UNION ALL
            (SELECT DISTINCT ON (m.document_id) m.*
             FROM (SELECT e.document_id, e.locale, e.slug,
                          ts_rank(e.ranking, (SELECT query FROM q)) AS quick
                   FROM search_entries e
                   WHERE cardinality(reader_locales) > 1
                     AND e.locale = ANY(reader_locales) AND e.document @@ (SELECT query FROM q)) m
             ORDER BY m.document_id, array_position(reader_locales, m.locale))),
        -- The candidates ranked: those from the lists with the body's score kept there, the
        -- others with it read from the whole document's vector.
        ranked AS (
            SELECT t.document_id, t.locale, t.slug, t.quick + 0.1 * t.body AS rank
            FROM top t WHERE (SELECT count(*) FROM top) >= candidate_count
            UNION ALL
            SELECT c.document_id, c.locale, c.slug,
                   c.quick + 0.1 * ts_rank_cd(e.document, (SELECT query FROM q), 32)
            FROM (SELECT * FROM matched WHERE (SELECT count(*) FROM top) < candidate_count
                  ORDER BY quick DESC, slug LIMIT candidate_count) c
                 JOIN search_entries e USING (document_id, locale)),
        page AS (SELECT * FROM ranked ORDER BY rank DESC, slug LIMIT page_size)
        SELECT e.kind, e.slug, e.locale, e.title, p.rank::float8 AS rank,
               ts_headline(search_config,
                           CASE WHEN e.ranking @@ q.query THEN e.summary ELSE e.body END,
                           q.query,
                           'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12')
                   AS snippet
        FROM page p JOIN search_entries e USING (document_id, locale), q
        ORDER BY p.rank DESC, e.slug;
        EXIT WHEN FOUND OR attempt = 2;
        -- Nothing for the words as asked: each word that no title holds, corrected; when none
        -- is, the same words would find nothing again.
        fixed := websearch_to_tsquery(search_config, nullif(corrected(words), ''));
        EXIT WHEN fixed IS NOT DISTINCT FROM asked;
        asked := fixed;
    END LOOP;
END
$function$;
