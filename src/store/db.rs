//! One connection to either backend (SQLite or PostgreSQL) and the few operations the store needs.
//!
//! The store's SQL is written once, in the dialect both engines share: `?N` placeholders,
//! `INSERT ... ON CONFLICT`, `RETURNING id`. [`Connection`] turns it into PostgreSQL's where they
//! differ (`$N` placeholders, `seq` for SQLite's implicit `rowid`), and reads every row into
//! plain [`Value`]s, so a store function has one body for both backends.

use std::collections::HashMap;
use std::error::Error;

use postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::StoreError;

/// One SQL value, as both engines store it: integers (times, counts, flags), text and bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

macro_rules! int_value {
    ($($kind:ty),*) => {$(
        impl From<$kind> for Value {
            fn from(value: $kind) -> Value {
                Value::Int(value as i64)
            }
        }
    )*};
}
int_value!(i64, i32, u32, u16, usize, bool);

impl From<String> for Value {
    fn from(value: String) -> Value {
        Value::Text(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Value {
        Value::Text(value.to_string())
    }
}

impl From<&String> for Value {
    fn from(value: &String) -> Value {
        Value::Text(value.clone())
    }
}

impl From<Vec<u8>> for Value {
    fn from(value: Vec<u8>) -> Value {
        Value::Blob(value)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Value {
        value.map_or(Value::Null, Into::into)
    }
}

impl<T: Clone + Into<Value>> From<&Option<T>> for Value {
    fn from(value: &Option<T>) -> Value {
        value.clone().map_or(Value::Null, Into::into)
    }
}

/// Builds a `&[Value]` parameter list from anything that converts into a [`Value`].
macro_rules! values {
    ($($value:expr),* $(,)?) => {
        &[$($crate::store::db::Value::from($value)),*][..]
    };
}
pub(crate) use values;

/// A Rust type a [`Value`] reads back into.
pub trait FromValue: Sized {
    fn from_value(value: &Value) -> Option<Self>;
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Option<Value> {
        Some(value.clone())
    }
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Option<i64> {
        match value {
            Value::Int(number) => Some(*number),
            _ => None,
        }
    }
}

macro_rules! narrow_int {
    ($($kind:ty),*) => {$(
        impl FromValue for $kind {
            fn from_value(value: &Value) -> Option<$kind> {
                i64::from_value(value).and_then(|number| <$kind>::try_from(number).ok())
            }
        }
    )*};
}
narrow_int!(u32, u16);

impl FromValue for bool {
    fn from_value(value: &Value) -> Option<bool> {
        i64::from_value(value).map(|number| number != 0)
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Option<String> {
        match value {
            Value::Text(text) => Some(text.clone()),
            _ => None,
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Option<Vec<u8>> {
        match value {
            Value::Blob(bytes) => Some(bytes.clone()),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Option<Option<T>> {
        match value {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// One result row.
#[derive(Debug, Clone)]
pub struct Row(Vec<Value>);

impl Row {
    /// The column at `index`, read as `T`; a type mismatch is an error naming the column, not
    /// a panic, so a hand-edited database reports what is wrong.
    pub fn get<T: FromValue>(&self, index: usize) -> Result<T, StoreError> {
        self.0
            .get(index)
            .and_then(T::from_value)
            .ok_or_else(|| StoreError::Type {
                index,
                found: format!("{:?}", self.0.get(index)),
                expected: std::any::type_name::<T>(),
            })
    }
}

/// A PostgreSQL client with its prepared statements, so a hot query is parsed once per
/// connection as SQLite's `prepare_cached` does.
pub struct PgClient {
    client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
}

impl PgClient {
    pub fn new(client: postgres::Client) -> PgClient {
        PgClient {
            client,
            statements: HashMap::new(),
        }
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    /// Whether the connection can no longer be used (the server went away), so the pool drops it.
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

/// Which engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection to either backend; every store function takes one.
pub enum Connection {
    Sqlite(rusqlite::Connection),
    Postgres(Box<PgClient>),
}

/// The PostgreSQL advisory lock every write transaction takes: writers queue as they do on
/// SQLite's single write lock, so a pass's duplicate check and insert stay atomic across
/// processes and instances (see `stories::commit_pass`).
const WRITE_LOCK: i64 = 0x7472_6962; // "trib"

impl Connection {
    pub fn backend(&self) -> Backend {
        match self {
            Connection::Sqlite(_) => Backend::Sqlite,
            Connection::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs one statement; returns the number of rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        match self {
            Connection::Sqlite(connection) => {
                let mut statement = connection.prepare_cached(sql)?;
                let changed = statement.execute(rusqlite::params_from_iter(params.iter()))?;
                Ok(changed as u64)
            }
            Connection::Postgres(pg) => {
                let statement = pg.statement(&postgres_sql(sql))?;
                Ok(pg.client.execute(&statement, &pg_params(params))?)
            }
        }
    }

    /// Runs a query and reads all its rows.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        match self {
            Connection::Sqlite(connection) => {
                let mut statement = connection.prepare_cached(sql)?;
                let width = statement.column_count();
                let rows = statement
                    .query_map(rusqlite::params_from_iter(params.iter()), |row| {
                        (0..width).map(|index| sqlite_value(row, index)).collect()
                    })?;
                Ok(rows.map(|row| row.map(Row)).collect::<Result<_, _>>()?)
            }
            Connection::Postgres(pg) => {
                let statement = pg.statement(&postgres_sql(sql))?;
                let rows = pg.client.query(&statement, &pg_params(params))?;
                rows.iter()
                    .map(|row| {
                        (0..row.len())
                            .map(|index| pg_value(row, index))
                            .collect::<Result<_, _>>()
                            .map(Row)
                    })
                    .collect()
            }
        }
    }

    /// The first row of a query, if any.
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row of a query, which must exist.
    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StoreError::Task(format!("no row from: {sql}")))
    }

    /// Runs several statements without parameters, as written (schema migrations).
    pub fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        match self {
            Connection::Sqlite(connection) => Ok(connection.execute_batch(sql)?),
            Connection::Postgres(pg) => Ok(pg.client.batch_execute(sql)?),
        }
    }

    /// Runs `work` in a transaction that writes only one source's own rows (its polling state,
    /// its listing) and matches nothing against other sources' stories: on PostgreSQL it does
    /// not queue on [`WRITE_LOCK`] (row locks order it against the source's other writers, and
    /// one instance polls a source at a time), so the fleet's warm passes, which bring nothing
    /// new, do not take turns with the passes that store stories. SQLite has one write lock,
    /// taken up front as in [`Connection::write_transaction`].
    pub fn source_transaction<T>(
        &mut self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self.backend() {
            Backend::Sqlite => self.write_transaction(work),
            Backend::Postgres => {
                self.batch("BEGIN")?;
                self.finish(work)
            }
        }
    }

    /// Runs reads in one transaction: one snapshot, and on SQLite one read lock instead of one
    /// per statement (a status of 1000 sources, three reads each, spent a sixth of a warm
    /// poll's CPU taking and releasing them).
    pub fn read_transaction<T>(
        &mut self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.batch("BEGIN")?;
        self.finish(work)
    }

    /// Commits when `work` returns `Ok`, rolls back otherwise.
    fn finish<T>(
        &mut self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match work(self) {
            Ok(value) => {
                self.batch("COMMIT")?;
                Ok(value)
            }
            Err(error) => {
                // The rollback's own failure (a dropped connection) adds nothing to `error`.
                let _ = self.batch("ROLLBACK");
                Err(error)
            }
        }
    }

    /// Runs `work` in a write transaction, committed when it returns `Ok` and rolled back
    /// otherwise. Writers are serialized on both backends: SQLite's `BEGIN IMMEDIATE` takes the
    /// write lock up front; PostgreSQL takes [`WRITE_LOCK`] for the transaction's duration. On
    /// SQLite the search index is rewritten at the end, once, for the stories the transaction
    /// changed (`search::index_pending`).
    pub fn write_transaction<T>(
        &mut self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self.backend() {
            Backend::Sqlite => self.schema_transaction(|connection| {
                let value = work(connection)?;
                super::search::index_pending(connection)?;
                Ok(value)
            }),
            Backend::Postgres => self.schema_transaction(work),
        }
    }

    /// [`Connection::write_transaction`] without the search index's step: for the schema's
    /// migrations, which run before the tables that step reads may exist.
    pub fn schema_transaction<T>(
        &mut self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self.backend() {
            Backend::Sqlite => self.batch("BEGIN IMMEDIATE")?,
            Backend::Postgres => {
                self.batch("BEGIN")?;
                if let Err(error) =
                    self.query("SELECT pg_advisory_xact_lock(?1)", values![WRITE_LOCK])
                {
                    let _ = self.batch("ROLLBACK");
                    return Err(error);
                }
            }
        }
        self.finish(work)
    }
}

/// PostgreSQL's spelling of the shared dialect: `?N` becomes `$N` and `rowid` (SQLite's
/// implicit insertion order) becomes the `seq` identity column PostgreSQL's schema adds where a
/// query orders by it. Quoted text is left alone.
pub fn postgres_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut rest = sql;
    while let Some(character) = rest.chars().next() {
        if character == '\'' {
            quoted = !quoted;
        }
        if !quoted && character == '?' {
            out.push('$');
        } else if !quoted
            && rest.starts_with("rowid")
            && !out.ends_with(|c: char| c.is_alphanumeric() || c == '_')
        {
            out.push_str("seq");
            rest = &rest["rowid".len()..];
            continue;
        } else {
            out.push(character);
        }
        rest = &rest[character.len_utf8()..];
    }
    out
}

fn sqlite_value(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Value> {
    use rusqlite::types::ValueRef;
    Ok(match row.get_ref(index)? {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(number) => Value::Int(number),
        // No column holds a real; one written by hand reads as its integer part.
        ValueRef::Real(number) => Value::Int(number as i64),
        ValueRef::Text(bytes) => Value::Text(String::from_utf8_lossy(bytes).into_owned()),
        ValueRef::Blob(bytes) => Value::Blob(bytes.to_vec()),
    })
}

fn pg_value(row: &postgres::Row, index: usize) -> Result<Value, StoreError> {
    let kind = row.columns()[index].type_().clone();
    let value = match kind {
        Type::INT8 => row.try_get::<_, Option<i64>>(index)?.map(Value::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(index)?
            .map(|number| Value::Int(number.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(index)?
            .map(|number| Value::Int(number.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(index)?
            .map(|flag| Value::Int(flag.into())),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(index)?.map(Value::Blob),
        // What a function called for its effect returns (`pg_advisory_xact_lock`).
        Type::VOID => None,
        _ => row.try_get::<_, Option<String>>(index)?.map(Value::Text),
    };
    Ok(value.unwrap_or(Value::Null))
}

fn pg_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|value| value as &(dyn ToSql + Sync))
        .collect()
}

/// PostgreSQL's text cannot hold NUL characters, which a broken feed may carry: they are
/// dropped on both backends alike, so a store behaves the same whichever holds it.
fn without_nul(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', ""))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(number) => ToSqlOutput::Borrowed(ValueRef::Integer(*number)),
            Value::Text(text) => match without_nul(text) {
                std::borrow::Cow::Borrowed(text) => {
                    ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes()))
                }
                std::borrow::Cow::Owned(text) => ToSqlOutput::from(text),
            },
            Value::Blob(bytes) => ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
        })
    }
}

/// A value binds to whatever type PostgreSQL inferred for its parameter: NULL to any, an
/// integer to any integer width or a boolean.
impl ToSql for Value {
    fn to_sql(
        &self,
        kind: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(number) => match *kind {
                Type::INT2 => i16::try_from(*number)?.to_sql(kind, out),
                Type::INT4 => i32::try_from(*number)?.to_sql(kind, out),
                Type::BOOL => (*number != 0).to_sql(kind, out),
                Type::INT8 => number.to_sql(kind, out),
                _ => Err(format!("an integer cannot bind to a {kind} parameter").into()),
            },
            Value::Text(text) => without_nul(text).as_ref().to_sql(kind, out),
            Value::Blob(bytes) => bytes.to_sql(kind, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_spelling_changes_placeholders_and_rowid_only() {
        assert_eq!(
            postgres_sql("SELECT a FROM t WHERE b = ?1 AND c != '?2' ORDER BY seen, t.rowid"),
            "SELECT a FROM t WHERE b = $1 AND c != '?2' ORDER BY seen, t.seq"
        );
        assert_eq!(postgres_sql("SELECT my_rowid"), "SELECT my_rowid");
    }

    #[test]
    fn a_type_mismatch_is_an_error_not_a_panic() {
        let row = Row(vec![Value::Text("x".into()), Value::Null]);
        assert!(row.get::<i64>(0).is_err());
        assert_eq!(row.get::<Option<i64>>(1).unwrap(), None);
        assert!(row.get::<i64>(1).is_err());
        assert!(row.get::<String>(5).is_err());
    }
}
