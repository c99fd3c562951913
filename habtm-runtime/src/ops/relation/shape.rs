//! Whether a join table holds each pair at most once, read from the database's catalog.
//!
//! With a primary or unique key on the two key columns (every table `Schema` creates), a link
//! is written by one statement that ignores an existing pair. Without one (LoopBack's own join
//! tables, with an `id` and nothing unique), that statement could store a pair twice under
//! concurrency, so writes first lock both rows of each pair they write, and writers of one
//! pair take turns (SQLite's writers always take turns). Reads of a table with the key join
//! it directly; without one they go through a semi-join, which returns a pair stored twice
//! once.

use std::sync::atomic::Ordering;

use sqlx::{AssertSqlSafe, SqlSafeStr};

use crate::backend::Backend;
use crate::backend::bind;
use crate::def::{JSON_TABLE, KNOWN, RelationDef, TARGET_REFERENCED, UNIQUE, UNKNOWN};
use crate::dialect::Dialect;
use crate::error::{Context, Op, Result};
use crate::statement;

/// PostgreSQL: whether the table exists; whether a valid, immediate, non-partial unique
/// index covers only the two key columns (`$1` the quoted table name, `$2` and `$3` the
/// keys); and whether a foreign key runs from the target's key alone to the target's table
/// (`$4`, quoted).
const POSTGRES: &str = "SELECT to_regclass($1) IS NOT NULL, EXISTS (SELECT 1 FROM pg_index AS i \
     WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indimmediate AND i.indisvalid \
     AND i.indpred IS NULL AND i.indexprs IS NULL AND NOT EXISTS (SELECT 1 FROM \
     unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) AS k(attnum) LEFT JOIN pg_attribute AS a \
     ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
     WHERE a.attname IS NULL OR a.attname NOT IN ($2, $3))), \
     EXISTS (SELECT 1 FROM pg_constraint AS c JOIN pg_attribute AS a \
     ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
     WHERE c.conrelid = to_regclass($1) AND c.contype = 'f' AND cardinality(c.conkey) = 1 \
     AND a.attname = $3 AND c.confrelid = to_regclass($4))";

/// MySQL: how many tables have that name in the current database, how many unique indexes
/// of it cover only the two key columns, and the server's version.
const MYSQL: &str = "SELECT (SELECT COUNT(*) FROM information_schema.tables \
     WHERE table_schema = DATABASE() AND table_name = ?), (SELECT COUNT(*) FROM \
     (SELECT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() \
     AND table_name = ? AND non_unique = 0 GROUP BY index_name \
     HAVING SUM(column_name NOT IN (?, ?)) = 0) AS u), VERSION()";

/// SQLite: whether the table exists, and whether a unique, non-partial index covers only the
/// two key columns (`?1` the table, `?2` and `?3` the keys).
const SQLITE: &str = "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1), \
     EXISTS (SELECT 1 FROM pragma_index_list(?1) AS l WHERE l.\"unique\" = 1 AND l.partial = 0 \
     AND NOT EXISTS (SELECT 1 FROM pragma_index_info(l.name) AS i \
     WHERE i.name IS NULL OR i.name NOT IN (?2, ?3)))";

impl RelationDef {
    /// Whether writes of links must lock both rows of each pair first: the join table has no
    /// unique key on the pair. Asked of the catalog on first use, then kept; a table that does
    /// not exist yet is asked about again next time.
    pub(super) async fn guarded<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        op: Op,
    ) -> Result<bool> {
        if DB::DIALECT == Dialect::Sqlite {
            return Ok(false);
        }
        Ok(!self.unique::<DB>(conn, op).await?)
    }

    /// Whether the join table has a unique key on the pair, so that it holds each pair at
    /// most once. Asked of the catalog on first use, then kept; a table that does not exist
    /// yet is asked about again next time.
    pub(super) async fn unique<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        op: Op,
    ) -> Result<bool> {
        Ok(self.shape::<DB>(conn, op).await? & UNIQUE != 0)
    }

    /// PostgreSQL: whether a foreign key checks that each target of a link exists, taking
    /// the same lock on its row as habtm's writes would (`FOR KEY SHARE`).
    pub(super) async fn target_referenced<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        op: Op,
    ) -> Result<bool> {
        Ok(self.shape::<DB>(conn, op).await? & TARGET_REFERENCED != 0)
    }

    /// MySQL: whether the server reads a JSON text as a table (`JSON_TABLE`, MariaDB 10.6 and
    /// MySQL 8.0.4 on), so that a list of ids is one parameter.
    pub(crate) async fn json_table<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        op: Op,
    ) -> Result<bool> {
        Ok(self.shape::<DB>(conn, op).await? & JSON_TABLE != 0)
    }

    /// What the catalog shows of the join table, as flags: read on first use, then kept.
    async fn shape<DB: Backend>(&self, conn: &mut DB::Connection, op: Op) -> Result<u8> {
        let shape = &statement::relation(self, DB::DIALECT).shape;
        let known = shape.0.load(Ordering::Relaxed);
        if known != UNKNOWN {
            return Ok(known);
        }
        let table = self.table();
        let mut args = DB::Arguments::default();
        let sql = match DB::DIALECT {
            Dialect::Postgres => {
                bind::<DB, _>(&mut args, &DB::DIALECT.quote(table))?;
                POSTGRES
            }
            Dialect::Sqlite => {
                bind::<DB, _>(&mut args, &table.to_owned())?;
                SQLITE
            }
            Dialect::MySql => {
                bind::<DB, _>(&mut args, &table.to_owned())?;
                bind::<DB, _>(&mut args, &table.to_owned())?;
                MYSQL
            }
        };
        bind::<DB, _>(&mut args, &self.owner_key.to_owned())?;
        bind::<DB, _>(&mut args, &self.target_key.to_owned())?;
        if DB::DIALECT == Dialect::Postgres {
            bind::<DB, _>(&mut args, &DB::DIALECT.quote((self.target)().table))?;
        }
        let sql = AssertSqlSafe(sql).into_sql_str();
        let row = DB::fetch_optional(conn, sql, args).await.at(op)?;
        let (exists, unique, referenced, json_table) = match row {
            Some(row) if DB::DIALECT == Dialect::Postgres => (
                DB::get::<bool>(&row, 0).at(op)?,
                DB::get::<bool>(&row, 1).at(op)?,
                DB::get::<bool>(&row, 2).at(op)?,
                false,
            ),
            Some(row) if DB::DIALECT == Dialect::Sqlite => (
                DB::get::<bool>(&row, 0).at(op)?,
                DB::get::<bool>(&row, 1).at(op)?,
                false,
                false,
            ),
            Some(row) => (
                DB::get::<i64>(&row, 0).at(op)? > 0,
                DB::get::<i64>(&row, 1).at(op)? > 0,
                false,
                has_json_table(&DB::get::<String>(&row, 2).at(op)?),
            ),
            None => (false, false, false, false),
        };
        let found = KNOWN
            | if unique { UNIQUE } else { 0 }
            | if referenced { TARGET_REFERENCED } else { 0 }
            | if json_table { JSON_TABLE } else { 0 };
        if !exists {
            // Asked again next time: the table may be created meanwhile.
            return Ok(found);
        }
        let _ = shape
            .0
            .compare_exchange(UNKNOWN, found, Ordering::Relaxed, Ordering::Relaxed);
        Ok(found)
    }
}

/// Whether a MySQL server of this `VERSION()` has `JSON_TABLE`: MariaDB from 10.6
/// (`10.11.19-MariaDB-0+deb12u1`, or behind the `5.5.5-` that older clients are shown), MySQL
/// from 8.0.4.
fn has_json_table(version: &str) -> bool {
    let version = version.strip_prefix("5.5.5-").unwrap_or(version);
    let mut numbers = version
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let release = [(); 3].map(|()| numbers.next().unwrap_or(0));
    let first = if version.contains("MariaDB") {
        [10, 6, 0]
    } else {
        [8, 0, 4]
    };
    release >= first
}

#[cfg(test)]
mod tests {
    use super::has_json_table;

    #[test]
    fn json_table_by_server_version() {
        assert!(has_json_table("10.11.19-MariaDB-0+deb12u1"));
        assert!(has_json_table("5.5.5-10.6.1-MariaDB"));
        assert!(has_json_table("11.4.2-MariaDB"));
        assert!(!has_json_table("10.5.23-MariaDB-log"));
        assert!(has_json_table("8.0.36"));
        assert!(has_json_table("8.4.0-commercial"));
        assert!(!has_json_table("8.0.3-rc-log"));
        assert!(!has_json_table("5.7.44"));
    }
}
