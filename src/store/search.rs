//! Full-text search over stories' titles, texts and source names: the index (SQLite FTS5,
//! PostgreSQL `tsvector`), kept in step by triggers, and the query.
//!
//! The index is kept by triggers, not by the functions that write stories: every path that
//! changes what a story says or who carried it (a pass's insert or merge, pruning, `migrate-store`,
//! a hand-run `DELETE`) keeps it true without knowing it exists. On SQLite the triggers note the
//! stories changed and the index is rewritten at the end of the write transaction
//! ([`index_pending`]); on PostgreSQL deferred triggers do it at the commit.
//!
//! Languages. Words are matched without case and diacritics: SQLite's `unicode61` tokenizer with
//! `remove_diacritics 2`, PostgreSQL's `simple` configuration over `tributary_fold` (lower case
//! and, where the `unaccent` contrib module can be created, no accents). Scripts written without
//! spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Myanmar) have no word boundaries
//! either tokenizer knows, so a query term in those scripts is matched as a substring of the
//! title and text instead (a scan of the stories, bounded by retention), see [`SearchQuery`].

use super::StoreError;
use super::db::{Backend, Connection, Value};
use super::stories::{STORY_COLUMNS, StoredStory, story_from_row};

/// `$text` (SQL) without Greek accents: `unicode61`'s `remove_diacritics` folds Latin letters
/// only, so the tonos and dialytika are replaced before the tokenizer sees the text (and the
/// query, see `search_sql`).
macro_rules! sqlite_greek_fold {
    ($text:literal) => {
        concat!(
            "replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(",
            $text,
            ", 'ά', 'α'), 'έ', 'ε'), 'ή', 'η'), 'ί', 'ι'), 'ό', 'ο'), 'ύ', 'υ'), 'ώ', 'ω'), 'ϊ', 'ι'), 'ϋ', 'υ'), 'ΐ', 'ι'), 'ΰ', 'υ'), 'Ά', 'Α'), 'Έ', 'Ε'), 'Ή', 'Η'), 'Ί', 'Ι'), 'Ό', 'Ο'), 'Ύ', 'Υ'), 'Ώ', 'Ω'), 'Ϊ', 'Ι'), 'Ϋ', 'Υ')"
        )
    };
}

/// Recomputes the index rows of the stories whose `id` matches `$predicate` (SQL text such as
/// `= new.id`): delete, then insert from the story and its sources.
macro_rules! sqlite_refresh {
    ($predicate:literal) => {
        concat!(
            "DELETE FROM story_search WHERE rowid ",
            $predicate,
            ";
        INSERT INTO story_search (rowid, title, body, sources)
        SELECT id, ",
            sqlite_greek_fold!("title"),
            ", ",
            sqlite_greek_fold!("COALESCE(text, summary, '')"),
            ",
            COALESCE((SELECT group_concat(ss.source || ' ' || COALESCE(src.feed_title, ''), ' ')
                FROM story_sources ss LEFT JOIN sources src ON src.name = ss.source
                WHERE ss.story_id = stories.id), '')
        FROM stories WHERE id ",
            $predicate,
            ";"
        )
    };
}

/// SQLite's migration: a contentless FTS5 table (the text stays in `stories` only, so the index
/// does not double the file), its triggers, and the backfill of stories stored before it.
pub const SQLITE_SCHEMA: &str = concat!(
    "
    CREATE VIRTUAL TABLE story_search USING fts5(
        title, body, sources,
        content = '', contentless_delete = 1,
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER story_search_story_insert AFTER INSERT ON stories BEGIN ",
    sqlite_refresh!("= new.id"),
    " END;
    CREATE TRIGGER story_search_story_update AFTER UPDATE OF title, text, summary ON stories
    BEGIN ",
    sqlite_refresh!("= new.id"),
    " END;
    CREATE TRIGGER story_search_story_delete AFTER DELETE ON stories BEGIN
        DELETE FROM story_search WHERE rowid = old.id;
    END;
    CREATE TRIGGER story_search_entry_insert AFTER INSERT ON story_sources BEGIN ",
    sqlite_refresh!("= new.story_id"),
    " END;
    CREATE TRIGGER story_search_entry_delete AFTER DELETE ON story_sources BEGIN ",
    sqlite_refresh!("= old.story_id"),
    " END;
    CREATE TRIGGER story_search_source_insert AFTER INSERT ON sources BEGIN ",
    sqlite_refresh!("IN (SELECT story_id FROM story_sources WHERE source = new.name)"),
    " END;
    CREATE TRIGGER story_search_source_title AFTER UPDATE OF feed_title ON sources
    WHEN old.feed_title IS NOT new.feed_title BEGIN ",
    sqlite_refresh!("IN (SELECT story_id FROM story_sources WHERE source = new.name)"),
    " END;
    ",
    sqlite_refresh!("IN (SELECT id FROM stories)"),
);

/// SQLite's migration 10: the triggers only note which stories changed (`search_pending`), and
/// the index is rewritten from the notes once at the end of each write transaction
/// ([`index_pending`]). Why: FTS5 flushes its pending segment whenever a statement that may need
/// a statement journal starts after the index was written in the transaction, so indexing from
/// the row triggers made one segment (and a merge) per statement, and a new story was indexed
/// three times in its pass (its row, its first member, its source's save): 13 % of a cold poll's
/// CPU after the group commit. A story deleted is still removed from the index at once.
pub const SQLITE_INDEX_AT_COMMIT: &str = "
    CREATE TABLE search_pending (story_id INTEGER PRIMARY KEY);
    DROP TRIGGER story_search_story_insert;
    DROP TRIGGER story_search_story_update;
    DROP TRIGGER story_search_story_delete;
    DROP TRIGGER story_search_entry_insert;
    DROP TRIGGER story_search_entry_delete;
    DROP TRIGGER story_search_source_insert;
    DROP TRIGGER story_search_source_title;
    CREATE TRIGGER story_search_story_insert AFTER INSERT ON stories BEGIN
        INSERT OR IGNORE INTO search_pending (story_id) VALUES (new.id);
    END;
    CREATE TRIGGER story_search_story_update AFTER UPDATE OF title, text, summary ON stories
    BEGIN
        INSERT OR IGNORE INTO search_pending (story_id) VALUES (new.id);
    END;
    CREATE TRIGGER story_search_story_delete AFTER DELETE ON stories BEGIN
        DELETE FROM story_search WHERE rowid = old.id;
        DELETE FROM search_pending WHERE story_id = old.id;
    END;
    CREATE TRIGGER story_search_entry_insert AFTER INSERT ON story_sources BEGIN
        INSERT OR IGNORE INTO search_pending (story_id) VALUES (new.story_id);
    END;
    CREATE TRIGGER story_search_entry_delete AFTER DELETE ON story_sources BEGIN
        INSERT OR IGNORE INTO search_pending (story_id) VALUES (old.story_id);
    END;
    CREATE TRIGGER story_search_source_insert AFTER INSERT ON sources BEGIN
        INSERT OR IGNORE INTO search_pending (story_id)
            SELECT story_id FROM story_sources WHERE source = new.name;
    END;
    CREATE TRIGGER story_search_source_title AFTER UPDATE OF feed_title ON sources
    WHEN old.feed_title IS NOT new.feed_title BEGIN
        INSERT OR IGNORE INTO search_pending (story_id)
            SELECT story_id FROM story_sources WHERE source = new.name;
    END;
";

/// Rewrites the index rows of the stories the triggers noted, in one statement each (so FTS5
/// writes one segment), and clears the notes. SQLite only; called at the end of every write
/// transaction (`Connection::write_transaction`) and before a search, so a write made outside
/// a transaction is indexed by the next one at the latest.
pub fn index_pending(connection: &mut Connection) -> Result<(), StoreError> {
    let pending: i64 = connection
        .query_one("SELECT EXISTS (SELECT 1 FROM search_pending)", &[])?
        .get(0)?;
    if pending == 0 {
        return Ok(());
    }
    connection.batch(concat!(
        sqlite_refresh!("IN (SELECT story_id FROM search_pending)"),
        "DELETE FROM search_pending;"
    ))
}

/// PostgreSQL's migration: `tributary_fold` (lower case through ICU when the server has it, so
/// a `C`-locale database folds Greek and Cyrillic too; accents removed when `unaccent` can be
/// created), a table of `tsvector`s with a GIN index, the triggers, and the backfill. Texts are
/// indexed up to 100 000 characters: a `tsvector` cannot exceed 1 MB, and an error there would
/// fail the pass that stores the story.
pub const POSTGRES_SCHEMA: &str = r#"
    DO $migration$
    DECLARE
        folded text := 'value';
    BEGIN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS unaccent;
            folded := 'unaccent(value)';
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'tributary: no unaccent module, search matches accents exactly';
        END;
        IF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu') THEN
            folded := 'lower((' || folded || ') COLLATE "und-x-icu")';
        ELSE
            folded := 'lower(' || folded || ')';
        END IF;
        EXECUTE 'CREATE FUNCTION tributary_fold(value text) RETURNS text LANGUAGE sql '
            || 'STABLE PARALLEL SAFE AS $fold$ SELECT ' || folded || ' $fold$';
    END
    $migration$;
    CREATE TABLE story_search (
        story_id BIGINT PRIMARY KEY,
        document tsvector NOT NULL
    );
    CREATE INDEX story_search_document ON story_search USING GIN (document);
    CREATE FUNCTION tributary_search_refresh(story BIGINT) RETURNS void LANGUAGE sql AS $$
        DELETE FROM story_search WHERE story_id = story;
        INSERT INTO story_search (story_id, document)
        SELECT id,
            setweight(to_tsvector('simple', tributary_fold(title)), 'A')
            || to_tsvector('simple', tributary_fold(left(COALESCE(text, summary, ''), 100000)))
            || to_tsvector('simple', tributary_fold(COALESCE((
                SELECT string_agg(ss.source || ' ' || COALESCE(src.feed_title, ''), ' ')
                FROM story_sources ss LEFT JOIN sources src ON src.name = ss.source
                WHERE ss.story_id = stories.id), '')))
        FROM stories WHERE id = story;
    $$;
    CREATE FUNCTION tributary_search_story() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM story_search WHERE story_id = OLD.id;
        ELSE
            PERFORM tributary_search_refresh(NEW.id);
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER story_search_story AFTER INSERT OR DELETE OR UPDATE OF title, text, summary
        ON stories FOR EACH ROW EXECUTE FUNCTION tributary_search_story();
    CREATE FUNCTION tributary_search_entry() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            PERFORM tributary_search_refresh(OLD.story_id);
        ELSE
            PERFORM tributary_search_refresh(NEW.story_id);
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER story_search_entry AFTER INSERT OR DELETE ON story_sources
        FOR EACH ROW EXECUTE FUNCTION tributary_search_entry();
    CREATE FUNCTION tributary_search_source() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.feed_title IS NOT DISTINCT FROM NEW.feed_title THEN
            RETURN NULL;
        END IF;
        PERFORM tributary_search_refresh(story_id) FROM story_sources WHERE source = NEW.name;
        RETURN NULL;
    END $$;
    CREATE TRIGGER story_search_source AFTER INSERT OR UPDATE OF feed_title ON sources
        FOR EACH ROW EXECUTE FUNCTION tributary_search_source();
    SELECT tributary_search_refresh(id) FROM stories;
"#;

/// PostgreSQL's migration 9: each story's document is computed once per transaction, at its
/// commit. The row triggers of migration 7 refreshed a story on every event: a new story was
/// indexed three times in its pass (its row, its first member, its source's first save), and
/// `to_tsvector` over up to 100 000 characters is the bulk of a cold pass's cost in the
/// database. The triggers are now deferred to the commit, when the story, its members and
/// their sources are final, and the first refresh of a story in a transaction stamps its row
/// with the transaction's id so the later events of that transaction skip it. Searches see the
/// same committed documents as before; only a search inside the writing transaction itself
/// (none is made) would see the index before the commit. The refresh itself becomes PL/pgSQL,
/// whose statements are planned once per connection (a SQL function's are planned per call),
/// and writes the document with an upsert: a source's feed title changed by a pass that takes
/// no write lock (`Connection::source_transaction`) may refresh a story at the same moment as
/// another source's pass, and the second then waits for the row instead of failing on the key.
pub const POSTGRES_ONCE_PER_TRANSACTION: &str = r#"
    ALTER TABLE story_search ADD COLUMN refreshed xid8;
    ALTER TABLE story_search ALTER COLUMN refreshed SET DEFAULT pg_current_xact_id();
    CREATE OR REPLACE FUNCTION tributary_search_refresh(story BIGINT) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM story_search WHERE story_id = story
            AND NOT EXISTS (SELECT 1 FROM stories WHERE id = story);
        INSERT INTO story_search (story_id, document)
        SELECT id,
            setweight(to_tsvector('simple', tributary_fold(title)), 'A')
            || to_tsvector('simple', tributary_fold(left(COALESCE(text, summary, ''), 100000)))
            || to_tsvector('simple', tributary_fold(COALESCE((
                SELECT string_agg(ss.source || ' ' || COALESCE(src.feed_title, ''), ' ')
                FROM story_sources ss LEFT JOIN sources src ON src.name = ss.source
                WHERE ss.story_id = stories.id), '')))
        FROM stories WHERE id = story
        ON CONFLICT (story_id) DO UPDATE
            SET document = excluded.document, refreshed = excluded.refreshed;
    END $$;
    CREATE FUNCTION tributary_search_refresh_once(story BIGINT) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM story_search
                       WHERE story_id = story AND refreshed = pg_current_xact_id()) THEN
            PERFORM tributary_search_refresh(story);
        END IF;
    END $$;
    CREATE OR REPLACE FUNCTION tributary_search_story() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM story_search WHERE story_id = OLD.id;
        ELSE
            PERFORM tributary_search_refresh_once(NEW.id);
        END IF;
        RETURN NULL;
    END $$;
    CREATE OR REPLACE FUNCTION tributary_search_entry() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            PERFORM tributary_search_refresh_once(OLD.story_id);
        ELSE
            PERFORM tributary_search_refresh_once(NEW.story_id);
        END IF;
        RETURN NULL;
    END $$;
    CREATE OR REPLACE FUNCTION tributary_search_source() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.feed_title IS NOT DISTINCT FROM NEW.feed_title THEN
            RETURN NULL;
        END IF;
        PERFORM tributary_search_refresh_once(story_id) FROM story_sources
            WHERE source = NEW.name;
        RETURN NULL;
    END $$;
    DROP TRIGGER story_search_story ON stories;
    DROP TRIGGER story_search_entry ON story_sources;
    DROP TRIGGER story_search_source ON sources;
    CREATE CONSTRAINT TRIGGER story_search_story
        AFTER INSERT OR DELETE OR UPDATE OF title, text, summary ON stories
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION tributary_search_story();
    CREATE CONSTRAINT TRIGGER story_search_entry AFTER INSERT OR DELETE ON story_sources
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION tributary_search_entry();
    CREATE CONSTRAINT TRIGGER story_search_source AFTER INSERT OR UPDATE OF feed_title ON sources
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION tributary_search_source();
"#;

/// At most this many terms of a query are used, each at most this many characters: a query is
/// typed by anyone who can reach the server, and each term costs an index lookup or a scan.
const MAX_TERMS: usize = 8;
const MAX_TERM_CHARS: usize = 64;

/// A query as the store runs it: words for the word index, and terms in scripts written
/// without spaces, matched as substrings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Terms matched as whole words or word prefixes (`vill` finds "ville"), without case or
    /// diacritics.
    pub words: Vec<String>,
    /// Terms in a script without spaces (Chinese, Japanese, Thai...), matched as substrings.
    pub substrings: Vec<String>,
}

impl SearchQuery {
    /// Splits what a person typed into terms: runs of letters, digits and combining marks
    /// (after NFC normalization, so a decomposed "é" stays one letter); all other characters
    /// separate terms, so no character of the input reaches the engines' query syntax.
    pub fn parse(input: &str) -> SearchQuery {
        use unicode_normalization::UnicodeNormalization;
        let normalized: String = input.nfc().collect();
        let mut query = SearchQuery::default();
        let terms = normalized
            .split(|c: char| !is_term_char(c))
            .filter(|term| !term.is_empty())
            .map(|term| term.chars().take(MAX_TERM_CHARS).collect::<String>())
            .take(MAX_TERMS);
        for term in terms {
            let list = match term.chars().any(is_spaceless_script) {
                true => &mut query.substrings,
                false => &mut query.words,
            };
            if !list.contains(&term) {
                list.push(term);
            }
        }
        query
    }

    /// Whether the query has nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.substrings.is_empty()
    }

    /// Every term, for highlighting.
    pub fn terms(&self) -> impl Iterator<Item = &str> {
        self.words
            .iter()
            .chain(&self.substrings)
            .map(String::as_str)
    }

    /// FTS5's query: each word a quoted prefix, all required.
    fn fts5_expression(&self) -> String {
        let quoted: Vec<String> = self
            .words
            .iter()
            .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
            .collect();
        quoted.join(" ")
    }

    /// PostgreSQL's `to_tsquery` text: each word a quoted prefix, all required.
    fn tsquery_expression(&self) -> String {
        let quoted: Vec<String> = self
            .words
            .iter()
            .map(|word| format!("'{}':*", word.replace('\'', "''")))
            .collect();
        quoted.join(" & ")
    }
}

fn is_term_char(c: char) -> bool {
    c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c)
}

/// Scripts whose words are not separated by spaces, so neither tokenizer finds their words.
pub fn is_spaceless_script(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF     // Thai, Lao
        | 0x1000..=0x109F   // Myanmar
        | 0x1780..=0x17FF   // Khmer
        | 0x3040..=0x30FF   // Hiragana, Katakana
        | 0x31F0..=0x31FF   // Katakana phonetic extensions
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0xFF66..=0xFF9F   // half-width Katakana
        | 0x20000..=0x3FFFF // CJK extensions B and later
    )
}

/// One story found, with the text its snippet is cut from.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub story: StoredStory,
    /// The story's plain text (extracted, or its feed's summary).
    pub text: String,
}

/// The stories matching every term of `query`, newest first (by publication date, as the
/// merged feed orders them: a feed of search results is read like the merged feed), at most
/// `limit`. An empty query finds nothing.
pub fn search_stories(
    connection: &mut Connection,
    query: &SearchQuery,
    limit: usize,
) -> Result<Vec<SearchHit>, StoreError> {
    if query.is_empty() {
        return Ok(Vec::new());
    }
    if connection.backend() == Backend::Sqlite {
        index_pending(connection)?;
    }
    let (sql, params) = search_sql(connection.backend(), query, limit);
    let rows = connection.query(&sql, &params)?;
    let mut hits = Vec::with_capacity(rows.len());
    for row in rows {
        let text: String = row.get(STORY_COLUMNS_COUNT)?;
        hits.push(SearchHit {
            story: story_from_row(connection, &row)?,
            text,
        });
    }
    Ok(hits)
}

/// How many columns [`STORY_COLUMNS`] reads; the text follows them.
const STORY_COLUMNS_COUNT: usize = 13;

/// The query's SQL and parameters. The search index is the one place the two backends' SQL
/// differs beyond column types: FTS5's `MATCH` against PostgreSQL's `@@`.
fn search_sql(backend: Backend, query: &SearchQuery, limit: usize) -> (String, Vec<Value>) {
    let mut conditions = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    if !query.words.is_empty() {
        params.push(
            match backend {
                Backend::Sqlite => query.fts5_expression(),
                Backend::Postgres => query.tsquery_expression(),
            }
            .into(),
        );
        // The words are the first parameter (`?1`), which the Greek fold's macro names.
        conditions.push(match backend {
            Backend::Sqlite => format!(
                "id IN (SELECT rowid FROM story_search WHERE story_search MATCH {})",
                sqlite_greek_fold!("?1")
            ),
            Backend::Postgres => format!(
                "id IN (SELECT story_id FROM story_search \
                 WHERE document @@ to_tsquery('simple', tributary_fold(?{})))",
                params.len()
            ),
        });
    }
    for term in &query.substrings {
        params.push(term.clone().into());
        let haystack = "title || ' ' || COALESCE(text, summary, '')";
        // The words are the first parameter (`?1`), which the Greek fold's macro names.
        conditions.push(match backend {
            Backend::Sqlite => format!("instr({haystack}, ?{}) > 0", params.len()),
            Backend::Postgres => format!(
                "strpos(tributary_fold({haystack}), tributary_fold(?{})) > 0",
                params.len()
            ),
        });
    }
    params.push(Value::Int(limit.min(i64::MAX as usize) as i64));
    let sql = format!(
        "SELECT {STORY_COLUMNS}, COALESCE(text, summary, '') FROM stories WHERE {} \
         ORDER BY published DESC, id DESC LIMIT ?{}",
        conditions.join(" AND "),
        params.len()
    );
    (sql, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::values;

    #[test]
    fn a_query_is_split_into_words_and_spaceless_terms() {
        let query = SearchQuery::parse("  L'été \"à\" Paris  東京 -- ");
        assert_eq!(query.words, ["L", "été", "à", "Paris"]);
        assert_eq!(query.substrings, ["東京"]);
        assert!(SearchQuery::parse(" \"*:()' ").is_empty());
    }

    #[test]
    fn a_decomposed_accent_stays_in_its_word() {
        let query = SearchQuery::parse("e\u{301}te\u{301} straße");
        assert_eq!(query.words, ["été", "straße"]);
        let thai = SearchQuery::parse("ภาษาไทย");
        assert_eq!(
            thai.substrings,
            ["ภาษาไทย"],
            "Thai vowel marks are part of the term"
        );
    }

    #[test]
    fn terms_are_bounded_and_distinct() {
        let many = "a b c d e f g h i j k a";
        assert_eq!(SearchQuery::parse(many).words.len(), MAX_TERMS);
        let long = "x".repeat(500);
        assert_eq!(
            SearchQuery::parse(&long).words[0].chars().count(),
            MAX_TERM_CHARS
        );
        assert_eq!(SearchQuery::parse("Rhône rhône Rhône").words.len(), 2);
    }

    #[test]
    fn engine_expressions_quote_every_word_as_a_prefix() {
        let query = SearchQuery::parse("ville fleuve");
        assert_eq!(query.fts5_expression(), "\"ville\"* \"fleuve\"*");
        assert_eq!(query.tsquery_expression(), "'ville':* & 'fleuve':*");
    }

    use crate::model::ExtractionStatus;
    use crate::store::stories::{NewItem, commit_pass};
    use crate::store::{DedupePolicy, SourceState, Store, from_epoch, test_stores};

    /// A story as a source's pass brings it, published on `day`.
    fn item(key: &str, title: &str, text: &str, day: i64) -> NewItem {
        NewItem {
            entry_key: key.to_string(),
            link: Some(format!("https://news.example/{key}")),
            canonical_urls: vec![format!("https://news.example/{key}")],
            title: title.to_string(),
            published: from_epoch(1_700_000_000 + day * 86_400),
            updated: from_epoch(1_700_000_000 + day * 86_400),
            content_html: Some(format!("<p>{text}</p>")),
            summary: None,
            text: Some(text.to_string()),
            authors: Vec::new(),
            categories: Vec::new(),
            enclosures: Vec::new(),
            image: None,
            fingerprint: None,
            extraction: ExtractionStatus::Extracted,
            version: None,
        }
    }

    fn commit(store: &Store, source: &str, items: &[NewItem]) {
        store
            .call_blocking(|connection| {
                let mut state = SourceState::new(source, &format!("https://{source}.example/"));
                state.feed_title = Some(format!("{source} daily"));
                commit_pass(
                    connection,
                    &DedupePolicy::default(),
                    &state,
                    items,
                    from_epoch(1_800_000_000),
                )
            })
            .unwrap();
    }

    /// The titles `input` finds, newest first.
    fn found(store: &Store, input: &str) -> Vec<String> {
        let query = SearchQuery::parse(input);
        store
            .call_blocking(|connection| search_stories(connection, &query, 50))
            .unwrap()
            .into_iter()
            .map(|hit| hit.story.title)
            .collect()
    }

    fn multilingual() -> Vec<NewItem> {
        vec![
            item(
                "fr",
                "Les élèves de l'école",
                "La rentrée à Montréal, côté lycée.",
                1,
            ),
            item(
                "de",
                "Die Straßenbahn fährt",
                "Über die Brücke nach Köln.",
                2,
            ),
            item("ru", "Москва: новый мост", "Мост через реку открыт.", 3),
            item("el", "Η Αθήνα γιορτάζει", "Γιορτή στην Ακρόπολη.", 4),
            item(
                "ja",
                "東京で新しい橋が開通",
                "新しい橋は来月から通行できます。",
                5,
            ),
        ]
    }

    #[test]
    fn accented_and_non_latin_queries_find_their_stories_on_both_backends() {
        for store in test_stores() {
            let backend = store.backend();
            commit(&store, "quotidien", &multilingual());
            let cases: &[(&str, &[&str])] = &[
                ("eleves ecole", &["Les élèves de l'école"]),
                ("ÉLÈVES", &["Les élèves de l'école"]),
                ("montreal cote", &["Les élèves de l'école"]),
                ("brucke", &["Die Straßenbahn fährt"]),
                ("Straßenbahn FÄHRT", &["Die Straßenbahn fährt"]),
                ("МОСТ", &["Москва: новый мост"]),
                ("москва", &["Москва: новый мост"]),
                ("αθηνα", &["Η Αθήνα γιορτάζει"]),
                ("ΑΚΡΌΠΟΛΗ", &["Η Αθήνα γιορτάζει"]),
                ("新しい橋", &["東京で新しい橋が開通"]),
                ("来月", &["東京で新しい橋が開通"]),
                ("大阪", &[]),
                ("mont", &["Les élèves de l'école"]),
                ("köln moscou", &[]),
            ];
            for (input, expected) in cases {
                assert_eq!(found(&store, input), *expected, "{backend:?}: {input}");
            }
            let everything = found(&store, "quotidien");
            assert_eq!(everything.len(), 5, "{backend:?}: by source name");
            assert_eq!(everything[0], "東京で新しい橋が開通", "newest first");
            assert_eq!(found(&store, "daily").len(), 5, "{backend:?}: feed title");
            assert!(found(&store, "").is_empty());
        }
    }

    #[test]
    fn the_index_follows_merges_upgrades_and_deletes_on_both_backends() {
        for store in test_stores() {
            let backend = store.backend();
            let mut first = item("1", "Crue de la Loire", "Bref.", 1);
            first.extraction = ExtractionStatus::FeedFallback;
            first.text = None;
            first.summary = Some("Bref résumé.".into());
            commit(&store, "quotidien", &[first]);
            assert_eq!(found(&store, "resume").len(), 1, "{backend:?}: summary");
            assert!(found(&store, "zeitung").is_empty());
            // Another source carries the same story with its full text: both are searchable.
            let copy = item("x", "Hochwasser", "Die Loire steigt in Orléans.", 1);
            let mut copy = copy;
            copy.canonical_urls = vec!["https://news.example/1".into()];
            commit(&store, "zeitung", &[copy]);
            assert_eq!(
                found(&store, "zeitung"),
                ["Crue de la Loire"],
                "{backend:?}"
            );
            assert_eq!(
                found(&store, "orleans"),
                ["Crue de la Loire"],
                "{backend:?}"
            );
            // Pruning deletes the entries, then the story: it is no longer found.
            store
                .call_blocking(|connection| {
                    connection.execute(
                        "DELETE FROM story_sources WHERE source = ?1",
                        values!["zeitung"],
                    )?;
                    assert!(
                        search_stories(connection, &SearchQuery::parse("zeitung"), 9)?.is_empty()
                    );
                    connection.execute("DELETE FROM story_sources", &[])?;
                    connection.execute("DELETE FROM stories", &[])
                })
                .unwrap();
            assert!(found(&store, "loire").is_empty(), "{backend:?}");
        }
    }

    /// On SQLite the triggers only note a change; a write made outside any write transaction
    /// (a hand-run statement) is indexed by the next search at the latest.
    #[test]
    fn a_story_written_outside_a_transaction_is_found() {
        let store = Store::open_in_memory().unwrap();
        store
            .call_blocking(|connection| {
                connection.batch(
                    "INSERT INTO stories (uid, title, published, updated, extraction, \
                     first_source, created) VALUES ('u', 'Lonely lighthouse', 0, 0, 'x', 'a', 0)",
                )
            })
            .unwrap();
        assert_eq!(found(&store, "lighthouse"), ["Lonely lighthouse"]);
    }

    /// A store created before search had its index: the migration fills it.
    #[test]
    fn the_migration_indexes_stories_stored_before_it_on_both_backends() {
        for store in test_stores() {
            let backend = store.backend();
            store
                .call_blocking(|connection| match connection.backend() {
                    Backend::Sqlite => connection.batch(
                        "DROP TABLE story_search; DROP TRIGGER story_search_story_insert;
                         DROP TRIGGER story_search_story_update;
                         DROP TRIGGER story_search_story_delete;
                         DROP TRIGGER story_search_entry_insert;
                         DROP TRIGGER story_search_entry_delete;
                         DROP TRIGGER story_search_source_insert;
                         DROP TRIGGER story_search_source_title;
                         DROP TABLE websub_subscriptions; PRAGMA user_version = 6;",
                    ),
                    Backend::Postgres => connection.batch(
                        "DROP TABLE story_search;
                         DROP FUNCTION tributary_search_story CASCADE;
                         DROP FUNCTION tributary_search_entry CASCADE;
                         DROP FUNCTION tributary_search_source CASCADE;
                         DROP FUNCTION tributary_search_refresh_once;
                         DROP FUNCTION tributary_search_refresh;
                         DROP FUNCTION tributary_fold;
                         DROP TABLE websub_subscriptions;
                         UPDATE schema_version SET version = 6;",
                    ),
                })
                .unwrap();
            commit(&store, "quotidien", &multilingual());
            // Migration 10's and 11's tables, kept until the stories of a store at schema 6
            // were in (the pass commit uses them), the index 11 drops on PostgreSQL, and 12's
            // table.
            let undo_later_migrations = match backend {
                Backend::Sqlite => {
                    "DROP TABLE search_pending; DROP TABLE story_bands_pruned;
                     DROP TABLE site_pages;"
                }
                Backend::Postgres => {
                    "DROP TABLE story_bands_pruned;
                     CREATE INDEX story_bands_day ON story_bands(day);
                     DROP TABLE site_pages;"
                }
            };
            store
                .call_blocking(|connection| connection.batch(undo_later_migrations))
                .unwrap();
            store.call_blocking(crate::store::schema::migrate).unwrap();
            assert_eq!(
                found(&store, "brucke"),
                ["Die Straßenbahn fährt"],
                "{backend:?}"
            );
            assert_eq!(found(&store, "quotidien").len(), 5, "{backend:?}");
        }
    }
}
