//! The three SQL dialects and the [`Backend`] trait that ties each to its sqlx driver.
//!
//! Everything that differs between SQLite, PostgreSQL and MySQL lives here: identifier
//! quoting, placeholders, how an insert reports its id, bind-parameter limits, how a
//! foreign-key failure names its column, and the SQL name of a Rust type.

use std::future::Future;

use sqlx::error::{BoxDynError, DatabaseError};
use sqlx::{Database, SqlStr};

use crate::value::{DynList, DynValue, SqlType};

/// A SQL dialect habtm writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite 3.35 or newer.
    Sqlite,
    /// PostgreSQL 12 or newer.
    Postgres,
    /// MySQL 8 or MariaDB 10.5 or newer.
    MySql,
}

impl Dialect {
    /// Every dialect, in a fixed order.
    pub const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql];

    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// Appends `name` quoted as an identifier (`"name"`, or `` `name` `` on MySQL).
    ///
    /// Names are checked when the model is compiled (no quote characters, no NUL), so the
    /// quote character never needs escaping here; it is doubled anyway for names built at
    /// run time.
    pub fn quote_into(self, name: &str, out: &mut String) {
        let q = match self {
            Dialect::MySql => '`',
            Dialect::Sqlite | Dialect::Postgres => '"',
        };
        out.push(q);
        for c in name.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
    }

    /// `name` quoted as an identifier.
    pub fn quote(self, name: &str) -> String {
        let mut out = String::with_capacity(name.len() + 2);
        self.quote_into(name, &mut out);
        out
    }

    /// Appends the placeholder of the `n`-th bind parameter (1-based): `$n` or `?`.
    pub(crate) fn placeholder_into(self, n: usize, out: &mut String) {
        match self {
            Dialect::Postgres => {
                use std::fmt::Write;
                let _ = write!(out, "${n}");
            }
            Dialect::Sqlite | Dialect::MySql => out.push('?'),
        }
    }

    /// Whether `INSERT ... RETURNING` and `UPDATE ... RETURNING` are available.
    pub(crate) const fn has_returning(self) -> bool {
        matches!(self, Dialect::Sqlite | Dialect::Postgres)
    }

    /// How many places an `IN (...)` list of `n` ids gets in a statement built for one call:
    /// on MySQL, the next power of two (the last id repeated), so that few texts exist and
    /// stay in the connection's statement cache (see [`Backend::execute_once`]); elsewhere
    /// `n`.
    pub(crate) const fn padded(self, n: usize) -> usize {
        match self {
            Dialect::MySql => n.next_power_of_two(),
            Dialect::Sqlite | Dialect::Postgres => n,
        }
    }

    /// How many bind parameters one statement may carry.
    pub const fn max_binds(self) -> usize {
        match self {
            // SQLITE_MAX_VARIABLE_NUMBER of the bundled SQLite (3.32+).
            Dialect::Sqlite => 32_766,
            Dialect::Postgres | Dialect::MySql => 65_535,
        }
    }

    /// The clause that gives a selected row `lock` for the rest of the transaction; nothing on
    /// SQLite, whose transactions take the database's write lock when they begin.
    pub(crate) const fn lock_clause(self, lock: Lock) -> &'static str {
        match (self, lock) {
            (Dialect::Sqlite, _) => "",
            (Dialect::Postgres, Lock::KeyShare) => " FOR KEY SHARE",
            (Dialect::Postgres, Lock::Share) => " FOR SHARE",
            (Dialect::Postgres, Lock::Update) => " FOR NO KEY UPDATE",
            (Dialect::Postgres, Lock::Delete) => " FOR UPDATE",
            (Dialect::MySql, Lock::KeyShare | Lock::Share) => " LOCK IN SHARE MODE",
            (Dialect::MySql, Lock::Update | Lock::Delete) => " FOR UPDATE",
        }
    }

    /// `LIMIT`/`OFFSET` for a query; `None` means no bound. PostgreSQL and SQLite count rows
    /// in an `i64`: a larger bound is `i64::MAX`, which no table reaches.
    pub(crate) fn limit_offset(self, limit: Option<u64>, offset: Option<u64>, out: &mut String) {
        use std::fmt::Write;
        let fit = |n: u64| match self {
            Dialect::MySql => n,
            Dialect::Sqlite | Dialect::Postgres => n.min(i64::MAX.unsigned_abs()),
        };
        match (limit.map(fit), offset.map(fit)) {
            (None, None) => {}
            (Some(l), None) => {
                let _ = write!(out, " LIMIT {l}");
            }
            (limit, Some(o)) => {
                // SQLite and MySQL accept OFFSET only after a LIMIT.
                match (limit, self) {
                    (Some(l), _) => {
                        let _ = write!(out, " LIMIT {l}");
                    }
                    (None, Dialect::Sqlite) => out.push_str(" LIMIT -1"),
                    (None, Dialect::MySql) => out.push_str(" LIMIT 18446744073709551615"),
                    (None, Dialect::Postgres) => {}
                }
                let _ = write!(out, " OFFSET {o}");
            }
        }
    }

    /// The column type in DDL for a type whose driver calls it `driver_name`.
    ///
    /// `key` columns (primary and join keys) must be indexable: MySQL cannot index `TEXT`
    /// or `BLOB` without a length.
    pub(crate) fn ddl_type(self, driver_name: &str, key: bool) -> String {
        match (self, driver_name.to_ascii_uppercase().as_str()) {
            (Dialect::MySql, "VARCHAR" | "TEXT" | "CHAR" | "LONGTEXT" | "MEDIUMTEXT") => {
                if key { "VARCHAR(255)" } else { "TEXT" }.to_owned()
            }
            (Dialect::MySql, "BINARY" | "VARBINARY" | "BLOB" | "LONGBLOB" | "MEDIUMBLOB") => {
                if key { "VARBINARY(255)" } else { "BLOB" }.to_owned()
            }
            (Dialect::Sqlite, "NULL") => "BLOB".to_owned(),
            _ => driver_name.to_owned(),
        }
    }
}

/// How strongly an operation locks a model row it reads before writing links.
///
/// Every write takes its locks in one order: the rows of models (an owner before its targets,
/// targets in ascending id) before any row of a join table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Lock {
    /// The row may not be deleted or its key changed (a link to it is being written).
    KeyShare,
    /// As `KeyShare`, and no other transaction may take `Update` (writers of a pair on a
    /// join table without a unique key serialize on it).
    Share,
    /// The links of this owner are being rewritten: one writer at a time.
    Update,
    /// The row is being deleted.
    Delete,
}

impl Lock {
    /// Every lock, in the order of [`ModelStatements::locks`](crate::ModelStatements).
    pub(crate) const ALL: [Lock; 4] = [Lock::KeyShare, Lock::Share, Lock::Update, Lock::Delete];
}

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

    /// Appends a list of values as one array parameter; only PostgreSQL has arrays.
    fn bind_array(args: &mut Self::Arguments, values: &dyn DynList) -> Result<(), BoxDynError>;

    /// The driver's name for `T` (`INT8`, `TEXT`, `BIGINT`, ...).
    fn type_name<T: SqlType>() -> String;

    /// The column named by a foreign-key violation, where the driver says it.
    fn foreign_key_column(error: &dyn DatabaseError) -> Option<String>;
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
        module = $module:ident,
        database = $db:ty,
        arguments = $args:ty,
        dialect = $dialect:expr,
        bind_dyn = $bind_dyn:ident,
        bind_array = |$array_args:ident, $array:ident| $bind_array:expr,
        insert_id = |$result:ident| $insert_id:expr,
        fk_column = |$err:ident| $fk_column:expr $(,)?
    ) => {
        /// Marker for types the driver behind this feature encodes, decodes and names.
        pub mod $module {
            #[cfg(feature = $feature)]
            /// Implemented for every type the driver can encode, decode and name.
            pub trait Supported:
                for<'q> sqlx::Encode<'q, $db> + for<'r> sqlx::Decode<'r, $db> + sqlx::Type<$db>
            {
            }
            #[cfg(feature = $feature)]
            impl<T> Supported for T where
                T: ?Sized
                    + for<'q> sqlx::Encode<'q, $db>
                    + for<'r> sqlx::Decode<'r, $db>
                    + sqlx::Type<$db>
            {
            }
            #[cfg(not(feature = $feature))]
            /// This backend is not built in: every type qualifies.
            pub trait Supported {}
            #[cfg(not(feature = $feature))]
            impl<T: ?Sized> Supported for T {}
        }

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
    module = sqlite,
    database = sqlx::Sqlite,
    arguments = sqlx::sqlite::SqliteArguments,
    dialect = Dialect::Sqlite,
    bind_dyn = bind_sqlite,
    bind_array = |args, values| { let _ = (args, values); Err("SQLite has no array parameters".into()) },
    insert_id = |result| result.last_insert_rowid(),
    // SQLite reports "FOREIGN KEY constraint failed" and nothing more.
    fk_column = |error| { let _ = error; None },
}

backend! {
    feature = "postgres",
    module = postgres,
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
    module = mysql,
    database = sqlx::MySql,
    arguments = sqlx::mysql::MySqlArguments,
    dialect = Dialect::MySql,
    bind_dyn = bind_mysql,
    bind_array = |args, values| { let _ = (args, values); Err("MySQL has no array parameters".into()) },
    insert_id = |result| result.last_insert_id() as i64,
    // ... CONSTRAINT `x` FOREIGN KEY (`part_id`) REFERENCES `Part` (`id`) ...
    fk_column = |error| between(error.message(), "FOREIGN KEY (`", "`)").map(str::to_owned),
}
