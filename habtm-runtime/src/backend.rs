//! The [`Backend`] trait that ties each [`Dialect`] to its sqlx driver: running statements,
//! binding and decoding values, how an insert reports its id, how a foreign-key failure
//! names its column, and the SQL name of a Rust type.

use std::future::Future;

use sqlx::error::{BoxDynError, DatabaseError};
use sqlx::{Database, SqlStr};

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::value::{DynList, DynValue, SqlType};

/// A database habtm can run on: a sqlx driver together with its [`Dialect`].
///
/// Implemented for `sqlx::Sqlite`, `sqlx::Postgres` and `sqlx::MySql` when the matching
/// feature (`sqlite`, `postgres`, `mysql`) is on. Generic code reaches the driver only
/// through these methods, so it needs no higher-ranked executor bounds.
pub trait Backend: Database + sealed::Sealed {
    /// The dialect of SQL this driver speaks.
    const DIALECT: Dialect;

    /// Runs a statement and returns how many rows it changed.
    fn execute<'c>(
        conn: &'c mut Self::Connection,
        sql: SqlStr,
        args: Self::Arguments,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c;

    /// Runs a statement built for one call (its text depends on how many ids it carries).
    ///
    /// PostgreSQL and SQLite do not keep it prepared: PostgreSQL would otherwise switch such a
    /// statement to a generic plan after five runs, and check a long `IN (...)` list row by
    /// row. MySQL keeps it, in the connection's statement cache: sqlx closes an unkept
    /// statement with a packet the server does not answer, which holds the next request back
    /// by TCP's delayed acknowledgement (40 ms); [`Dialect::padded`] keeps the number of such
    /// texts small.
    fn execute_once<'c>(
        conn: &'c mut Self::Connection,
        sql: SqlStr,
        args: Self::Arguments,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c;

    /// [`fetch_all`](Self::fetch_all) for a statement built for one call; see
    /// [`execute_once`](Self::execute_once).
    fn fetch_all_once<'c>(
        conn: &'c mut Self::Connection,
        sql: SqlStr,
        args: Self::Arguments,
    ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send + 'c;

    /// Runs an `INSERT` and returns the id the database generated for it.
    fn insert_returning_id<'c>(
        conn: &'c mut Self::Connection,
        sql: SqlStr,
        args: Self::Arguments,
    ) -> impl Future<Output = Result<i64, sqlx::Error>> + Send + 'c;

    /// Runs a query on `executor` and returns its rows as they arrive.
    fn fetch_stream<'e, E>(
        executor: E,
        sql: SqlStr,
        args: Self::Arguments,
    ) -> futures_core::stream::BoxStream<'e, Result<Self::Row, sqlx::Error>>
    where
        E: sqlx::Executor<'e, Database = Self> + 'e;

    /// Runs a query and returns all its rows.
    fn fetch_all<'c>(
        conn: &'c mut Self::Connection,
        sql: SqlStr,
        args: Self::Arguments,
    ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send + 'c;

    /// Runs a query and returns its first row, if any.
    fn fetch_optional<'c>(
        conn: &'c mut Self::Connection,
        sql: SqlStr,
        args: Self::Arguments,
    ) -> impl Future<Output = Result<Option<Self::Row>, sqlx::Error>> + Send + 'c;

    /// Runs a fixed statement with the driver's text protocol (no parameters, not prepared):
    /// for statements MySQL cannot prepare, such as `START TRANSACTION READ ONLY`.
    fn execute_raw<'c>(
        conn: &'c mut Self::Connection,
        sql: &'static str,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c;

    /// Decodes column `index` of `row`.
    fn get<T: SqlType>(row: &Self::Row, index: usize) -> Result<T, sqlx::Error>;

    /// Appends a bind parameter.
    fn bind<T: SqlType>(args: &mut Self::Arguments, value: &T) -> Result<(), BoxDynError>;

    /// Appends a bind parameter held by a filter.
    fn bind_dyn(args: &mut Self::Arguments, value: &dyn DynValue) -> Result<(), BoxDynError>;

    /// Appends a list of values as one parameter: an array on PostgreSQL, a JSON text on
    /// SQLite (integers and text only); MySQL takes none.
    fn bind_array(args: &mut Self::Arguments, values: &dyn DynList) -> Result<(), BoxDynError>;

    /// The driver's name for `T` (`INT8`, `TEXT`, `BIGINT`, ...).
    fn type_name<T: SqlType>() -> String;

    /// The column named by a foreign-key violation, where the driver says it.
    fn foreign_key_column(error: &dyn DatabaseError) -> Option<String>;
}

/// Binds one value, turning an encoding failure into an [`Error`].
pub(crate) fn bind<DB: Backend, T: SqlType>(args: &mut DB::Arguments, value: &T) -> Result<()> {
    DB::bind(args, value).map_err(Error::encode)
}

/// Arguments holding just `value`.
pub(crate) fn args_of<DB: Backend, T: SqlType>(value: &T) -> Result<DB::Arguments> {
    let mut args = DB::Arguments::default();
    bind::<DB, T>(&mut args, value)?;
    Ok(args)
}

mod sealed {
    pub trait Sealed {}
}

/// Text between `start` and the next `end` in `haystack`.
#[allow(dead_code)]
fn between<'a>(haystack: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = haystack.find(start)? + start.len();
    let len = haystack[from..].find(end)?;
    Some(&haystack[from..from + len])
}

/// Implements [`Backend`] for one sqlx driver; the drivers differ only in the pieces passed.
macro_rules! backend {
    (
        feature = $feature:literal,
        database = $db:ty,
        arguments = $args:ty,
        dialect = $dialect:expr,
        bind_dyn = $bind_dyn:ident,
        bind_array = |$array_args:ident, $array:ident| $bind_array:expr,
        insert_id = |$result:ident| $insert_id:expr,
        fk_column = |$err:ident| $fk_column:expr $(,)?
    ) => {
        #[cfg(feature = $feature)]
        impl sealed::Sealed for $db {}

        #[cfg(feature = $feature)]
        impl Backend for $db {
            const DIALECT: Dialect = $dialect;

            fn execute<'c>(
                conn: &'c mut Self::Connection,
                sql: SqlStr,
                args: $args,
            ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c {
                async move {
                    let result = sqlx::query_with(sql, args).execute(conn).await?;
                    Ok(result.rows_affected())
                }
            }

            fn execute_once<'c>(
                conn: &'c mut Self::Connection,
                sql: SqlStr,
                args: $args,
            ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c {
                async move {
                    let result = sqlx::query_with(sql, args)
                        .persistent($dialect == Dialect::MySql)
                        .execute(conn)
                        .await?;
                    Ok(result.rows_affected())
                }
            }

            fn fetch_all_once<'c>(
                conn: &'c mut Self::Connection,
                sql: SqlStr,
                args: $args,
            ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send + 'c {
                sqlx::query_with(sql, args)
                    .persistent($dialect == Dialect::MySql)
                    .fetch_all(conn)
            }

            fn insert_returning_id<'c>(
                conn: &'c mut Self::Connection,
                sql: SqlStr,
                args: $args,
            ) -> impl Future<Output = Result<i64, sqlx::Error>> + Send + 'c {
                async move {
                    let $result = sqlx::query_with(sql, args).execute(conn).await?;
                    Ok($insert_id)
                }
            }

            fn fetch_stream<'e, E>(
                executor: E,
                sql: SqlStr,
                args: $args,
            ) -> futures_core::stream::BoxStream<'e, Result<Self::Row, sqlx::Error>>
            where
                E: sqlx::Executor<'e, Database = Self> + 'e,
            {
                sqlx::query_with(sql, args).fetch(executor)
            }

            fn fetch_all<'c>(
                conn: &'c mut Self::Connection,
                sql: SqlStr,
                args: $args,
            ) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send + 'c {
                sqlx::query_with(sql, args).fetch_all(conn)
            }

            fn fetch_optional<'c>(
                conn: &'c mut Self::Connection,
                sql: SqlStr,
                args: $args,
            ) -> impl Future<Output = Result<Option<Self::Row>, sqlx::Error>> + Send + 'c {
                sqlx::query_with(sql, args).fetch_optional(conn)
            }

            fn execute_raw<'c>(
                conn: &'c mut Self::Connection,
                sql: &'static str,
            ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c {
                async move {
                    let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(conn)
                        .await?;
                    Ok(result.rows_affected())
                }
            }

            fn get<T: SqlType>(row: &Self::Row, index: usize) -> Result<T, sqlx::Error> {
                sqlx::Row::try_get(row, index)
            }

            fn bind<T: SqlType>(args: &mut $args, value: &T) -> Result<(), BoxDynError> {
                sqlx::Arguments::add(args, value)
            }

            fn bind_dyn(args: &mut $args, value: &dyn DynValue) -> Result<(), BoxDynError> {
                value.$bind_dyn(args)
            }

            fn bind_array(
                $array_args: &mut $args,
                $array: &dyn DynList,
            ) -> Result<(), BoxDynError> {
                $bind_array
            }

            fn type_name<T: SqlType>() -> String {
                sqlx::TypeInfo::name(&<T as sqlx::Type<$db>>::type_info()).to_owned()
            }

            fn foreign_key_column($err: &dyn DatabaseError) -> Option<String> {
                $fk_column
            }
        }
    };
}

backend! {
    feature = "sqlite",
    database = sqlx::Sqlite,
    arguments = sqlx::sqlite::SqliteArguments,
    dialect = Dialect::Sqlite,
    bind_dyn = bind_sqlite,
    bind_array = |args, values| {
        // SQLite has no arrays: the list travels as one JSON text, which the statement reads
        // with `json_each`.
        let json = crate::value::json_array(values).ok_or("a list SQLite cannot take as JSON")?;
        sqlx::Arguments::add(args, json)
    },
    insert_id = |result| result.last_insert_rowid(),
    // SQLite reports "FOREIGN KEY constraint failed" and nothing more.
    fk_column = |error| { let _ = error; None },
}

backend! {
    feature = "postgres",
    database = sqlx::Postgres,
    arguments = sqlx::postgres::PgArguments,
    dialect = Dialect::Postgres,
    bind_dyn = bind_postgres,
    bind_array = |args, values| values.bind_postgres_array(args),
    // Ids come back through RETURNING on PostgreSQL; this path is never taken.
    insert_id = |result| { let _ = result; 0 },
    // detail: Key (part_id)=(42) is not present in table "Part".
    fk_column = |error| {
        let detail = error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?.detail()?;
        between(detail, "Key (", ")=").map(str::to_owned)
    },
}

backend! {
    feature = "mysql",
    database = sqlx::MySql,
    arguments = sqlx::mysql::MySqlArguments,
    dialect = Dialect::MySql,
    bind_dyn = bind_mysql,
    bind_array = |args, values| {
        // MySQL has no arrays: the list travels as one JSON text, which the statement reads
        // with `JSON_TABLE`.
        let json = crate::value::json_array(values).ok_or("a list MySQL cannot take as JSON")?;
        sqlx::Arguments::add(args, json)
    },
    insert_id = |result| result.last_insert_id() as i64,
    // ... CONSTRAINT `x` FOREIGN KEY (`part_id`) REFERENCES `Part` (`id`) ...
    fk_column = |error| between(error.message(), "FOREIGN KEY (`", "`)").map(str::to_owned),
}
