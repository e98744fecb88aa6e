-- Typos (docs/services/content.md, "Reading"): not titles compared with the query (a misspelt
-- common word is close to thousands of titles, each compared in turn by word similarity), but
-- each word of the query that no title holds replaced by the closest word that titles hold
-- (trigram similarity at least 0.5, through the trigram index on a few thousand words), and
-- the corrected query searched and ranked like any other.
DROP FUNCTION title_hits(text, text[], integer);
DROP INDEX search_entries_title_trgm;
ALTER TABLE search_entries DROP COLUMN title_folded;

-- The words of titles, accents folded and lower-cased. No unique key: publishes that share a
-- new word would wait for each other's commit on it; a word is added only when absent, and a
-- rare duplicate (two publishes adding it at once) changes no correction. Kept when a document
-- is unpublished: a correction to a word no longer published finds nothing, as the misspelt
-- word did.
CREATE TABLE title_words (word text NOT NULL);
CREATE INDEX title_words_word ON title_words (word);
CREATE INDEX title_words_trgm ON title_words USING gin (word public.gin_trgm_ops)
    WITH (fastupdate = off);
INSERT INTO title_words
SELECT DISTINCT w
FROM search_entries, regexp_split_to_table(lower(unaccented(title)), '[^[:alpha:]]+') AS w
WHERE length(w) >= 3;

CREATE FUNCTION corrected(query text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET pg_trgm.similarity_threshold = 0.5
BEGIN ATOMIC
    SELECT string_agg(
               coalesce((SELECT v.word FROM title_words v
                         WHERE v.word OPERATOR(public.%) q.word
                         ORDER BY public.similarity(v.word, q.word) DESC, v.word
                         LIMIT 1),
                        q.word),
               ' ' ORDER BY q.n)
    FROM regexp_split_to_table(lower(unaccented(query)), '[^[:alpha:]]+') WITH ORDINALITY
         AS q(word, n)
    WHERE q.word <> '';
END;
