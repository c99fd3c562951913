//! Eager loading (LoopBack's `include`): the related rows of many owners in one statement (on
//! PostgreSQL), or one per chunk of owners.

use std::collections::HashMap;

use crate::backend::Backend;
use crate::db::Db;
use crate::def::{Model, Relation, RelationDef};
use crate::dialect::Dialect;
use crate::error::{Context, Error, Result};
use crate::filter::Filter;
use crate::run;
use crate::sql::{ROWS, SqlWriter};
use crate::statement;
use crate::value::{DynValue, json_list};

use super::{MAX_CHUNK_ROWS, bind_padded, distinct};

/// LoopBack's `include`: the related rows of many owners, aligned with `owners`, in one
/// statement: the owners' ids are one parameter (a PostgreSQL array; a JSON text on SQLite,
/// for integer and text ids). On MySQL, and for other ids, as many statements as the bind
/// limit requires (one for up to 10,000 owners).
///
/// The filter applies to each owner on its own: a limit of 3 gives each owner up to 3 rows
/// (`ROW_NUMBER() OVER (PARTITION BY <owner key> ...)`), not 3 in all.
pub async fn load<R, O, T, A: Db>(db: A, owners: &[O], filter: Filter<T>) -> Result<Vec<Vec<T>>>
where
    R: Relation<Owner = O, Target = T>,
    O: Model,
    T: Model,
{
    load_ids::<R, O, T, A>(db, owners.iter().map(Model::id).collect(), filter).await
}

/// [`load`] for owners known by their ids alone.
pub(crate) async fn load_ids<R, O, T, A: Db>(
    db: A,
    owners: Vec<&O::Id>,
    filter: Filter<T>,
) -> Result<Vec<Vec<T>>>
where
    R: Relation<Owner = O, Target = T>,
    O: Model,
    T: Model,
{
    let op = R::def().op("load");
    crate::trace::traced::<A::Database, _>(op, async move {
        let mut conn = db.read_connection().await.at(op)?;
        load_on::<R, O, T, A::Database>(&mut conn, owners, &filter).await
    })
    .await
}

/// [`load_ids`] on a connection: what each level of an [`Include`](super::Include) runs.
pub(crate) async fn load_on<R, O, T, DB: Backend>(
    conn: &mut DB::Connection,
    owners: Vec<&O::Id>,
    filter: &Filter<T>,
) -> Result<Vec<Vec<T>>>
where
    R: Relation<Owner = O, Target = T>,
    O: Model,
    T: Model,
{
    let rel = R::def();
    let op = rel.op("load");
    filter.whole_rows(op)?;
    let mut out: Vec<Vec<T>> = owners.iter().map(|_| Vec::new()).collect();
    let mut positions: HashMap<&O::Id, Vec<usize>> = HashMap::with_capacity(owners.len());
    for (i, id) in owners.iter().enumerate() {
        positions.entry(*id).or_default().push(i);
    }
    if positions.is_empty() {
        return Ok(out);
    }
    let distinct: Vec<&O::Id> = distinct(owners.iter().copied());
    let dialect = DB::DIALECT;
    // The owners as one parameter (a PostgreSQL array, a JSON text): any number in one
    // statement.
    // MySQL takes one parameter per owner: with the owners as one JSON text through
    // `JSON_TABLE`, eager loading of 1,000 owners took 39 ms instead of 26 (BENCHMARKS.md).
    let sample = distinct.first().map(|&id| id as &dyn DynValue);
    let one_parameter = match dialect {
        Dialect::Postgres => true,
        Dialect::Sqlite => json_list(dialect, sample),
        Dialect::MySql => false,
    };
    let chunk_size = if one_parameter {
        distinct.len()
    } else {
        dialect
            .max_binds()
            .saturating_sub(filter.bind_count(dialect))
            .clamp(1, MAX_CHUNK_ROWS)
    };
    for chunk in distinct.chunks(chunk_size) {
        let (w, args) = load_statement::<O, T, DB>(rel, chunk, filter, one_parameter)?;
        let rows = run::fetch_all_once::<DB>(conn, w, args).await.at(op)?;
        for row in &rows {
            let owner: O::Id = DB::get(row, 0).at(op)?;
            for &i in positions.get(&owner).map(Vec::as_slice).unwrap_or_default() {
                out[i].push(T::decode::<DB>(row, 1).at(op)?);
            }
        }
    }
    Ok(out)
}

/// `SELECT j.<owner key>, t.* ... WHERE j.<owner key> IN (...)`, windowed when the filter
/// has a limit or skip.
fn load_statement<O: Model, T: Model, DB: Backend>(
    rel: &'static RelationDef,
    owners: &[&O::Id],
    filter: &Filter<T>,
    one_parameter: bool,
) -> Result<(SqlWriter, DB::Arguments)> {
    let target = T::def();
    let select_list = &statement::model(target, DB::DIALECT).select_list;
    let windowed = filter.limit_value().is_some() || filter.skip_value().is_some();
    let mut w = SqlWriter::new(DB::DIALECT);
    let mut args = DB::Arguments::default();
    if windowed {
        w.push("SELECT * FROM (");
    }
    w.push("SELECT ")
        .qualified("j", rel.owner_key)
        .push(" AS habtm_owner, ")
        .push(select_list);
    if windowed {
        w.push(", ROW_NUMBER() OVER (PARTITION BY ")
            .qualified("j", rel.owner_key)
            .push(" ORDER BY ");
        filter.write_order(&mut w, ROWS);
        w.push(") AS habtm_rank");
    }
    let ids = || -> Vec<O::Id> { owners.iter().map(|&id| id.clone()).collect() };
    w.push(" FROM ")
        .ident(target.table)
        .push(" AS t INNER JOIN ")
        .ident(rel.table());
    w.push(" AS j ON ")
        .qualified("j", rel.target_key)
        .push(" = ")
        .qualified("t", target.id_column().name);
    w.push(" WHERE ").qualified("j", rel.owner_key).push(" IN ");
    if DB::DIALECT == Dialect::Postgres {
        let owner_type = (O::def().id_column().sql_type)(DB::DIALECT);
        w.push("(SELECT unnest(").param().push("::");
        w.push(&owner_type).push("[]))");
        DB::bind_array(&mut args, &ids()).map_err(Error::encode)?;
    } else if one_parameter {
        // One JSON text, whatever the number of owners.
        w.push("(SELECT value FROM json_each(").param().push("))");
        DB::bind_array(&mut args, &ids()).map_err(Error::encode)?;
    } else {
        let places = DB::DIALECT.padded(owners.len());
        w.param_list(places);
        bind_padded::<DB, O::Id>(&mut args, owners, places)?;
    }
    filter.write_where::<DB>(&mut w, &mut args, ROWS, " AND ")?;
    if windowed {
        let skip = filter.skip_value().unwrap_or(0);
        w.push(&format!(") AS ranked WHERE habtm_rank > {skip}"));
        if let Some(limit) = filter.limit_value() {
            w.push(&format!(
                " AND habtm_rank <= {}",
                skip.saturating_add(limit)
            ));
        }
        w.push(" ORDER BY habtm_owner, habtm_rank");
    } else {
        w.push(" ORDER BY ")
            .qualified("j", rel.owner_key)
            .push(", ");
        filter.write_order(&mut w, ROWS);
    }
    Ok((w, args))
}
