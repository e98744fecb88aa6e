-- Search at catalogue size (issue 22; docs/services/content.md, "Reading").
--
-- Accents: a reader types "Meniere" or "Sjogren" for Ménière, Sjögren. The languages' own
-- configurations with `unaccent` before the stemmer, for the words that hold letters beyond
-- ASCII (plain ASCII words are left to the stemmer alone, as before). German's stemmer folds
-- ä, ö, ü and ß itself; unaccent adds é, è, ç and the like there too.
CREATE TEXT SEARCH CONFIGURATION english_unaccent (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION english_unaccent
    ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, english_stem;
CREATE TEXT SEARCH CONFIGURATION german_unaccent (COPY = pg_catalog.german);
ALTER TEXT SEARCH CONFIGURATION german_unaccent
    ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, german_stem;

-- unaccent() is only STABLE (its dictionary could be changed); with the dictionary named, the
-- result depends on its argument alone.
CREATE FUNCTION unaccented(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN public.unaccent('public.unaccent'::regdictionary, $1);

-- Ranking reads a small vector (title A, summary B) kept in the row, not the whole document's
-- (hundreds of lexemes, compressed out of line, detoasted for every hit): a common word
-- matches most of the catalogue. The whole document's vector stays for matching (the GIN
-- index) and for ordering the few hundred best candidates.
ALTER TABLE search_entries ADD COLUMN ranking tsvector;
ALTER TABLE search_entries ALTER COLUMN ranking SET STORAGE MAIN;
-- The title with accents folded, for the typo fallback: folded once when written, not for
-- every candidate the trigram index hands back.
ALTER TABLE search_entries ADD COLUMN title_folded text;
UPDATE search_entries
SET config = CASE WHEN config = 'pg_catalog.german'::regconfig THEN 'german_unaccent'
                  ELSE 'english_unaccent' END::regconfig;
UPDATE search_entries
SET ranking = setweight(to_tsvector(config, title), 'A')
              || setweight(to_tsvector(config, summary), 'B'),
    document = setweight(to_tsvector(config, title), 'A')
               || setweight(to_tsvector(config, summary), 'B')
               || setweight(to_tsvector(config, body), 'C'),
    title_folded = unaccented(title);
ALTER TABLE search_entries ALTER COLUMN ranking SET NOT NULL;
ALTER TABLE search_entries ALTER COLUMN title_folded SET NOT NULL;

-- Published content changes rarely and is read often: no pending list to merge on every read.
DROP INDEX search_entries_document;
CREATE INDEX search_entries_document ON search_entries USING gin (document)
    WITH (fastupdate = off);
-- Typos: titles by trigram word similarity, accents folded on both sides.
DROP INDEX search_entries_title_trgm;
CREATE INDEX search_entries_title_trgm ON search_entries
    USING gin (title_folded public.gin_trgm_ops) WITH (fastupdate = off);

-- The typo fallback in one statement with the search (no transaction to set the threshold):
-- titles whose closest run of words is similar enough to the query (word similarity at least
-- 0.5, through the trigram index), per document the entry in the most preferred locale; the
-- page's rows are read only once the page is known.
CREATE FUNCTION title_hits(query text, locales text[], page_size integer)
RETURNS TABLE (kind text, slug text, locale text, title text, rank float8, snippet text)
LANGUAGE sql STABLE PARALLEL SAFE
SET pg_trgm.word_similarity_threshold = 0.5
BEGIN ATOMIC
    SELECT e.kind, e.slug, e.locale, e.title, p.rank, left(e.summary, 200)
    FROM (SELECT m.document_id, m.locale, m.rank, m.slug
          FROM (SELECT DISTINCT ON (t.document_id) t.document_id, t.locale, t.slug,
                       public.word_similarity((SELECT unaccented(query)), t.title_folded)::float8
                           AS rank
                FROM search_entries t
                WHERE t.locale = ANY(locales)
                  AND (SELECT unaccented(query)) OPERATOR(public.<%) t.title_folded
                ORDER BY t.document_id, array_position(locales, t.locale)) m
          ORDER BY m.rank DESC, m.slug
          LIMIT page_size) p
    JOIN search_entries e ON e.document_id = p.document_id AND e.locale = p.locale
    ORDER BY p.rank DESC, p.slug;
END;
