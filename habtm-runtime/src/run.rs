//! Running a statement built for one call (a filter's), with the long value lists it reads
//! from temporary tables on SQLite and MySQL.

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use crate::backend::Backend;
use crate::dialect::Dialect;
use crate::sql::{SqlWriter, TempList};

/// Rows a statement returns; the statement stays prepared on the connection for its next
/// run with the same text.
pub(crate) async fn fetch_all<DB: Backend>(
    conn: &mut DB::Connection,
    w: SqlWriter,
    args: DB::Arguments,
) -> Result<Vec<DB::Row>, sqlx::Error> {
    let (sql, lists) = w.into_parts();
    if lists.is_empty() {
        return DB::fetch_all(conn, text(sql), args).await;
    }
    fill::<DB>(conn, &lists).await?;
    let rows = DB::fetch_all_once(conn, text(sql), args).await;
    drop_lists::<DB>(conn, &lists).await;
    rows
}

/// Rows a statement returns, not kept prepared: for a text that depends on how many ids it
/// carries, which PostgreSQL would otherwise plan generically after five runs.
pub(crate) async fn fetch_all_once<DB: Backend>(
    conn: &mut DB::Connection,
    w: SqlWriter,
    args: DB::Arguments,
) -> Result<Vec<DB::Row>, sqlx::Error> {
    let (sql, lists) = w.into_parts();
    fill::<DB>(conn, &lists).await?;
    let rows = DB::fetch_all_once(conn, text(sql), args).await;
    drop_lists::<DB>(conn, &lists).await;
    rows
}

/// The first row a statement returns, if any.
pub(crate) async fn fetch_optional<DB: Backend>(
    conn: &mut DB::Connection,
    w: SqlWriter,
    args: DB::Arguments,
) -> Result<Option<DB::Row>, sqlx::Error> {
    let (sql, lists) = w.into_parts();
    if lists.is_empty() {
        return DB::fetch_optional(conn, text(sql), args).await;
    }
    fill::<DB>(conn, &lists).await?;
    let rows = DB::fetch_all_once(conn, text(sql), args).await;
    drop_lists::<DB>(conn, &lists).await;
    Ok(rows?.into_iter().next())
}

/// Runs a statement that returns no rows; how many rows it changed.
#[cfg(feature = "rest")]
pub(crate) async fn execute<DB: Backend>(
    conn: &mut DB::Connection,
    w: SqlWriter,
    args: DB::Arguments,
) -> Result<u64, sqlx::Error> {
    let (sql, lists) = w.into_parts();
    if lists.is_empty() {
        return DB::execute(conn, text(sql), args).await;
    }
    fill::<DB>(conn, &lists).await?;
    let changed = DB::execute_once(conn, text(sql), args).await;
    drop_lists::<DB>(conn, &lists).await;
    changed
}

fn text(sql: String) -> SqlStr {
    AssertSqlSafe(sql).into_sql_str()
}

/// Most rows one `INSERT` into a temporary list writes.
const FILL_ROWS: usize = 10_000;

/// Creates and fills the temporary tables of `lists`; on failure, drops those it made.
async fn fill<DB: Backend>(
    conn: &mut DB::Connection,
    lists: &[TempList],
) -> Result<(), sqlx::Error> {
    for (made, list) in lists.iter().enumerate() {
        if let Err(error) = fill_one::<DB>(conn, list).await {
            drop_lists::<DB>(conn, &lists[..=made]).await;
            return Err(error);
        }
    }
    Ok(())
}

async fn fill_one<DB: Backend>(
    conn: &mut DB::Connection,
    list: &TempList,
) -> Result<(), sqlx::Error> {
    // A call that was cancelled may have left the table behind.
    drop_lists::<DB>(conn, std::slice::from_ref(list)).await;
    let dialect = DB::DIALECT;
    let mut w = SqlWriter::new(dialect);
    w.push(match dialect {
        Dialect::MySql => "CREATE TEMPORARY TABLE ",
        Dialect::Sqlite | Dialect::Postgres => "CREATE TEMP TABLE ",
    });
    w.ident(&list.table).push(" (").ident("v").push(" ");
    w.push(&list.column_type).push(")");
    DB::execute_once(conn, text(w.finish()), DB::Arguments::default()).await?;
    let values = &list.values;
    let rows = FILL_ROWS.min(dialect.max_binds());
    for start in (0..values.len()).step_by(rows) {
        let end = (start + rows).min(values.len());
        let mut w = SqlWriter::new(dialect);
        w.push("INSERT INTO ").ident(&list.table).push(" (");
        w.ident("v").push(") VALUES ");
        let mut args = DB::Arguments::default();
        for i in start..end {
            if i > start {
                w.push(", ");
            }
            w.push("(").param().push(")");
            DB::bind_dyn(&mut args, values.item(i)).map_err(sqlx::Error::Encode)?;
        }
        DB::execute_once(conn, text(w.finish()), args).await?;
    }
    Ok(())
}

/// Drops the temporary tables of `lists`. A failure leaves a table that the connection drops
/// when it closes; the statement's own result is what the caller needs.
async fn drop_lists<DB: Backend>(conn: &mut DB::Connection, lists: &[TempList]) {
    for list in lists {
        let mut w = SqlWriter::new(DB::DIALECT);
        w.push(match DB::DIALECT {
            Dialect::MySql => "DROP TEMPORARY TABLE IF EXISTS ",
            Dialect::Sqlite | Dialect::Postgres => "DROP TABLE IF EXISTS temp.",
        });
        w.ident(&list.table);
        let _ = DB::execute_once(conn, text(w.finish()), DB::Arguments::default()).await;
    }
}
