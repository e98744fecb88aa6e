-- A list page without reading its documents (docs/services/content.md, "Reading"; issue 22).
--
-- A list item holds a document's title and summary in each locale, which the list took out of
-- `rendered` (the whole rendered document, about 30 kB, compressed out of line): for a page of
-- 20 that is 21 documents read and decompressed, 1.85 of the 2.1 ms the first list page of
-- conditions took in the database (10,000 documents). Kept beside it instead, computed by the
-- database whenever `rendered` is written, so no writer can forget it.
CREATE FUNCTION list_summaries(rendered jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT jsonb_object_agg(t.key, jsonb_build_object(
            'title', t.value -> 'title', 'summary', t.value -> 'summary'))
        FROM jsonb_each(rendered -> 'translations') AS t);

ALTER TABLE published
    ADD COLUMN summaries jsonb GENERATED ALWAYS AS (list_summaries(rendered)) STORED;
