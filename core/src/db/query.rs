//! One query, written once for every engine: SQL text with `$n` placeholders and the values to
//! bind, run on whatever [`Target`] the caller holds.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use super::{sqlite, ConnInner, Db, Engine, StorageError, TxInner};

mod bind;
mod names;

pub use bind::{Bind, Value};
use names::anonymous;

/// A row type every engine can decode (`#[derive(sqlx::FromRow)]` structs, tuples).
pub trait FromRow:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
    + Send
    + Unpin
{
}
impl<T> FromRow for T where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
{
}

/// A single column every engine can decode.
pub trait Column:
    for<'r> sqlx::Decode<'r, sqlx::Sqlite>
    + sqlx::Type<sqlx::Sqlite>
    + for<'r> sqlx::Decode<'r, sqlx::Postgres>
    + sqlx::Type<sqlx::Postgres>
    + Send
    + Unpin
{
}
impl<T> Column for T where
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + Send
        + Unpin
{
}

/// Where a query runs: `&Db` (any pooled connection), `&mut Conn`, or `&mut Tx`.
pub struct Target<'a>(On<'a>);

enum On<'a> {
    SqlitePool(&'a sqlx::SqlitePool),
    Sqlite(&'a mut sqlx::SqliteConnection),
    PgPool(&'a sqlx::PgPool),
    Pg(&'a mut sqlx::PgConnection),
}

impl Target<'_> {
    /// The same target for one more query, keeping this one for the next.
    pub fn reborrow(&mut self) -> Target<'_> {
        match &mut self.0 {
            On::SqlitePool(pool) => Target(On::SqlitePool(pool)),
            On::Sqlite(conn) => Target(On::Sqlite(conn)),
            On::PgPool(pool) => Target(On::PgPool(pool)),
            On::Pg(conn) => Target(On::Pg(conn)),
        }
    }
}

impl<'a> From<&'a Db> for Target<'a> {
    fn from(db: &'a Db) -> Self {
        match &db.0 {
            Engine::Sqlite(db) => Target(On::SqlitePool(db.reader())),
            Engine::Postgres(db) => Target(On::PgPool(db.pool())),
        }
    }
}

impl<'a, 'c> From<&'a mut super::Tx<'c>> for Target<'a> {
    fn from(tx: &'a mut super::Tx<'c>) -> Self {
        match &mut tx.inner {
            TxInner::Sqlite(tx) => Target(On::Sqlite(&mut *tx)),
            TxInner::Postgres(tx, _) => Target(On::Pg(&mut *tx)),
        }
    }
}

impl<'a> From<&'a mut super::Conn> for Target<'a> {
    fn from(conn: &'a mut super::Conn) -> Self {
        match &mut conn.0 {
            ConnInner::Sqlite(conn) => Target(On::Sqlite(&mut *conn)),
            ConnInner::Postgres(conn) => Target(On::Pg(&mut *conn)),
        }
    }
}

/// SQL and its values. Static SQL binds with [`Query::bind`] in `$1, $2, …` order; a query
/// built as it goes appends text with [`Query::push`] and values with [`Query::push_bind`],
/// which writes the next `$n` itself.
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until it is run"]
pub struct Query {
    sql: Cow<'static, str>,
    args: Vec<Value>,
}

/// A query from SQL text.
pub fn query(sql: impl Into<Cow<'static, str>>) -> Query {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

/// Binds every value to a sqlx query of any kind, times through `$time`: SQLite keeps them as
/// fixed-width text, PostgreSQL as timestamptz.
macro_rules! bound {
    ($query:expr, $args:expr, $time:expr) => {{
        let mut query = $query;
        for value in $args {
            query = match value {
                Value::Text(v) => query.bind(v),
                Value::Int(v) => query.bind(v),
                Value::Bool(v) => query.bind(v),
                Value::Time(v) => query.bind(v.as_ref().map($time)),
            };
        }
        query
    }};
}

/// Builds the sqlx query for the target's engine, binds the values, and runs it.
macro_rules! run {
    ($self:ident, $on:expr, $make:ident, |$q:ident, $e:ident| $call:expr) => {{
        let Query { sql, args } = $self;
        match $on.0 {
            On::SqlitePool($e) => {
                let sql = anonymous(&sql, args.len());
                let $q = bound!(sqlx::$make(&sql), args, sqlite::time_text);
                $call
            }
            On::Sqlite($e) => {
                let sql = anonymous(&sql, args.len());
                let $q = bound!(sqlx::$make(&sql), args, sqlite::time_text);
                $call
            }
            On::PgPool($e) => {
                let $q = bound!(sqlx::$make(&sql), args, |at: &DateTime<Utc>| *at);
                $call
            }
            On::Pg($e) => {
                let $q = bound!(sqlx::$make(&sql), args, |at: &DateTime<Utc>| *at);
                $call
            }
        }
    }};
}

impl Query {
    /// The next value, for the next `$n` of static SQL.
    pub fn bind(mut self, value: impl Bind) -> Self {
        self.args.push(value.into_value());
        self
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.to_mut().push_str(sql);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn push_bind(&mut self, value: impl Bind) -> &mut Self {
        self.args.push(value.into_value());
        let placeholder = format!("${}", self.args.len());
        self.sql.to_mut().push_str(&placeholder);
        self
    }

    /// Appends `$n, $n+1, …` for each value (for `IN (…)`); nothing for none. The list is
    /// padded to the next power of two by repeating its last value, which changes nothing an
    /// `IN` means but leaves the engine a handful of statement texts instead of one per
    /// length: PostgreSQL parses and plans every new text, and keeps a few per connection.
    pub fn push_list<B: Bind>(&mut self, values: impl IntoIterator<Item = B>) -> &mut Self {
        let values: Vec<Value> = values.into_iter().map(Bind::into_value).collect();
        let Some(last) = values.last().cloned() else {
            return self;
        };
        let padded = values.len().next_power_of_two();
        let padding = std::iter::repeat_n(last, padded - values.len());
        for (i, value) in values.into_iter().chain(padding).enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(value);
        }
        self
    }

    /// Appends the rows of a `VALUES` list, `(…), (…), …`, one per item, each written by `row`
    /// from the item and its position (its values separated by commas, without the
    /// parentheses). Padded like [`Query::push_list`]: `row` is then called with `None` and
    /// writes a row that matches nothing, so a batch's statement has a handful of texts
    /// whatever its size.
    pub fn push_rows<T>(
        &mut self,
        items: &[T],
        mut row: impl FnMut(&mut Query, Option<(usize, &T)>),
    ) -> &mut Self {
        let padded = items.len().next_power_of_two();
        for i in 0..padded {
            self.push(if i == 0 { "(" } else { ", (" });
            row(self, items.get(i).map(|item| (i, item)));
            self.push(")");
        }
        self
    }

    /// Runs a statement; answers how many rows it changed.
    pub async fn execute<'a>(self, on: impl Into<Target<'a>>) -> Result<u64, StorageError> {
        Ok(run!(self, on.into(), query, |q, e| q
            .execute(e)
            .await
            .map(|done| done.rows_affected()))?)
    }

    pub async fn fetch_all<'a, T: FromRow>(
        self,
        on: impl Into<Target<'a>>,
    ) -> Result<Vec<T>, StorageError> {
        Ok(run!(self, on.into(), query_as, |q, e| q
            .fetch_all(e)
            .await)?)
    }

    pub async fn fetch_optional<'a, T: FromRow>(
        self,
        on: impl Into<Target<'a>>,
    ) -> Result<Option<T>, StorageError> {
        Ok(run!(self, on.into(), query_as, |q, e| q
            .fetch_optional(e)
            .await)?)
    }

    /// The one row; a missing row is an error.
    pub async fn fetch_one<'a, T: FromRow>(
        self,
        on: impl Into<Target<'a>>,
    ) -> Result<T, StorageError> {
        Ok(run!(self, on.into(), query_as, |q, e| q
            .fetch_one(e)
            .await)?)
    }

    /// The first column of every row.
    pub async fn scalars<'a, T: Column>(
        self,
        on: impl Into<Target<'a>>,
    ) -> Result<Vec<T>, StorageError> {
        Ok(run!(self, on.into(), query_scalar, |q, e| q
            .fetch_all(e)
            .await)?)
    }

    /// The first column of the one row; a missing row is an error.
    pub async fn scalar<'a, T: Column>(self, on: impl Into<Target<'a>>) -> Result<T, StorageError> {
        Ok(run!(self, on.into(), query_scalar, |q, e| q
            .fetch_one(e)
            .await)?)
    }

    /// The first column of the first row, if there is one.
    pub async fn optional_scalar<'a, T: Column>(
        self,
        on: impl Into<Target<'a>>,
    ) -> Result<Option<T>, StorageError> {
        Ok(run!(self, on.into(), query_scalar, |q, e| q
            .fetch_optional(e)
            .await)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_values_take_the_next_placeholder() {
        let mut q = query("SELECT 1 WHERE a = $1").bind("x");
        q.push(" AND b IN (")
            .push_list([1i64, 2])
            .push(") AND c = ");
        q.push_bind(Option::<String>::None);
        assert_eq!(q.sql, "SELECT 1 WHERE a = $1 AND b IN ($2, $3) AND c = $4");
        assert_eq!(q.args.len(), 4);
        assert_eq!(q.args[3], Value::Text(None));
    }

    #[test]
    fn lists_are_padded_to_a_power_of_two_with_their_last_value() {
        let mut q = query("SELECT 1 WHERE b IN (");
        q.push_list([1i64, 2, 3]).push(")");
        assert_eq!(q.sql, "SELECT 1 WHERE b IN ($1, $2, $3, $4)");
        assert_eq!(q.args[3], Value::Int(Some(3)));
        let mut rows = query("VALUES ");
        rows.push_rows(&["a", "b", "c"], |q, item| {
            q.push_bind(item.map_or("", |(_, item)| *item));
        });
        assert_eq!(rows.sql, "VALUES ($1), ($2), ($3), ($4)");
        assert_eq!(rows.args[3], Value::Text(Some(String::new())));
        let mut empty = query("x");
        empty.push_list(Vec::<i64>::new());
        assert_eq!(empty.sql, "x");
    }
}
