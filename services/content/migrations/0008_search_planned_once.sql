-- Search planned once per connection (docs/services/content.md, "Reading"; issue 22).
--
-- The search statement was sent by the service and planned anew for every search: PostgreSQL
-- plans a prepared statement for its parameters' values ("custom" plans) as long as it judges a
-- plan for any values ("generic") no cheaper, and for this statement it always did. Planning it
-- cost 0.7-1.2 ms of the database's CPU per search, more than running it (a rare word: 1.0 ms
-- to run; 10,000 documents, two languages). Nothing in its plan depends on the values: the
-- query is an init plan, and every branch is chosen by a one-time filter. Here it is one
-- function whose statement PL/pgSQL prepares once per connection, generic from the first call.
--
-- The same search as before (store/delivery.py sent it in four variants): the page for the
-- words as asked, and only when that is empty the page for the words corrected (`corrected`,
-- migration 0006). A page's candidates come from `search_top` (migration 0007) for a one-word
-- search whose word is in at least `candidate_count` titles or summaries, else from scoring
-- every hit on its small vector; `use_top` false scores every hit (tests compare the two ways).
-- With more than one locale, per document the entry in the most preferred one.
CREATE FUNCTION search_page(
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
            SELECT t.document_id, t.locale, t.slug, t.quick
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
        candidates AS (
            SELECT * FROM top WHERE (SELECT count(*) FROM top) >= candidate_count
            UNION ALL
            (SELECT * FROM matched WHERE (SELECT count(*) FROM top) < candidate_count
             ORDER BY quick DESC, slug LIMIT candidate_count)),
        page AS (
            SELECT c.document_id, c.locale, c.slug,
                   c.quick + 0.1 * ts_rank_cd(e.document, (SELECT query FROM q), 32) AS rank
            FROM candidates c JOIN search_entries e USING (document_id, locale)
            ORDER BY rank DESC, c.slug LIMIT page_size)
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
