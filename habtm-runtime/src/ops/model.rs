//! A model's own operations: create, find, select, count, save, update, delete.

use futures_core::stream::BoxStream;
use sqlx::{AssertSqlSafe, SqlSafeStr};

use crate::backend::Backend;
use crate::db::Db;
use crate::def::{Model, ModelDef, ModelStatements};
use crate::dialect::{Dialect, Lock};
use crate::error::{Context, Error, Op, Result};
use crate::filter::Filter;
use crate::retry::{begin, retrying};
use crate::run;
use crate::sql::{Binds, ROWS, SqlWriter};
use crate::statement;
use crate::value::DynValue;

/// The fixed statements of `M` on `DB`.
pub(crate) fn statements<M: Model, DB: Backend>() -> &'static ModelStatements {
    statement::model(M::def(), DB::DIALECT)
}

pub(crate) fn decode_all<M: Model, DB: Backend>(rows: Vec<DB::Row>) -> Result<Vec<M>, sqlx::Error> {
    rows.iter().map(|row| M::decode::<DB>(row, 0)).collect()
}

fn op<M: Model>(method: &'static str) -> Op {
    Op::model(M::def().name, method)
}

/// Whether a row with this id exists.
pub(crate) async fn exists_on<M: Model, DB: Backend>(
    conn: &mut DB::Connection,
    id: &M::Id,
) -> Result<bool> {
    let sql = &statements::<M, DB>().exists;
    let row = DB::fetch_optional(conn, sql.text(), sql.bind(&Binds::<DB>::id(id))?).await;
    Ok(row.at(op::<M>("exists"))?.is_some())
}

/// Takes `lock` on the row with this id for the rest of the transaction; `false` if there is
/// no such row.
pub(crate) async fn lock_on<M: Model, DB: Backend>(
    conn: &mut DB::Connection,
    id: &M::Id,
    lock: Lock,
    op: Op,
) -> Result<bool> {
    let sql = statements::<M, DB>().lock(lock);
    let row = DB::fetch_optional(conn, sql.text(), sql.bind(&Binds::<DB>::id(id))?).await;
    Ok(row.at(op)?.is_some())
}

/// Inserts `new` on `conn` and returns the stored row: `INSERT ... RETURNING`, or on MySQL
/// the insert and a read of the row it made (the caller holds a transaction around both).
pub(crate) async fn insert_on<M: Model, DB: Backend>(
    conn: &mut DB::Connection,
    new: &M::New,
    op: Op,
) -> Result<M> {
    let statements = statements::<M, DB>();
    let columns =
        |args: &mut DB::Arguments| M::bind_new_columns::<DB>(new, args).map_err(Error::encode);
    let binds = Binds::<DB> {
        id: M::new_id(new).map(|id| id as &dyn DynValue),
        ..Binds::default()
    };
    let args = statements.insert.bind(&binds.columns(&columns))?;
    let sql = statements.insert.text();
    let row = if DB::DIALECT.has_returning() {
        DB::fetch_optional(conn, sql, args).await.at(op)?
    } else {
        let id = match M::new_id(new) {
            Some(id) => {
                DB::execute(conn, sql, args).await.at(op)?;
                id.clone()
            }
            None => {
                let value = DB::insert_returning_id(conn, sql, args).await.at(op)?;
                M::id_from_generated(value).ok_or(Error::IdOutOfRange {
                    model: M::def().name,
                    value,
                })?
            }
        };
        let sql = &statements.find_by_id;
        DB::fetch_optional(conn, sql.text(), sql.bind(&Binds::<DB>::id(&id))?)
            .await
            .at(op)?
    };
    let row = row.ok_or_else(|| Error::Database {
        operation: op.to_string().into(),
        source: sqlx::Error::RowNotFound,
    })?;
    M::decode::<DB>(&row, 0).at(op)
}

/// `Model::create`: inserts one row and returns it as stored: one `INSERT ... RETURNING`, or
/// on MySQL an `INSERT` and a `SELECT` in one transaction.
pub async fn create<M: Model, A: Db>(db: A, new: M::New) -> Result<M> {
    let op = op::<M>("create");
    crate::trace::traced::<A::Database, _>(op, async move {
        let mut conn = db.connection().await.at(op)?;
        retrying!(
            A::Database,
            conn,
            op,
            create_on::<M, A::Database>(&mut conn, &new, op).await
        )
    })
    .await
}

async fn create_on<M: Model, DB: Backend>(
    conn: &mut DB::Connection,
    new: &M::New,
    op: Op,
) -> Result<M> {
    if DB::DIALECT.has_returning() {
        return insert_on::<M, DB>(conn, new, op).await;
    }
    let mut tx = begin::<DB>(conn).await.at(op)?;
    let row = insert_on::<M, DB>(&mut tx, new, op).await?;
    tx.commit().await.at(op)?;
    Ok(row)
}

/// `Model::find_by_id`: the row with this id, if any.
pub async fn find_by_id<M: Model, A: Db>(db: A, id: &M::Id) -> Result<Option<M>> {
    let op = op::<M>("find_by_id");
    crate::trace::traced::<A::Database, _>(op, async move {
        let mut conn = db.read_connection().await.at(op)?;
        let sql = &statements::<M, A::Database>().find_by_id;
        let args = sql.bind(&Binds::<A::Database>::id(id))?;
        let sql = sql.text();
        let row = <A::Database as Backend>::fetch_optional(&mut conn, sql, args).await;
        row.at(op)?
            .map(|row| M::decode::<A::Database>(&row, 0))
            .transpose()
            .at(op)
    })
    .await
}

/// `Model::find`: the rows matching `filter`, ordered by id unless it orders them.
pub async fn find<M: Model, A: Db>(db: A, filter: &Filter<M>) -> Result<Vec<M>> {
    let op = op::<M>("find");
    crate::trace::traced::<A::Database, _>(op, async move {
        filter.whole_rows(op)?;
        let select = &statements::<M, A::Database>().select;
        let mut w = SqlWriter::continuing(<A::Database as Backend>::DIALECT, select, 0);
        let mut args = <A::Database as sqlx::Database>::Arguments::default();
        filter.write_where::<A::Database>(&mut w, &mut args, ROWS, " WHERE ")?;
        filter.write_tail(&mut w, ROWS);
        let mut conn = db.read_connection().await.at(op)?;
        let rows = run::fetch_all::<A::Database>(&mut conn, w, args).await;
        decode_all::<M, A::Database>(rows.at(op)?).at(op)
    })
    .await
}

/// `Model::stream`: the rows matching `filter` as they arrive, decoded one by one, on the one
/// connection `executor` gives (a pool lends one for as long as the stream lives); nothing
/// is buffered beyond the driver's reads. A filter whose long value list needs a temporary
/// table (MySQL, thousands of values) cannot be streamed: the stream yields one
/// `Error::Unsupported`.
pub fn stream<'e, M, E>(executor: E, filter: &Filter<M>) -> BoxStream<'e, Result<M>>
where
    M: Model,
    E: sqlx::Executor<'e> + 'e,
    E::Database: Backend,
{
    use futures_util::StreamExt;
    let op = op::<M>("stream");
    if let Err(error) = filter.whole_rows(op) {
        return Box::pin(futures_util::stream::once(async move { Err(error) }));
    }
    let select = &statements::<M, E::Database>().select;
    let mut w = SqlWriter::continuing(<E::Database as Backend>::DIALECT, select, 0);
    let mut args = <E::Database as sqlx::Database>::Arguments::default();
    if let Err(error) = filter.write_where::<E::Database>(&mut w, &mut args, ROWS, " WHERE ") {
        return Box::pin(futures_util::stream::once(async move { Err(error) }));
    }
    filter.write_tail(&mut w, ROWS);
    let (sql, lists) = w.into_parts();
    if !lists.is_empty() {
        let error = Error::Unsupported {
            operation: op.to_string().into(),
            message: "a value list this long is read from a temporary table, which a stream \
                      cannot hold; use `find`, or fewer values"
                .to_owned(),
        };
        return Box::pin(futures_util::stream::once(async move { Err(error) }));
    }
    let rows =
        <E::Database as Backend>::fetch_stream(executor, AssertSqlSafe(sql).into_sql_str(), args);
    Box::pin(rows.map(move |row| row.and_then(|row| M::decode::<E::Database>(&row, 0)).at(op)))
}

/// `model.save()`: writes every column of `model` to its row, which must exist: one
/// `UPDATE`.
pub async fn save<M: Model, A: Db>(db: A, model: &M) -> Result<()> {
    let op = op::<M>("save");
    crate::trace::traced::<A::Database, _>(op, async move {
        let mut conn = db.connection().await.at(op)?;
        let sql = &statements::<M, A::Database>().update;
        let changed = retrying!(
            A::Database,
            conn,
            op,
            async {
                let columns = |args: &mut <A::Database as sqlx::Database>::Arguments| {
                    model
                        .bind_columns::<A::Database>(args)
                        .map_err(Error::encode)
                };
                let args = sql.bind(&Binds::<A::Database>::id(model.id()).columns(&columns))?;
                <A::Database as Backend>::execute(&mut conn, sql.text(), args)
                    .await
                    .at(op)
            }
            .await
        )?;
        if changed == 0 {
            return Err(Error::not_found(M::def().name, model.id()));
        }
        Ok(())
    })
    .await
}

/// `Model::delete_by_id`: deletes the row and its links in every relation the model declares,
/// in one transaction (whether or not the join tables have foreign keys). Returns whether a
/// row was deleted.
pub async fn delete_by_id<M: Model, A: Db>(db: A, id: &M::Id) -> Result<bool> {
    let op = op::<M>("delete_by_id");
    crate::trace::traced::<A::Database, _>(op, async move {
        let mut conn = db.connection().await.at(op)?;
        retrying!(
            A::Database,
            conn,
            op,
            async {
                let mut tx = begin::<A::Database>(&mut conn).await.at(op)?;
                let deleted = delete_on::<M, A::Database>(&mut tx, id, op).await?;
                tx.commit().await.at(op)?;
                Ok(deleted)
            }
            .await
        )
    })
    .await
}

/// `Model::delete_where`: deletes every row matching `filter` and their links in every
/// relation the model declares (with or without foreign keys), in one transaction, each row
/// locked before its links and itself are deleted. Returns how many rows were deleted.
pub async fn delete_where<M: Model, A: Db>(db: A, filter: &Filter<M>) -> Result<u64> {
    let op = op::<M>("delete_where");
    crate::trace::traced::<A::Database, _>(op, async move {
        let mut conn = db.connection().await.at(op)?;
        retrying!(
            A::Database,
            conn,
            op,
            async {
                let mut tx = begin::<A::Database>(&mut conn).await.at(op)?;
                let rows = find::<M, _>(&mut tx, filter).await?;
                let mut deleted = 0;
                for row in &rows {
                    if delete_on::<M, A::Database>(&mut tx, row.id(), op).await? {
                        deleted += 1;
                    }
                }
                tx.commit().await.at(op)?;
                Ok(deleted)
            }
            .await
        )
    })
    .await
}

/// `Model::find_one`: the first row matching `filter` (its order and skip honoured).
pub async fn find_one<M: Model, A: Db>(db: A, filter: Filter<M>) -> Result<Option<M>> {
    crate::trace::traced::<A::Database, _>(op::<M>("find_one"), async move {
        Ok(find::<M, A>(db, &filter.limit(1)).await?.into_iter().next())
    })
    .await
}

/// Deletes the row with this id and its links, inside the caller's transaction: locks the row
/// first, then deletes the links, then the row (on PostgreSQL one statement after the lock,
/// which must come first so that the deletes see every link written before it was granted).
/// `false` if there is no such row.
pub(crate) async fn delete_on<M: Model, DB: Backend>(
    conn: &mut DB::Connection,
    id: &M::Id,
    op: Op,
) -> Result<bool> {
    if !lock_on::<M, DB>(conn, id, Lock::Delete, op).await? {
        return Ok(false);
    }
    let statements = statements::<M, DB>();
    let binds = Binds::<DB>::id(id);
    if let Some(sql) = &statements.delete_with_links {
        let row = DB::fetch_optional(conn, sql.text(), sql.bind(&binds)?).await;
        let deleted: i64 = match row.at(op)? {
            Some(row) => DB::get(&row, 0).at(op)?,
            None => 0,
        };
        return Ok(deleted > 0);
    }
    for sql in &statements.unlink {
        DB::execute(conn, sql.text(), sql.bind(&binds)?)
            .await
            .at(op)?;
    }
    let sql = &statements.delete;
    let deleted = DB::execute(conn, sql.text(), sql.bind(&binds)?).await;
    Ok(deleted.at(op)? > 0)
}

/// `t."a", t."c"`: the columns a projection reads.
pub(crate) fn projection(def: &ModelDef, dialect: Dialect, mask: &[bool]) -> String {
    let mut w = SqlWriter::new(dialect);
    w.idents(
        Some("t"),
        def.columns
            .iter()
            .zip(mask)
            .filter(|(_, keep)| **keep)
            .map(|(c, _)| c.name),
    );
    w.finish()
}

/// `Model::select`: the rows matching `filter`, reading only its `fields`.
pub async fn select<M: Model, A: Db, S>(db: A, filter: &Filter<M, S>) -> Result<Vec<M::Partial>> {
    let op = op::<M>("select");
    crate::trace::traced::<A::Database, _>(op, async move {
        let def = M::def();
        let dialect = <A::Database as Backend>::DIALECT;
        let mask = filter.field_mask();
        let mut w = SqlWriter::new(dialect);
        w.push("SELECT ")
            .push(&projection(def, dialect, &mask))
            .push(" FROM ")
            .ident(def.table)
            .push(" AS t");
        let mut args = <A::Database as sqlx::Database>::Arguments::default();
        filter.write_where::<A::Database>(&mut w, &mut args, ROWS, " WHERE ")?;
        filter.write_tail(&mut w, ROWS);
        let mut conn = db.read_connection().await.at(op)?;
        let rows = run::fetch_all::<A::Database>(&mut conn, w, args)
            .await
            .at(op)?;
        rows.iter()
            .map(|row| M::decode_partial::<A::Database>(row, 0, &mask))
            .collect::<Result<_, _>>()
            .at(op)
    })
    .await
}

/// Whether the row with this id exists.
pub async fn exists<M: Model, A: Db>(db: A, id: &M::Id) -> Result<bool> {
    let op = op::<M>("exists");
    crate::trace::traced::<A::Database, _>(op, async move {
        let mut conn = db.read_connection().await.at(op)?;
        exists_on::<M, A::Database>(&mut conn, id).await
    })
    .await
}

/// How many rows match `filter`'s conditions.
pub async fn count<M: Model, A: Db>(db: A, filter: &Filter<M>) -> Result<u64> {
    let op = op::<M>("count");
    crate::trace::traced::<A::Database, _>(op, async move {
        let count = &statements::<M, A::Database>().count;
        let mut w = SqlWriter::continuing(<A::Database as Backend>::DIALECT, count, 0);
        let mut args = <A::Database as sqlx::Database>::Arguments::default();
        filter.write_where::<A::Database>(&mut w, &mut args, ROWS, " WHERE ")?;
        let mut conn = db.read_connection().await.at(op)?;
        let row = run::fetch_optional::<A::Database>(&mut conn, w, args)
            .await
            .at(op)?;
        crate::ops::relation::count_of::<A::Database>(row, op)
    })
    .await
}

/// Values of some columns, each with its column's index.
#[cfg(feature = "rest")]
pub(crate) type ColumnValues = Vec<(usize, Box<dyn DynValue>)>;

/// `UPDATE "Part" AS t SET <column> = ?, ... WHERE <filter>`: the columns of `values` (by
/// index) set on every row matching, in one statement; how many rows matched.
#[cfg(feature = "rest")]
pub(crate) async fn update_where<M: Model, A: Db>(
    db: A,
    filter: &Filter<M>,
    values: &ColumnValues,
) -> Result<u64> {
    let op = op::<M>("update_all");
    let def = M::def();
    let dialect = <A::Database as Backend>::DIALECT;
    let mut w = SqlWriter::new(dialect);
    let mut args = <A::Database as sqlx::Database>::Arguments::default();
    w.push("UPDATE ")
        .ident(def.table)
        .push(" AS ")
        .push(ROWS)
        .push(" SET ");
    for (i, (column, value)) in values.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        if dialect == Dialect::MySql {
            w.qualified(ROWS, def.columns[*column].name);
        } else {
            w.ident(def.columns[*column].name);
        }
        w.push(" = ").param();
        <A::Database as Backend>::bind_dyn(&mut args, value.as_ref()).map_err(Error::encode)?;
    }
    filter.write_where::<A::Database>(&mut w, &mut args, ROWS, " WHERE ")?;
    let mut conn = db.connection().await.at(op)?;
    run::execute::<A::Database>(&mut conn, w, args).await.at(op)
}

/// Writes `new`'s values (all but the id) to the row with this id; the row as stored, or
/// `None` if there is none: one `UPDATE ... RETURNING`, or on MySQL an `UPDATE` and a
/// `SELECT` in one transaction.
pub async fn update<M: Model, A: Db>(db: A, id: &M::Id, new: &M::New) -> Result<Option<M>> {
    let op = op::<M>("update");
    crate::trace::traced::<A::Database, _>(op, async move {
        let mut conn = db.connection().await.at(op)?;
        retrying!(
            A::Database,
            conn,
            op,
            update_on::<M, A::Database>(&mut conn, id, new, op).await
        )
    })
    .await
}

async fn update_on<M: Model, DB: Backend>(
    conn: &mut DB::Connection,
    id: &M::Id,
    new: &M::New,
    op: Op,
) -> Result<Option<M>> {
    let statements = statements::<M, DB>();
    let columns =
        |args: &mut DB::Arguments| M::bind_new_columns::<DB>(new, args).map_err(Error::encode);
    let binds = Binds::<DB>::id(id).columns(&columns);
    let row = if DB::DIALECT.has_returning() {
        let sql = &statements.update_returning;
        DB::fetch_optional(conn, sql.text(), sql.bind(&binds)?)
            .await
            .at(op)?
    } else {
        let mut tx = begin::<DB>(conn).await.at(op)?;
        let sql = &statements.update;
        if DB::execute(&mut tx, sql.text(), sql.bind(&binds)?)
            .await
            .at(op)?
            == 0
        {
            return Ok(None);
        }
        let sql = &statements.find_by_id;
        let row = DB::fetch_optional(&mut tx, sql.text(), sql.bind(&binds)?).await;
        let row = row.at(op)?;
        tx.commit().await.at(op)?;
        row
    };
    row.map(|row| M::decode::<DB>(&row, 0)).transpose().at(op)
}

/// Inserts every row of `news` in one transaction: all or none. Returns them as stored.
pub async fn create_many<M: Model, A: Db>(db: A, news: &[M::New]) -> Result<Vec<M>> {
    let op = op::<M>("create_many");
    crate::trace::traced::<A::Database, _>(op, async move {
        let mut conn = db.connection().await.at(op)?;
        retrying!(
            A::Database,
            conn,
            op,
            async {
                let mut tx = begin::<A::Database>(&mut conn).await.at(op)?;
                let mut created = Vec::with_capacity(news.len());
                for new in news {
                    created.push(insert_on::<M, A::Database>(&mut tx, new, op).await?);
                }
                tx.commit().await.at(op)?;
                Ok(created)
            }
            .await
        )
    })
    .await
}
