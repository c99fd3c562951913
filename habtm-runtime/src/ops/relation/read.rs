//! Reading the related rows of one owner: one statement each, no transaction, no lock.

use crate::backend::Backend;
use crate::db::Db;
use crate::def::{Model, Relation};
use crate::error::{Context, Op, Result};
use crate::filter::Filter;
use crate::ops::model::{self, decode_all};
use crate::run;
use crate::sql::{Binds, ROWS, SqlWriter};

use super::{Related, Unsaved};

impl<R, O, T> Related<R>
where
    R: Relation<Owner = O, Target = T>,
    O: Model,
    T: Model,
{
    /// The linked rows matching `filter` (which acts on the target's columns), in one
    /// statement: `SELECT t.* FROM "Part" AS t WHERE t."id" IN (SELECT j."part_id" FROM
    /// "AssemblyPart" AS j WHERE j."assembly_id" = ?) AND <filter> ORDER BY ... LIMIT ...`.
    pub async fn find<A: Db>(&self, db: A, filter: Filter<T>) -> Result<Vec<T>> {
        let op = self.op("find");
        let select = &self.statements::<A::Database>().select;
        let mut w = SqlWriter::continuing(<A::Database as Backend>::DIALECT, select, 1);
        let mut args = self.owner_args::<A::Database>()?;
        filter.write_where::<A::Database>(&mut w, &mut args, ROWS, " AND ")?;
        filter.write_tail(&mut w, ROWS);
        let mut conn = db.connection().await.at(op)?;
        let rows = run::fetch_all::<A::Database>(&mut conn, w, args).await;
        decode_all::<T, A::Database>(rows.at(op)?).at(op)
    }

    /// The linked rows matching `filter`, reading only its `fields` (LoopBack's `fields`):
    /// `find`'s statement with those columns in the `SELECT` list.
    pub async fn select<A: Db>(&self, db: A, filter: Filter<T>) -> Result<Vec<T::Partial>> {
        let op = self.op("select");
        let dialect = <A::Database as Backend>::DIALECT;
        let mask = filter.field_mask();
        let from_linked = &self.statements::<A::Database>().from_linked;
        let head = format!(
            "SELECT {}{from_linked}",
            model::projection(T::def(), dialect, &mask)
        );
        let mut w = SqlWriter::continuing(dialect, &head, 1);
        let mut args = self.owner_args::<A::Database>()?;
        filter.write_where::<A::Database>(&mut w, &mut args, ROWS, " AND ")?;
        filter.write_tail(&mut w, ROWS);
        let mut conn = db.connection().await.at(op)?;
        let rows = run::fetch_all::<A::Database>(&mut conn, w, args)
            .await
            .at(op)?;
        rows.iter()
            .map(|row| T::decode_partial::<A::Database>(row, 0, &mask))
            .collect::<Result<_, _>>()
            .at(op)
    }

    /// Every linked row, ordered by id: `find`'s statement without a filter, built once.
    pub async fn all<A: Db>(&self, db: A) -> Result<Vec<T>> {
        let op = self.op("all");
        let sql = &self.statements::<A::Database>().all;
        let args = sql.bind(&Binds::<A::Database>::owner(&self.owner_id))?;
        let mut conn = db.connection().await.at(op)?;
        let rows = <A::Database as Backend>::fetch_all(&mut conn, sql.text(), args).await;
        decode_all::<T, A::Database>(rows.at(op)?).at(op)
    }

    /// A new related row that is written only by [`Unsaved::save`]; no SQL until then.
    pub fn build(&self, data: T::New) -> Unsaved<R> {
        Unsaved {
            related: self.clone(),
            data,
        }
    }

    /// The row with this id, only if it is linked: `find`'s statement `AND t."id" = ?`.
    pub async fn find_by_id<A: Db>(&self, db: A, target_id: T::Id) -> Result<Option<T>> {
        let op = self.op("find_by_id");
        let sql = &self.statements::<A::Database>().find_by_id;
        let args = sql.bind(&Binds::<A::Database>::pair(&self.owner_id, &target_id))?;
        let mut conn = db.connection().await.at(op)?;
        let row = <A::Database as Backend>::fetch_optional(&mut conn, sql.text(), args).await;
        row.at(op)?
            .map(|row| T::decode::<A::Database>(&row, 0))
            .transpose()
            .at(op)
    }

    pub(super) async fn exists_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        target_id: &T::Id,
        op: Op,
    ) -> Result<bool> {
        let sql = &self.statements::<DB>().exists;
        let args = sql.bind(&Binds::<DB>::pair(&self.owner_id, target_id))?;
        let row = DB::fetch_optional(conn, sql.text(), args).await;
        Ok(row.at(op)?.is_some())
    }

    /// Whether the row with this id is linked: `SELECT 1 FROM "AssemblyPart" WHERE
    /// "assembly_id" = ? AND "part_id" = ?`.
    pub async fn exists<A: Db>(&self, db: A, target_id: T::Id) -> Result<bool> {
        let op = self.op("exists");
        let mut conn = db.connection().await.at(op)?;
        self.exists_on::<A::Database>(&mut conn, &target_id, op)
            .await
    }

    /// How many rows are linked: `SELECT COUNT(*) FROM "Part" AS t WHERE t."id" IN (<the
    /// linked ids>)`, so that a pair linked twice in a table without a unique key counts once.
    pub async fn count<A: Db>(&self, db: A) -> Result<u64> {
        let op = self.op("count");
        let sql = &self.statements::<A::Database>().count;
        let args = sql.bind(&Binds::<A::Database>::owner(&self.owner_id))?;
        let mut conn = db.connection().await.at(op)?;
        let row = <A::Database as Backend>::fetch_optional(&mut conn, sql.text(), args).await;
        count_of::<A::Database>(row.at(op)?, op)
    }

    /// How many linked rows match `filter`'s conditions (its order, limit and skip are
    /// ignored): `count`'s statement `AND <filter>`.
    pub async fn count_where<A: Db>(&self, db: A, filter: Filter<T>) -> Result<u64> {
        let op = self.op("count_where");
        let count = &self.statements::<A::Database>().count.sql;
        let mut w = SqlWriter::continuing(<A::Database as Backend>::DIALECT, count, 1);
        let mut args = self.owner_args::<A::Database>()?;
        filter.write_where::<A::Database>(&mut w, &mut args, ROWS, " AND ")?;
        let mut conn = db.connection().await.at(op)?;
        let row = run::fetch_optional::<A::Database>(&mut conn, w, args).await;
        count_of::<A::Database>(row.at(op)?, op)
    }

    pub(super) async fn ids_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        op: Op,
    ) -> Result<Vec<T::Id>> {
        let sql = &self.statements::<DB>().ids;
        let args = sql.bind(&Binds::<DB>::owner(&self.owner_id))?;
        let rows = DB::fetch_all(conn, sql.text(), args).await.at(op)?;
        rows.iter()
            .map(|row| DB::get::<T::Id>(row, 0))
            .collect::<Result<_, _>>()
            .at(op)
    }

    /// The ids of the linked rows, in ascending order, from the join table alone:
    /// `SELECT "part_id" FROM "AssemblyPart" WHERE "assembly_id" = ? ORDER BY "part_id"`.
    pub async fn ids<A: Db>(&self, db: A) -> Result<Vec<T::Id>> {
        let op = self.op("ids");
        let mut conn = db.connection().await.at(op)?;
        self.ids_on::<A::Database>(&mut conn, op).await
    }
}

/// The count in the first column of `row`.
pub(super) fn count_of<DB: Backend>(row: Option<DB::Row>, op: Op) -> Result<u64> {
    let Some(row) = row else {
        return Ok(0);
    };
    let count: i64 = DB::get(&row, 0).at(op)?;
    Ok(count.unsigned_abs())
}
