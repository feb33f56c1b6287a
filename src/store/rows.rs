//! Loading rows without diesel-async's owned copy on SQLite.
//!
//! diesel-async runs a SQLite query on a blocking thread and hands every row back as an
//! owned copy: `sqlite3_value_dup` of each column (an allocation for the value and one for
//! its text), built into the row type later on the async side and freed there, on another
//! thread. On the 100,000-integration list page that copy was a third of the server's CPU
//! (bench/README.md). [`LoadRows::load_rows`] builds the row type on the blocking thread
//! straight from SQLite's columns instead; PostgreSQL keeps diesel-async's load.

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::connection::LoadConnection;
use diesel::deserialize::FromSqlRow;
use diesel::expression::QueryMetadata;
use diesel::pg::Pg;
use diesel::query_builder::{
    CollectedQuery, MoveableBindCollector, Query, QueryBuilder, QueryFragment, QueryId,
};
use diesel::query_dsl::CompatibleType;
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel_async::AsyncPgConnection;

use super::SqliteConn;

/// A connection that loads a query's rows as `U`.
pub(crate) trait LoadRows {
    type Db: Backend;

    /// The bounds are diesel-async's own for `load`.
    fn load_rows<Q, U, ST>(
        &mut self,
        query: Q,
    ) -> impl std::future::Future<Output = QueryResult<Vec<U>>> + Send
    where
        Q: Query + QueryFragment<Self::Db> + QueryId + Send,
        Q::SqlType: CompatibleType<U, Self::Db, SqlType = ST>,
        Self::Db: QueryMetadata<Q::SqlType>,
        U: FromSqlRow<ST, Self::Db> + Send + 'static,
        ST: 'static;
}

impl LoadRows for AsyncPgConnection {
    type Db = Pg;

    async fn load_rows<Q, U, ST>(&mut self, query: Q) -> QueryResult<Vec<U>>
    where
        Q: Query + QueryFragment<Pg> + QueryId + Send,
        Q::SqlType: CompatibleType<U, Pg, SqlType = ST>,
        Pg: QueryMetadata<Q::SqlType>,
        U: FromSqlRow<ST, Pg> + Send + 'static,
        ST: 'static,
    {
        diesel_async::RunQueryDsl::load(query, self).await
    }
}

impl LoadRows for SqliteConn {
    type Db = Sqlite;

    async fn load_rows<Q, U, ST>(&mut self, query: Q) -> QueryResult<Vec<U>>
    where
        Q: Query + QueryFragment<Sqlite> + QueryId + Send,
        Q::SqlType: CompatibleType<U, Sqlite, SqlType = ST>,
        Sqlite: QueryMetadata<Q::SqlType>,
        U: FromSqlRow<ST, Sqlite> + Send + 'static,
        ST: 'static,
    {
        // The SQL text and the bound values, owned, so the blocking task can take them
        // (what diesel-async itself does before it runs a query).
        let backend = Sqlite;
        let mut binds = <Sqlite as Backend>::BindCollector::default();
        query.collect_binds(&mut binds, &mut (), &backend)?;
        let bind_data = binds.moveable();
        let mut builder = <Sqlite as Backend>::QueryBuilder::default();
        query.to_sql(&mut builder, &backend)?;
        let sql = builder.finish();
        let cacheable = query.is_safe_to_cache_prepared(&backend)?;
        self.spawn_blocking(move |conn| {
            // Same SQL and safety flag: diesel's statement cache keys it as before.
            load_collected::<U, ST, _>(conn, CollectedQuery::new(sql, cacheable, bind_data))
        })
        .await
    }
}

/// Runs a collected query and builds each row, borrowed, into `U`. Outside `load_rows` so
/// the untyped query's bounds do not meet that function's where clause.
fn load_collected<U, ST, D>(
    conn: &mut SqliteConnection,
    query: CollectedQuery<D>,
) -> QueryResult<Vec<U>>
where
    CollectedQuery<D>: QueryFragment<Sqlite>,
    U: FromSqlRow<ST, Sqlite>,
{
    let mut out = Vec::new();
    for row in LoadConnection::load(conn, query)? {
        out.push(U::build_from_row(&row?).map_err(diesel::result::Error::DeserializationError)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};

    use super::LoadRows;
    use crate::store::SqliteConn;

    diesel::table! {
        samples (id) {
            id -> Text,
            label -> Nullable<Text>,
            amount -> BigInt,
            ratio -> Double,
            flag -> Bool,
            at -> Timestamp,
        }
    }

    #[derive(Debug, PartialEq, Queryable, Selectable)]
    #[diesel(table_name = samples, check_for_backend(diesel::sqlite::Sqlite))]
    struct Sample {
        id: String,
        label: Option<String>,
        amount: i64,
        ratio: f64,
        flag: bool,
        at: chrono::NaiveDateTime,
    }

    /// The direct path builds exactly what diesel-async's owned rows build: every column
    /// type the store uses, NULLs, empty and non-ASCII text, extreme integers, bound
    /// filters, a LIMIT, boxed and plain queries, a count, and errors for bad SQL.
    #[tokio::test]
    async fn sqlite_rows_load_as_diesel_async_loads_them() {
        let mut conn = SqliteConn::establish(":memory:").await.unwrap();
        conn.batch_execute(
            "CREATE TABLE samples (id TEXT PRIMARY KEY, label TEXT, amount BIGINT NOT NULL, \
             ratio DOUBLE NOT NULL, flag BOOLEAN NOT NULL, at TIMESTAMP NOT NULL)",
        )
        .await
        .unwrap();
        let labels = [
            None,
            Some(""),
            Some("plain"),
            Some("ünïcödé ✓"),
            Some("a\"b'c\\d%_"),
        ];
        let base = chrono::DateTime::from_timestamp(1_700_000_000, 123_456_000)
            .unwrap()
            .naive_utc();
        for i in 0..200_i64 {
            let amount = match i % 4 {
                0 => i64::MIN + i,
                1 => i64::MAX - i,
                _ => i * 7 - 500,
            };
            diesel::insert_into(samples::table)
                .values((
                    samples::id.eq(format!("s{i:04}")),
                    samples::label.eq(labels[usize::try_from(i).unwrap() % labels.len()]),
                    samples::amount.eq(amount),
                    samples::ratio.eq(f64::from(i32::try_from(i).unwrap()) / 3.0),
                    samples::flag.eq(i % 3 == 0),
                    samples::at.eq(base + chrono::Duration::microseconds(i * 1_001)),
                ))
                .execute(&mut conn)
                .await
                .unwrap();
        }

        let boxed = || {
            samples::table
                .into_boxed()
                .filter(samples::flag.eq(false))
                .filter(samples::id.gt("s0010".to_owned()))
                .order(samples::id.asc())
                .limit(51)
                .select(Sample::as_select())
        };
        let direct: Vec<Sample> = conn.load_rows(boxed()).await.unwrap();
        let owned: Vec<Sample> = boxed().load(&mut conn).await.unwrap();
        assert_eq!(direct.len(), 51);
        assert_eq!(direct, owned);

        let all = || samples::table.select(Sample::as_select());
        let direct: Vec<Sample> = conn.load_rows(all()).await.unwrap();
        assert_eq!(direct.len(), 200);
        assert_eq!(direct, all().load(&mut conn).await.unwrap());

        let counted: Vec<i64> = conn
            .load_rows(samples::table.filter(samples::label.is_null()).count())
            .await
            .unwrap();
        assert_eq!(counted, vec![40]);

        let none: Vec<Sample> = conn
            .load_rows(all().filter(samples::id.eq("missing")))
            .await
            .unwrap();
        assert!(none.is_empty());

        let bad = conn
            .load_rows::<_, i64, _>(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "SELECT nope FROM samples",
            ))
            .await;
        assert!(bad.is_err());
    }
}
