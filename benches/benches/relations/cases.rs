//! Every case, for each sqlx driver: the data set, habtm's call, the same SQL written by hand
//! with sqlx, and SeaORM's way of doing it.
//!
//! The hand-written code is concrete for each driver (sqlx's result types have no common
//! trait), so the module is written once in a macro and instantiated for SQLite,
//! PostgreSQL and MySQL (where only habtm and SeaORM run).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use habtm::{Filter, Schema};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, LoaderTrait, ModelTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SelectExt, TransactionTrait,
};
use sqlx::{AssertSqlSafe, Row};

use crate::capture;
use crate::entities::{assembly, assembly_part, part};
use crate::harness::{Batch, Case, CaseResult, Result, Stopwatch, measure, run};
use crate::sql::{Sql, arrays, json};
use crate::{Assembly, NewPart, Part};

/// Parts in the table: enough for `add_many` of 100,000.
const PARTS: i64 = 110_000;
/// Assemblies loaded eagerly, each linked to [`EAGER_PARTS`] of the first 10,000 parts.
const EAGER_OWNERS: i64 = 1_000;
const EAGER_PARTS: i64 = 20;
/// The assemblies the other cases work on (after the eager ones).
const A_ADD: i64 = 1_001;
const A_FIND: i64 = 1_002;
const A_SET: i64 = 1_003;
const A_BULK: i64 = 1_004;
const A_LOOP: i64 = 1_005;
const A_CREATE: i64 = 1_006;
const ASSEMBLIES: i64 = 1_006;
/// `A_FIND` is linked to 100 parts spread over the first 10,000.
const FIND_LINKS: i64 = 100;
/// `A_SET` is linked to the 10,000 parts from `SET_FIRST` on.
const SET_LINKS: i64 = 10_000;
const SET_FIRST: i64 = 10_001;
/// Parts linked to nobody when a case starts: `add`, `remove`, the add loop, `set`'s new ones.
const FRESH_FIRST: i64 = 20_001;
const FRESH: usize = 1_000;
/// `add_many` links `A_BULK` to the 100,000 parts from `BULK_FIRST` on.
const BULK_LINKS: i64 = 100_000;
const BULK_FIRST: i64 = 10_001;
/// Rows in one multi-row statement, as habtm writes them (its `MAX_CHUNK_ROWS`).
const CHUNK: usize = 10_000;

const SINGLE_SAMPLES: usize = 41;

/// The name of every case, in report order.
pub const KEYS: [&str; 21] = [
    "add",
    "remove",
    "exists",
    "count",
    "find",
    "find_by_id",
    "create",
    "eager",
    "eager_m2m",
    "n_plus_1",
    "add_many",
    "add_many_best",
    "add_many_same",
    "add_loop",
    "set_1",
    "set_0",
    "set_10",
    "set_100",
    "set_10_best",
    "set_100_best",
    "ids",
];

fn fresh_parts(n: usize) -> Vec<i64> {
    (FRESH_FIRST..).take(n).collect()
}

fn find_parts() -> Vec<i64> {
    (0..FIND_LINKS).map(|k| k * 100 + 1).collect()
}

fn set_list(changed: i64) -> Vec<i64> {
    (SET_FIRST + changed..SET_FIRST + SET_LINKS)
        .chain(FRESH_FIRST..FRESH_FIRST + changed)
        .collect()
}

fn bulk_parts() -> Vec<i64> {
    (BULK_FIRST..BULK_FIRST + BULK_LINKS).collect()
}

fn check(what: &str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(format!("{what}: expected {expected}, got {got}").into())
    }
}

/// What a backend's run produced.
pub struct BackendResult {
    pub label: String,
    pub notes: Vec<String>,
    pub results: Vec<CaseResult>,
}

/// Binding a list of ids as one parameter: a PostgreSQL array, or a JSON text on SQLite.
trait BindIds<'q>: Sized {
    fn bind_ids(self, ids: &'q [i64]) -> Self;
}

impl<'q> BindIds<'q> for sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    fn bind_ids(self, ids: &'q [i64]) -> Self {
        self.bind(ids)
    }
}

impl<'q> BindIds<'q> for sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    /// SQLite has no arrays: the ids travel as one JSON text, read with `json_each`.
    fn bind_ids(self, ids: &'q [i64]) -> Self {
        self.bind(json_ids(ids))
    }
}

impl<'q> BindIds<'q> for sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments> {
    /// MySQL has no arrays: the ids travel as one JSON text, read with `JSON_TABLE`.
    fn bind_ids(self, ids: &'q [i64]) -> Self {
        self.bind(json_ids(ids))
    }
}

/// `[1,2,3]`.
fn json_ids(ids: &[i64]) -> String {
    let texts: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", texts.join(","))
}

macro_rules! cases {
    ($module:ident, $db:ty) => {
        pub mod $module {
            use super::*;

            pub type Db = $db;
            pub type Pool = sqlx::Pool<Db>;
            type Connection = <Db as sqlx::Database>::Connection;
            type DbRow = <Db as sqlx::Database>::Row;

            pub struct Ctx {
                pub pool: Pool,
                pub orm: DatabaseConnection,
                pub sql: Sql,
                /// Adds in one sample of the add loop.
                pub loop_n: usize,
                pub assemblies: Vec<Assembly>,
                pub orm_assemblies: Vec<assembly::Model>,
                pub orm_find_owner: assembly::Model,
            }

            fn decode_part(row: &DbRow, offset: usize) -> Result<Part, sqlx::Error> {
                Ok(Part {
                    id: row.try_get(offset)?,
                    part_number: row.try_get(offset + 1)?,
                })
            }

            /// Inserts `rows` rows of `columns` values each, in chunks, in one transaction.
            async fn insert_rows(
                ctx: &Ctx,
                prefix: &str,
                columns: usize,
                values: &[i64],
                text: impl Fn(usize) -> Option<String>,
            ) -> Result<()> {
                let mut tx = ctx.pool.begin().await?;
                for chunk in values.chunks(CHUNK * columns) {
                    let rows = chunk.len() / columns;
                    let sql = ctx.sql.values(prefix, columns, rows);
                    let mut query = sqlx::query(AssertSqlSafe(sql));
                    for (i, value) in chunk.iter().enumerate() {
                        query = match text(i / columns) {
                            Some(text) if i % columns == 0 => query.bind(text),
                            _ => query.bind(*value),
                        };
                    }
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            /// Links `owner` to `parts` (unmeasured set-up).
            async fn link(ctx: &Ctx, owner: i64, parts: &[i64]) -> Result<()> {
                let mut tx = ctx.pool.begin().await?;
                hw_insert_values(&mut tx, &ctx.sql, owner, parts).await?;
                tx.commit().await?;
                Ok(())
            }

            /// Unlinks everything from `owner` (unmeasured clean-up).
            async fn unlink_all(ctx: &Ctx, owner: i64) -> Result<()> {
                let sql = if ctx.sql.pg {
                    r#"DELETE FROM "AssemblyPart" WHERE "assembly_id" = $1"#
                } else {
                    r#"DELETE FROM "AssemblyPart" WHERE "assembly_id" = ?"#
                };
                sqlx::query(sql).bind(owner).execute(&ctx.pool).await?;
                Ok(())
            }

            /// Deletes the parts `create` made (their links go with them).
            async fn delete_created(ctx: &Ctx) -> Result<()> {
                let sql = if ctx.sql.pg {
                    r#"DELETE FROM "Part" WHERE "id" > $1"#
                } else {
                    r#"DELETE FROM "Part" WHERE "id" > ?"#
                };
                sqlx::query(sql).bind(PARTS).execute(&ctx.pool).await?;
                Ok(())
            }

            /// Builds the data set on an empty database.
            pub async fn setup(
                pool: Pool,
                orm: DatabaseConnection,
                sql: Sql,
                loop_n: usize,
            ) -> Result<Ctx> {
                Schema::new()
                    .model::<Assembly>()
                    .model::<Part>()
                    .create_all(&pool)
                    .await?;
                let mut ctx = Ctx {
                    pool,
                    orm,
                    sql,
                    loop_n,
                    assemblies: Vec::new(),
                    orm_assemblies: Vec::new(),
                    orm_find_owner: assembly::Model {
                        id: A_FIND,
                        name: String::new(),
                    },
                };
                let parts: Vec<i64> = (1..=PARTS).collect();
                insert_rows(&ctx, r#"INSERT INTO "Part" ("part_number") VALUES "#, 1, &parts, |i| {
                    Some(format!("P-{:06}", i + 1))
                })
                .await?;
                let owners: Vec<i64> = (1..=ASSEMBLIES).collect();
                insert_rows(&ctx, r#"INSERT INTO "Assembly" ("name") VALUES "#, 1, &owners, |i| {
                    Some(format!("A-{:04}", i + 1))
                })
                .await?;
                for (table, count) in [("Part", PARTS), ("Assembly", ASSEMBLIES)] {
                    let sql = format!(r#"SELECT MIN("id"), MAX("id"), COUNT(*) FROM "{table}""#);
                    let row = sqlx::query(AssertSqlSafe(sql)).fetch_one(&ctx.pool).await?;
                    let range: (i64, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
                    if range != (1, count, count) {
                        return Err(format!("{table} ids are {range:?}, not 1..={count}").into());
                    }
                }
                let mut eager = Vec::new();
                for owner in 1..=EAGER_OWNERS {
                    for k in 0..EAGER_PARTS {
                        eager.push(owner);
                        eager.push(((owner - 1) * EAGER_PARTS + k) % 10_000 + 1);
                    }
                }
                insert_rows(
                    &ctx,
                    r#"INSERT INTO "AssemblyPart" ("assembly_id", "part_id") VALUES "#,
                    2,
                    &eager,
                    |_| None,
                )
                .await?;
                link(&ctx, A_FIND, &find_parts()).await?;
                // habtm's own `set` and `count`: habtm's first write of links (on PostgreSQL)
                // and its first read (everywhere) ask the catalog, once, whether the join table
                // holds each pair once, a statement that belongs in no comparison of
                // statements and no sample.
                Assembly::parts_of(A_SET).set(&ctx.pool, set_list(0)).await?;
                Assembly::parts_of(A_SET).count(&ctx.pool).await?;
                let analyze = if ctx.sql.mysql {
                    r#"ANALYZE TABLE "Part", "Assembly", "AssemblyPart""#
                } else {
                    "ANALYZE"
                };
                sqlx::raw_sql(analyze).execute(&ctx.pool).await?;

                ctx.assemblies =
                    Assembly::find(&ctx.pool, Filter::new().filter(Assembly::ID.le(EAGER_OWNERS))).await?;
                check("assemblies", EAGER_OWNERS as usize, ctx.assemblies.len())?;
                ctx.orm_assemblies = assembly::Entity::find()
                    .filter(assembly::Column::Id.lte(EAGER_OWNERS))
                    .order_by_asc(assembly::Column::Id)
                    .all(&ctx.orm)
                    .await?;
                check("SeaORM assemblies", EAGER_OWNERS as usize, ctx.orm_assemblies.len())?;
                ctx.orm_find_owner = assembly::Entity::find_by_id(A_FIND)
                    .one(&ctx.orm)
                    .await?
                    .ok_or("no assembly to find parts of")?;
                Ok(ctx)
            }

            /// Between cases: PostgreSQL's dead rows are vacuumed so that each case starts
            /// from a similar table.
            async fn tidy(ctx: &Ctx) -> Result<()> {
                if ctx.sql.pg {
                    sqlx::raw_sql("VACUUM ANALYZE").execute(&ctx.pool).await?;
                }
                Ok(())
            }

            // The hand-written pieces of habtm's operations.

            /// Opens a transaction as habtm opens its own: on SQLite with `BEGIN IMMEDIATE`,
            /// which takes the write lock at once instead of failing as BUSY when a read turns
            /// into a write.
            async fn begin(ctx: &Ctx) -> Result<sqlx::Transaction<'static, Db>> {
                Ok(if ctx.sql.pg {
                    ctx.pool.begin().await?
                } else {
                    ctx.pool.begin_with("BEGIN IMMEDIATE").await?
                })
            }

            /// `add`: one statement, and on SQLite a second one when it wrote no link.
            async fn hw_add(ctx: &Ctx, owner: i64, part: i64) -> Result<()> {
                let sql = &ctx.sql;
                let query = sqlx::query(sql.add).bind(owner).bind(part);
                let both = if sql.pg {
                    match query.fetch_optional(&ctx.pool).await? {
                        Some(row) => {
                            let linked: i64 = row.try_get(0)?;
                            linked > 0 || (row.try_get::<bool, _>(1)? && row.try_get::<bool, _>(2)?)
                        }
                        None => false,
                    }
                } else if query.execute(&ctx.pool).await?.rows_affected() > 0 {
                    true
                } else {
                    // Already linked, or a row is missing: say which.
                    let row = sqlx::query(sql.parents)
                        .bind(owner)
                        .bind(part)
                        .fetch_optional(&ctx.pool)
                        .await?;
                    match row {
                        Some(row) => row.try_get::<i64, _>(0)? > 0 && row.try_get::<i64, _>(1)? > 0,
                        None => false,
                    }
                };
                if both {
                    Ok(())
                } else {
                    Err(format!("assembly {owner} or part {part} does not exist").into())
                }
            }

            /// Takes the lock of `sql` (one of `Sql`'s owner locks) on the owner's row.
            async fn hw_lock(conn: &mut Connection, sql: &'static str, owner: i64) -> Result<()> {
                let found = sqlx::query(sql).bind(owner).fetch_optional(&mut *conn).await?;
                if found.is_some() {
                    Ok(())
                } else {
                    Err(format!("assembly {owner} does not exist").into())
                }
            }

            /// Links `owner` to `ids` with plain multi-row inserts (not habtm's statements).
            async fn hw_insert_values(
                conn: &mut Connection,
                sql: &Sql,
                owner: i64,
                ids: &[i64],
            ) -> Result<u64> {
                let mut added = 0;
                for chunk in ids.chunks(CHUNK) {
                    let mut query = sqlx::query(AssertSqlSafe(sql.insert_values(chunk.len())));
                    for &id in chunk {
                        query = query.bind(owner).bind(id);
                    }
                    added += query.execute(&mut *conn).await?.rows_affected();
                }
                Ok(added)
            }

            // Statements whose text depends on how many ids they carry run unprepared, as
            // habtm runs them: PostgreSQL would otherwise plan a kept one generically after
            // five runs. On PostgreSQL the ids are one array parameter and the texts are fixed,
            // prepared once, as habtm's are.

            // On PostgreSQL the ids are one array parameter, on SQLite one JSON text: the
            // texts are fixed and prepared once, as habtm's are.

            async fn hw_lock_parts(conn: &mut Connection, sql: &Sql, ids: &[i64]) -> Result<()> {
                let found = if sql.pg {
                    let rows = sqlx::query(arrays::LOCK_PARTS).bind_ids(ids).fetch_all(&mut *conn).await?;
                    rows.len() as i64
                } else {
                    let row = sqlx::query(json::COUNT_PARTS).bind_ids(ids).fetch_one(&mut *conn).await?;
                    row.try_get(0)?
                };
                if found != ids.len() as i64 {
                    return Err("a part does not exist".into());
                }
                Ok(())
            }

            async fn hw_insert_links(
                conn: &mut Connection,
                sql: &Sql,
                owner: i64,
                ids: &[i64],
            ) -> Result<u64> {
                let text = if sql.pg { arrays::INSERT_LINKS } else { json::INSERT_LINKS };
                let query = sqlx::query(text).bind(owner).bind_ids(ids);
                Ok(query.execute(&mut *conn).await?.rows_affected())
            }

            async fn hw_delete_links(
                conn: &mut Connection,
                sql: &Sql,
                owner: i64,
                ids: &[i64],
            ) -> Result<u64> {
                let text = if sql.pg { arrays::DELETE_LINKS } else { json::DELETE_LINKS };
                let query = sqlx::query(text).bind(owner).bind_ids(ids);
                Ok(query.execute(&mut *conn).await?.rows_affected())
            }

            /// `set` by hand: the same statements as habtm's, in the same order.
            async fn hw_set(ctx: &Ctx, owner: i64, ids: &[i64]) -> Result<()> {
                let mut seen = HashSet::new();
                let wanted: Vec<i64> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
                let mut tx = begin(ctx).await?;
                hw_lock(&mut tx, ctx.sql.lock_owner, owner).await?;
                if ctx.sql.pg {
                    let row = sqlx::query(arrays::SET).bind(owner).bind_ids(&wanted).fetch_one(&mut *tx).await?;
                    if row.try_get::<Option<i64>, _>(0)?.is_some() {
                        return Err("a part does not exist".into());
                    }
                    tx.commit().await?;
                    return Ok(());
                }
                let rows = sqlx::query(ctx.sql.ids).bind(owner).fetch_all(&mut *tx).await?;
                let current: Vec<i64> = rows
                    .iter()
                    .map(|row| row.try_get(0))
                    .collect::<Result<_, _>>()?;
                let wanted_set: HashSet<i64> = wanted.iter().copied().collect();
                let current_set: HashSet<i64> = current.iter().copied().collect();
                let to_remove: Vec<i64> =
                    current.into_iter().filter(|id| !wanted_set.contains(id)).collect();
                let to_add: Vec<i64> =
                    wanted.into_iter().filter(|id| !current_set.contains(id)).collect();
                if !to_add.is_empty() {
                    hw_lock_parts(&mut tx, &ctx.sql, &to_add).await?;
                }
                if !to_remove.is_empty() {
                    hw_delete_links(&mut tx, &ctx.sql, owner, &to_remove).await?;
                }
                if !to_add.is_empty() {
                    hw_insert_links(&mut tx, &ctx.sql, owner, &to_add).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            /// `set` with SeaORM: read the junction rows, delete and insert the difference.
            async fn orm_set(ctx: &Ctx, owner: i64, ids: &[i64]) -> Result<()> {
                let txn = ctx.orm.begin().await?;
                let current: Vec<i64> = assembly_part::Entity::find()
                    .select_only()
                    .column(assembly_part::Column::PartId)
                    .filter(assembly_part::Column::AssemblyId.eq(owner))
                    .into_tuple()
                    .all(&txn)
                    .await?;
                let wanted: HashSet<i64> = ids.iter().copied().collect();
                let current_set: HashSet<i64> = current.iter().copied().collect();
                let to_remove: Vec<i64> =
                    current.into_iter().filter(|id| !wanted.contains(id)).collect();
                let mut seen = HashSet::new();
                let to_add: Vec<i64> = ids
                    .iter()
                    .copied()
                    .filter(|id| !current_set.contains(id) && seen.insert(*id))
                    .collect();
                for chunk in to_remove.chunks(CHUNK - 1) {
                    assembly_part::Entity::delete_many()
                        .filter(assembly_part::Column::AssemblyId.eq(owner))
                        .filter(assembly_part::Column::PartId.is_in(chunk.iter().copied()))
                        .exec(&txn)
                        .await?;
                }
                for chunk in to_add.chunks(CHUNK) {
                    assembly_part::Entity::insert_many(chunk.iter().map(|&part_id| {
                        assembly_part::ActiveModel {
                            assembly_id: Set(owner),
                            part_id: Set(part_id),
                        }
                    }))
                    .exec_without_returning(&txn)
                    .await?;
                }
                txn.commit().await?;
                Ok(())
            }

            fn add(ctx: &Ctx) -> Case<'_> {
                Case {
                    key: "add",
                    title: "add (link one existing part)".into(),
                    unit: "op",
                    samples: SINGLE_SAMPLES,
                    batch: Batch::Adaptive { max: FRESH },
                    same_sql: true,
                    impls: [
                        run(move |n| async move {
                            let parts = fresh_parts(n);
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for &p in &parts {
                                Assembly::parts_of(A_ADD).add(&ctx.pool, p).await?;
                            }
                            sw.stop();
                            unlink_all(ctx, A_ADD).await?;
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let parts = fresh_parts(n);
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for &p in &parts {
                                hw_add(ctx, A_ADD, p).await?;
                            }
                            sw.stop();
                            unlink_all(ctx, A_ADD).await?;
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let parts = fresh_parts(n);
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for &p in &parts {
                                assembly_part::Entity::insert(assembly_part::ActiveModel {
                                    assembly_id: Set(A_ADD),
                                    part_id: Set(p),
                                })
                                .on_conflict_do_nothing()
                                .exec_without_returning(&ctx.orm)
                                .await?;
                            }
                            sw.stop();
                            unlink_all(ctx, A_ADD).await?;
                            Ok(sw.total())
                        }),
                    ],
                }
            }

            fn remove(ctx: &Ctx) -> Case<'_> {
                Case {
                    key: "remove",
                    title: "remove (unlink one part)".into(),
                    unit: "op",
                    samples: SINGLE_SAMPLES,
                    batch: Batch::Adaptive { max: FRESH },
                    same_sql: true,
                    impls: [
                        run(move |n| async move {
                            let parts = fresh_parts(n);
                            link(ctx, A_ADD, &parts).await?;
                            let mut removed = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for &p in &parts {
                                removed += Assembly::parts_of(A_ADD).remove(&ctx.pool, p).await? as usize;
                            }
                            sw.stop();
                            check("removed", n, removed)?;
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let parts = fresh_parts(n);
                            link(ctx, A_ADD, &parts).await?;
                            let mut removed = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for &p in &parts {
                                let done = sqlx::query(ctx.sql.remove)
                                    .bind(A_ADD)
                                    .bind(p)
                                    .execute(&ctx.pool)
                                    .await?;
                                removed += (done.rows_affected() > 0) as usize;
                            }
                            sw.stop();
                            check("removed", n, removed)?;
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let parts = fresh_parts(n);
                            link(ctx, A_ADD, &parts).await?;
                            let mut removed = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for &p in &parts {
                                let done = assembly_part::Entity::delete_by_id((A_ADD, p))
                                    .exec(&ctx.orm)
                                    .await?;
                                removed += (done.rows_affected > 0) as usize;
                            }
                            sw.stop();
                            check("removed", n, removed)?;
                            Ok(sw.total())
                        }),
                    ],
                }
            }

            fn exists(ctx: &Ctx) -> Case<'_> {
                Case {
                    key: "exists",
                    title: "exists (is one part linked)".into(),
                    unit: "op",
                    samples: SINGLE_SAMPLES,
                    batch: Batch::Adaptive { max: 10_000 },
                    same_sql: true,
                    impls: [
                        run(move |n| async move {
                            let parts = find_parts();
                            let mut found = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for i in 0..n {
                                let p = parts[i % parts.len()];
                                found += Assembly::parts_of(A_FIND).exists(&ctx.pool, p).await? as usize;
                            }
                            sw.stop();
                            check("linked", n, found)?;
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let parts = find_parts();
                            let mut found = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for i in 0..n {
                                let p = parts[i % parts.len()];
                                let row = sqlx::query(ctx.sql.exists)
                                    .bind(A_FIND)
                                    .bind(p)
                                    .fetch_optional(&ctx.pool)
                                    .await?;
                                found += row.is_some() as usize;
                            }
                            sw.stop();
                            check("linked", n, found)?;
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let parts = find_parts();
                            let mut found = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for i in 0..n {
                                let p = parts[i % parts.len()];
                                found += assembly_part::Entity::find_by_id((A_FIND, p))
                                    .exists(&ctx.orm)
                                    .await? as usize;
                            }
                            sw.stop();
                            check("linked", n, found)?;
                            Ok(sw.total())
                        }),
                    ],
                }
            }

            fn count(ctx: &Ctx) -> Case<'_> {
                Case {
                    key: "count",
                    title: "count (100 linked parts)".into(),
                    unit: "op",
                    samples: SINGLE_SAMPLES,
                    batch: Batch::Adaptive { max: 10_000 },
                    same_sql: true,
                    impls: [
                        run(move |n| async move {
                            let mut total = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for _ in 0..n {
                                total += Assembly::parts_of(A_FIND).count(&ctx.pool).await?;
                            }
                            sw.stop();
                            check("counted", n * FIND_LINKS as usize, total as usize)?;
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let mut total = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for _ in 0..n {
                                let row = sqlx::query(ctx.sql.count)
                                    .bind(A_FIND)
                                    .fetch_optional(&ctx.pool)
                                    .await?;
                                if let Some(row) = row {
                                    total += row.try_get::<i64, _>(0)?;
                                }
                            }
                            sw.stop();
                            check("counted", n * FIND_LINKS as usize, total as usize)?;
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let mut total = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for _ in 0..n {
                                total += ctx.orm_find_owner.find_related(part::Entity).count(&ctx.orm).await?;
                            }
                            sw.stop();
                            check("counted", n * FIND_LINKS as usize, total as usize)?;
                            Ok(sw.total())
                        }),
                    ],
                }
            }

            fn find(ctx: &Ctx) -> Case<'_> {
                Case {
                    key: "find",
                    title: "find (the 100 linked parts of one assembly)".into(),
                    unit: "op",
                    samples: SINGLE_SAMPLES,
                    batch: Batch::Adaptive { max: 10_000 },
                    same_sql: true,
                    impls: [
                        run(move |n| async move {
                            let mut total = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for _ in 0..n {
                                total += Assembly::parts_of(A_FIND).find(&ctx.pool, Filter::new()).await?.len();
                            }
                            sw.stop();
                            check("found", n * FIND_LINKS as usize, total)?;
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let mut total = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for _ in 0..n {
                                let rows = sqlx::query(ctx.sql.all).bind(A_FIND).fetch_all(&ctx.pool).await?;
                                let parts: Vec<Part> = rows
                                    .iter()
                                    .map(|row| decode_part(row, 0))
                                    .collect::<Result<_, _>>()?;
                                total += parts.len();
                            }
                            sw.stop();
                            check("found", n * FIND_LINKS as usize, total)?;
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let mut total = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for _ in 0..n {
                                total += ctx
                                    .orm_find_owner
                                    .find_related(part::Entity)
                                    .order_by_asc(part::Column::Id)
                                    .all(&ctx.orm)
                                    .await?
                                    .len();
                            }
                            sw.stop();
                            check("found", n * FIND_LINKS as usize, total)?;
                            Ok(sw.total())
                        }),
                    ],
                }
            }

            fn find_by_id(ctx: &Ctx) -> Case<'_> {
                Case {
                    key: "find_by_id",
                    title: "find_by_id (one linked part)".into(),
                    unit: "op",
                    samples: SINGLE_SAMPLES,
                    batch: Batch::Adaptive { max: 10_000 },
                    same_sql: true,
                    impls: [
                        run(move |n| async move {
                            let parts = find_parts();
                            let mut found = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for i in 0..n {
                                let p = parts[i % parts.len()];
                                found += Assembly::parts_of(A_FIND).find_by_id(&ctx.pool, p).await?.is_some() as usize;
                            }
                            sw.stop();
                            check("found", n, found)?;
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let parts = find_parts();
                            let mut found = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for i in 0..n {
                                let p = parts[i % parts.len()];
                                let row = sqlx::query(ctx.sql.find_by_id)
                                    .bind(A_FIND)
                                    .bind(p)
                                    .fetch_optional(&ctx.pool)
                                    .await?;
                                let part = row.map(|row| decode_part(&row, 0)).transpose()?;
                                found += part.is_some() as usize;
                            }
                            sw.stop();
                            check("found", n, found)?;
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let parts = find_parts();
                            let mut found = 0;
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for i in 0..n {
                                let p = parts[i % parts.len()];
                                let part = ctx
                                    .orm_find_owner
                                    .find_related(part::Entity)
                                    .filter(part::Column::Id.eq(p))
                                    .one(&ctx.orm)
                                    .await?;
                                found += part.is_some() as usize;
                            }
                            sw.stop();
                            check("found", n, found)?;
                            Ok(sw.total())
                        }),
                    ],
                }
            }

            fn create(ctx: &Ctx) -> Case<'_> {
                let numbers = |n: usize| (0..n).map(|i| format!("C-{i:06}")).collect::<Vec<_>>();
                Case {
                    key: "create",
                    title: "create (insert a part and link it, one transaction)".into(),
                    unit: "op",
                    samples: SINGLE_SAMPLES,
                    batch: Batch::Adaptive { max: FRESH },
                    same_sql: true,
                    impls: [
                        run(move |n| async move {
                            let numbers = numbers(n);
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for part_number in numbers {
                                Assembly::parts_of(A_CREATE).create(&ctx.pool, NewPart { part_number }).await?;
                            }
                            sw.stop();
                            delete_created(ctx).await?;
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let numbers = numbers(n);
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for part_number in numbers {
                                if ctx.sql.pg {
                                    let row = sqlx::query(arrays::CREATE)
                                        .bind(A_CREATE)
                                        .bind(&part_number)
                                        .fetch_optional(&ctx.pool)
                                        .await?
                                        .ok_or_else(|| format!("assembly {A_CREATE} does not exist"))?;
                                    decode_part(&row, 0)?;
                                    continue;
                                }
                                let mut tx = begin(ctx).await?;
                                let row = sqlx::query(ctx.sql.insert_part)
                                    .bind(&part_number)
                                    .fetch_optional(&mut *tx)
                                    .await?
                                    .ok_or("the insert returned no row")?;
                                let part = decode_part(&row, 0)?;
                                let linked = sqlx::query(ctx.sql.link_new)
                                    .bind(part.id)
                                    .bind(A_CREATE)
                                    .execute(&mut *tx)
                                    .await?;
                                if linked.rows_affected() == 0 {
                                    return Err(format!("assembly {A_CREATE} does not exist").into());
                                }
                                tx.commit().await?;
                            }
                            sw.stop();
                            delete_created(ctx).await?;
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let numbers = numbers(n);
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for part_number in numbers {
                                let txn = ctx.orm.begin().await?;
                                let part = sea_orm::ActiveModelTrait::insert(
                                    part::ActiveModel {
                                        part_number: Set(part_number),
                                        ..Default::default()
                                    },
                                    &txn,
                                )
                                .await?;
                                assembly_part::Entity::insert(assembly_part::ActiveModel {
                                    assembly_id: Set(A_CREATE),
                                    part_id: Set(part.id),
                                })
                                .exec_without_returning(&txn)
                                .await?;
                                txn.commit().await?;
                            }
                            sw.stop();
                            delete_created(ctx).await?;
                            Ok(sw.total())
                        }),
                    ],
                }
            }

            const EAGER_TOTAL: usize = (EAGER_OWNERS * EAGER_PARTS) as usize;

            fn total<T>(loaded: &[Vec<T>]) -> usize {
                loaded.iter().map(Vec::len).sum()
            }

            fn eager(ctx: &Ctx) -> Case<'_> {
                Case {
                    key: "eager",
                    title: "eager load: 1,000 assemblies × 20 parts".into(),
                    unit: "call",
                    samples: 25,
                    batch: Batch::Fixed(1),
                    same_sql: true,
                    impls: [
                        run(move |n| async move {
                            let mut sw = Stopwatch::new();
                            for _ in 0..n {
                                sw.start();
                                let loaded = Assembly::load_parts(&ctx.pool, &ctx.assemblies, Filter::new()).await?;
                                sw.stop();
                                check("loaded", EAGER_TOTAL, total(&loaded))?;
                            }
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let mut sw = Stopwatch::new();
                            for _ in 0..n {
                                sw.start();
                                let owners = &ctx.assemblies;
                                // Unprepared, as habtm runs it (see `hw_lock_parts`).
                                let ids: Vec<i64> = owners.iter().map(|owner| owner.id).collect();
                                let text = if ctx.sql.pg { arrays::LOAD } else { json::LOAD };
                                let query = sqlx::query(text).bind_ids(&ids).persistent(false);
                                let rows = query.fetch_all(&ctx.pool).await?;
                                let position: HashMap<i64, usize> =
                                    owners.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
                                let mut loaded: Vec<Vec<Part>> = vec![Vec::new(); owners.len()];
                                for row in &rows {
                                    let owner: i64 = row.try_get(0)?;
                                    loaded[position[&owner]].push(decode_part(row, 1)?);
                                }
                                sw.stop();
                                check("loaded", EAGER_TOTAL, total(&loaded))?;
                            }
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let mut sw = Stopwatch::new();
                            for _ in 0..n {
                                sw.start();
                                let loaded = ctx
                                    .orm_assemblies
                                    .load_many(part::Entity::find().order_by_asc(part::Column::Id), &ctx.orm)
                                    .await?;
                                sw.stop();
                                check("loaded", EAGER_TOTAL, total(&loaded))?;
                            }
                            Ok(sw.total())
                        }),
                    ],
                }
            }

            fn eager_legacy(ctx: &Ctx) -> Case<'_> {
                Case {
                    key: "eager_m2m",
                    title: "eager load, SeaORM's two-query `load_many_to_many`".into(),
                    unit: "call",
                    samples: 25,
                    batch: Batch::Fixed(1),
                    same_sql: false,
                    impls: [
                        run(move |n| async move {
                            let mut sw = Stopwatch::new();
                            for _ in 0..n {
                                sw.start();
                                let loaded = Assembly::load_parts(&ctx.pool, &ctx.assemblies, Filter::new()).await?;
                                sw.stop();
                                check("loaded", EAGER_TOTAL, total(&loaded))?;
                            }
                            Ok(sw.total())
                        }),
                        None,
                        run(move |n| async move {
                            let mut sw = Stopwatch::new();
                            for _ in 0..n {
                                sw.start();
                                let loaded = ctx
                                    .orm_assemblies
                                    .load_many_to_many(
                                        part::Entity::find().order_by_asc(part::Column::Id),
                                        assembly_part::Entity,
                                        &ctx.orm,
                                    )
                                    .await?;
                                sw.stop();
                                check("loaded", EAGER_TOTAL, total(&loaded))?;
                            }
                            Ok(sw.total())
                        }),
                    ],
                }
            }

            fn n_plus_one(ctx: &Ctx) -> Case<'_> {
                Case {
                    key: "n_plus_1",
                    title: "N+1: one `parts().all()` per assembly, 1,000 assemblies".into(),
                    unit: "call",
                    samples: 9,
                    batch: Batch::Fixed(1),
                    same_sql: true,
                    impls: [
                        run(move |n| async move {
                            let mut sw = Stopwatch::new();
                            for _ in 0..n {
                                let mut loaded = Vec::with_capacity(ctx.assemblies.len());
                                sw.start();
                                for assembly in &ctx.assemblies {
                                    loaded.push(assembly.parts().all(&ctx.pool).await?);
                                }
                                sw.stop();
                                check("loaded", EAGER_TOTAL, total(&loaded))?;
                            }
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let mut sw = Stopwatch::new();
                            for _ in 0..n {
                                let mut loaded = Vec::with_capacity(ctx.assemblies.len());
                                sw.start();
                                for assembly in &ctx.assemblies {
                                    let rows = sqlx::query(ctx.sql.all)
                                        .bind(assembly.id)
                                        .fetch_all(&ctx.pool)
                                        .await?;
                                    let parts: Vec<Part> = rows
                                        .iter()
                                        .map(|row| decode_part(row, 0))
                                        .collect::<Result<_, _>>()?;
                                    loaded.push(parts);
                                }
                                sw.stop();
                                check("loaded", EAGER_TOTAL, total(&loaded))?;
                            }
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let mut sw = Stopwatch::new();
                            for _ in 0..n {
                                let mut loaded = Vec::with_capacity(ctx.orm_assemblies.len());
                                sw.start();
                                for assembly in &ctx.orm_assemblies {
                                    loaded.push(
                                        assembly
                                            .find_related(part::Entity)
                                            .order_by_asc(part::Column::Id)
                                            .all(&ctx.orm)
                                            .await?,
                                    );
                                }
                                sw.stop();
                                check("loaded", EAGER_TOTAL, total(&loaded))?;
                            }
                            Ok(sw.total())
                        }),
                    ],
                }
            }

            fn habtm_add_many(ctx: &Ctx) -> crate::harness::Run<'_> {
                run(move |n| async move {
                    let ids = bulk_parts();
                    let mut sw = Stopwatch::new();
                    for _ in 0..n {
                        sw.start();
                        let added = Assembly::parts_of(A_BULK).add_many(&ctx.pool, ids.iter().copied()).await?;
                        sw.stop();
                        check("added", ids.len(), added as usize)?;
                        unlink_all(ctx, A_BULK).await?;
                    }
                    Ok(sw.total())
                })
                .unwrap()
            }

            fn add_many(ctx: &Ctx) -> Case<'_> {
                Case {
                    key: "add_many",
                    title: "add_many: 100,000 links (sqlx, SeaORM: chunked multi-row INSERT in a transaction)".into(),
                    unit: "call",
                    samples: 11,
                    batch: Batch::Fixed(1),
                    same_sql: false,
                    impls: [
                        Some(habtm_add_many(ctx)),
                        run(move |n| async move {
                            let ids = bulk_parts();
                            let mut sw = Stopwatch::new();
                            for _ in 0..n {
                                sw.start();
                                let mut tx = ctx.pool.begin().await?;
                                let added = hw_insert_values(&mut tx, &ctx.sql, A_BULK, &ids).await?;
                                tx.commit().await?;
                                sw.stop();
                                check("added", ids.len(), added as usize)?;
                                unlink_all(ctx, A_BULK).await?;
                            }
                            Ok(sw.total())
                        }),
                        run(move |n| async move {
                            let ids = bulk_parts();
                            let mut sw = Stopwatch::new();
                            for _ in 0..n {
                                sw.start();
                                let txn = ctx.orm.begin().await?;
                                for chunk in ids.chunks(CHUNK) {
                                    assembly_part::Entity::insert_many(chunk.iter().map(|&part_id| {
                                        assembly_part::ActiveModel {
                                            assembly_id: Set(A_BULK),
                                            part_id: Set(part_id),
                                        }
                                    }))
                                    .on_conflict_do_nothing()
                                    .exec_without_returning(&txn)
                                    .await?;
                                }
                                txn.commit().await?;
                                sw.stop();
                                unlink_all(ctx, A_BULK).await?;
                            }
                            Ok(sw.total())
                        }),
                    ],
                }
            }

            /// habtm's `add_many` against the best SQL for the job (`Sql::best_add_many`).
            fn add_many_best(ctx: &Ctx) -> Case<'_> {
                Case {
                    key: "add_many_best",
                    title: "add_many: 100,000 links (sqlx: the best SQL, one INSERT ... SELECT of the ids as one parameter, no existence check)".into(),
                    unit: "call",
                    samples: 11,
                    batch: Batch::Fixed(1),
                    same_sql: false,
                    impls: [
                        Some(habtm_add_many(ctx)),
                        run(move |n| async move {
                            let ids = bulk_parts();
                            let mut sw = Stopwatch::new();
                            for _ in 0..n {
                                sw.start();
                                let done = sqlx::query(ctx.sql.best_add_many)
                                    .bind(A_BULK)
                                    .bind_ids(&ids)
                                    .execute(&ctx.pool)
                                    .await?;
                                sw.stop();
                                check("added", ids.len(), done.rows_affected() as usize)?;
                                unlink_all(ctx, A_BULK).await?;
                            }
                            Ok(sw.total())
                        }),
                        None,
                    ],
                }
            }

            fn add_many_checked(ctx: &Ctx) -> Case<'_> {
                Case {
                    key: "add_many_same",
                    title: "add_many: 100,000 links (sqlx runs habtm's statements: owner lock, parts check, insert)".into(),
                    unit: "call",
                    samples: 11,
                    batch: Batch::Fixed(1),
                    same_sql: true,
                    impls: [
                        Some(habtm_add_many(ctx)),
                        run(move |n| async move {
                            let ids = bulk_parts();
                            let mut sw = Stopwatch::new();
                            for _ in 0..n {
                                sw.start();
                                let mut seen = HashSet::new();
                                let distinct: Vec<i64> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
                                if ctx.sql.pg {
                                    let row = sqlx::query(arrays::ADD_MANY)
                                        .bind(A_BULK)
                                        .bind_ids(&distinct)
                                        .fetch_one(&ctx.pool)
                                        .await?;
                                    let (owner, added, missing): (bool, i64, Option<i64>) =
                                        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
                                    sw.stop();
                                    if !owner || missing.is_some() {
                                        return Err("a row does not exist".into());
                                    }
                                    check("added", ids.len(), added as usize)?;
                                    unlink_all(ctx, A_BULK).await?;
                                    continue;
                                }
                                let mut tx = begin(ctx).await?;
                                hw_lock(&mut tx, ctx.sql.share_owner, A_BULK).await?;
                                hw_lock_parts(&mut tx, &ctx.sql, &distinct).await?;
                                let added = hw_insert_links(&mut tx, &ctx.sql, A_BULK, &distinct).await?;
                                tx.commit().await?;
                                sw.stop();
                                check("added", ids.len(), added as usize)?;
                                unlink_all(ctx, A_BULK).await?;
                            }
                            Ok(sw.total())
                        }),
                        None,
                    ],
                }
            }

            fn add_loop(ctx: &Ctx) -> Case<'_> {
                Case {
                    key: "add_loop",
                    title: format!("add loop: {} × `add`, one link each", ctx.loop_n),
                    unit: "call",
                    samples: 3,
                    batch: Batch::Fixed(1),
                    same_sql: false,
                    impls: [
                        run(move |n| async move {
                            let parts: Vec<i64> = (FRESH_FIRST..).take(ctx.loop_n).collect();
                            let mut sw = Stopwatch::new();
                            for _ in 0..n {
                                sw.start();
                                for &p in &parts {
                                    Assembly::parts_of(A_LOOP).add(&ctx.pool, p).await?;
                                }
                                sw.stop();
                                unlink_all(ctx, A_LOOP).await?;
                            }
                            Ok(sw.total())
                        }),
                        None,
                        None,
                    ],
                }
            }

            /// Calls `set` `n` times, alternating between the 10,000 links `A_SET` starts with
            /// and a list with `changed` of them replaced; ends where it started.
            async fn set_calls<F, Fut>(ctx: &Ctx, n: usize, changed: i64, call: F) -> Result<Duration>
            where
                F: Fn(Vec<i64>) -> Fut,
                Fut: std::future::Future<Output = Result<()>>,
            {
                let lists: Vec<Vec<i64>> = (0..n)
                    .map(|i| if i % 2 == 0 { set_list(changed) } else { set_list(0) })
                    .collect();
                let mut sw = Stopwatch::new();
                for wanted in lists {
                    sw.start();
                    call(wanted).await?;
                    sw.stop();
                }
                if n % 2 == 1 {
                    Assembly::parts_of(A_SET).set(&ctx.pool, set_list(0)).await?;
                }
                Ok(sw.total())
            }

            fn set(ctx: &Ctx, changed: i64, compare: bool) -> Case<'_> {
                let habtm = run(move |n| {
                    set_calls(ctx, n, changed, move |wanted| async move {
                        Assembly::parts_of(A_SET).set(&ctx.pool, wanted).await?;
                        Ok(())
                    })
                });
                let sqlx = run(move |n| {
                    set_calls(ctx, n, changed, move |wanted| async move { hw_set(ctx, A_SET, &wanted).await })
                });
                let orm = run(move |n| {
                    set_calls(ctx, n, changed, move |wanted| async move { orm_set(ctx, A_SET, &wanted).await })
                });
                Case {
                    key: match changed {
                        0 => "set_0",
                        100 => "set_1",
                        1_000 => "set_10",
                        _ => "set_100",
                    },
                    title: format!(
                        "set: 10,000 links, {changed} replaced ({}%)",
                        changed * 100 / SET_LINKS
                    ),
                    unit: "call",
                    samples: 15,
                    batch: Batch::Adaptive { max: 20 },
                    same_sql: compare,
                    impls: if compare { [habtm, sqlx, orm] } else { [habtm, None, None] },
                }
            }

            /// habtm's `set` against the best SQL for the job: in one transaction, the links
            /// not in the list deleted and the list inserted skipping existing links, with no
            /// lock and no check that the parts exist.
            fn set_best(ctx: &Ctx, changed: i64) -> Case<'_> {
                let habtm = run(move |n| {
                    set_calls(ctx, n, changed, move |wanted| async move {
                        Assembly::parts_of(A_SET).set(&ctx.pool, wanted).await?;
                        Ok(())
                    })
                });
                let best = ctx.sql.best_set_delete.map(|delete| {
                    run(move |n| {
                        set_calls(ctx, n, changed, move |wanted| async move {
                            let mut tx = begin(ctx).await?;
                            sqlx::query(delete).bind(A_SET).bind_ids(&wanted).execute(&mut *tx).await?;
                            sqlx::query(ctx.sql.best_add_many)
                                .bind(A_SET)
                                .bind_ids(&wanted)
                                .execute(&mut *tx)
                                .await?;
                            tx.commit().await?;
                            Ok(())
                        })
                    })
                    .unwrap()
                });
                Case {
                    key: if changed == 1_000 { "set_10_best" } else { "set_100_best" },
                    title: format!(
                        "set: 10,000 links, {changed} replaced ({}%) (sqlx: the best SQL, a DELETE ... NOT IN and an INSERT ... SELECT of the ids as one parameter)",
                        changed * 100 / SET_LINKS
                    ),
                    unit: "call",
                    samples: 15,
                    batch: Batch::Adaptive { max: 20 },
                    same_sql: false,
                    impls: [habtm, best, None],
                }
            }

            fn ids(ctx: &Ctx) -> Case<'_> {
                Case {
                    key: "ids",
                    title: "ids: read the 10,000 linked ids (what `set` reads first)".into(),
                    unit: "call",
                    samples: 15,
                    batch: Batch::Adaptive { max: 100 },
                    same_sql: false,
                    impls: [
                        run(move |n| async move {
                            let mut sw = Stopwatch::new();
                            sw.start();
                            for _ in 0..n {
                                let ids = Assembly::parts_of(A_SET).ids(&ctx.pool).await?;
                                check("ids", SET_LINKS as usize, ids.len())?;
                            }
                            sw.stop();
                            Ok(sw.total())
                        }),
                        None,
                        None,
                    ],
                }
            }

            fn cases(ctx: &Ctx) -> Vec<Case<'_>> {
                vec![
                    add(ctx),
                    remove(ctx),
                    exists(ctx),
                    count(ctx),
                    find(ctx),
                    find_by_id(ctx),
                    create(ctx),
                    eager(ctx),
                    eager_legacy(ctx),
                    n_plus_one(ctx),
                    add_many(ctx),
                    add_many_best(ctx),
                    add_many_checked(ctx),
                    add_loop(ctx),
                    set(ctx, 100, true),
                    set(ctx, 0, false),
                    set(ctx, 1_000, false),
                    set(ctx, 10_000, false),
                    set_best(ctx, 1_000),
                    set_best(ctx, 10_000),
                    ids(ctx),
                ]
            }

            /// Runs one implementation once, recording its statements.
            async fn statements(case: &Case<'_>, i: usize) -> Result<Vec<String>> {
                capture::start();
                let outcome = (case.impls[i].as_ref().unwrap())(1).await;
                let statements = capture::stop();
                outcome?;
                Ok(statements)
            }

            /// Checks that the hand-written implementation sends exactly habtm's statements.
            async fn check_same_sql(label: &str, case: &Case<'_>) -> Result<()> {
                let habtm = statements(case, 0).await?;
                let sqlx = statements(case, 1).await?;
                if habtm != sqlx {
                    let first = habtm.iter().zip(&sqlx).position(|(a, b)| a != b);
                    return Err(format!(
                        "{label}/{}: the hand-written statements differ from habtm's \
                         ({} against {}); first difference at {first:?}:\nhabtm: {:?}\nsqlx:  {:?}",
                        case.key,
                        habtm.len(),
                        sqlx.len(),
                        first.and_then(|i| habtm.get(i)),
                        first.and_then(|i| sqlx.get(i)),
                    )
                    .into());
                }
                eprintln!("  SQL check {label}/{}: the same {} statements", case.key, habtm.len());
                Ok(())
            }

            /// Sets up the data, checks the hand-written SQL, and measures every case whose
            /// `backend/case` name contains one of `filters` (all when there are none).
            pub async fn bench(
                label: &str,
                key: &str,
                ctx: &Ctx,
                filters: &[String],
            ) -> Result<Vec<CaseResult>> {
                let selected = |case: &Case<'_>| {
                    let name = format!("{key}/{}", case.key);
                    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
                };
                let all = cases(ctx);
                assert!(all.iter().map(|c| c.key).eq(KEYS), "KEYS lists every case in order");
                let mut cases: Vec<Case<'_>> = all.into_iter().filter(selected).collect();
                if ctx.sql.mysql {
                    // habtm against SeaORM and the best SQL: its own statements are not
                    // written out by hand for MySQL.
                    for case in cases.iter_mut().filter(|case| !case.key.ends_with("_best")) {
                        case.impls[1] = None;
                        case.same_sql = false;
                    }
                    cases.retain(|case| case.impls[1..].iter().any(Option::is_some) || !case.key.ends_with("_best"));
                }
                for case in cases.iter().filter(|c| c.same_sql) {
                    check_same_sql(key, case).await?;
                }
                if std::env::var_os("HABTM_BENCH_SHOW_SQL").is_some() {
                    // Shows every implementation's statements instead of timing them.
                    for case in &cases {
                        for (i, name) in crate::harness::IMPLS.iter().enumerate() {
                            if case.impls[i].is_some() {
                                eprintln!("  {key}/{} {name}:", case.key);
                                for statement in statements(case, i).await? {
                                    let end = statement.char_indices().nth(400).map_or(statement.len(), |(i, _)| i);
                                    eprintln!("    {}", &statement[..end]);
                                }
                            }
                        }
                    }
                    return Ok(Vec::new());
                }
                let mut results = Vec::new();
                for case in &cases {
                    tidy(ctx).await?;
                    let result = measure(case).await?;
                    eprintln!(
                        "  {label}: {} — batch {}, {} samples: {}",
                        case.title,
                        result.batch,
                        result.samples,
                        result
                            .stats
                            .iter()
                            .zip(crate::harness::IMPLS)
                            .filter_map(|(s, name)| s.map(|s| format!(
                                "{name} {}",
                                crate::harness::fmt_duration(s.median)
                            )))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    results.push(result);
                }
                Ok(results)
            }
        }
    };
}

cases!(sqlite, sqlx::Sqlite);
cases!(postgres, sqlx::Postgres);
cases!(mysql, sqlx::MySql);
