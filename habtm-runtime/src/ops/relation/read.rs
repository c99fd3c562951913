//! Reading the related rows of one owner: one statement each, no transaction, no lock.

use crate::backend::Backend;
use crate::db::Db;
use crate::def::{Model, Reads, Relation};
use crate::error::{Context, Op, Result};
use crate::filter::Filter;
use crate::ops::model::{self, decode_all};
use crate::run;
use crate::sql::{Binds, ROWS, SqlWriter};
use crate::statement;

use super::{Related, Unsaved};

impl<R, O, T> Related<R>
where
    R: Relation<Owner = O, Target = T>,
    O: Model,
    T: Model,
{
    /// The linked rows matching `filter` (which acts on the target's columns), in one
    /// statement. Where the join table has a unique key on the pair (every table `Schema`
    /// creates), a join read in the key's order: `SELECT t.* FROM "AssemblyPart" AS j INNER
    /// JOIN "Part" AS t ON t."id" = j."part_id" WHERE j."assembly_id" = ? AND <filter> ORDER
    /// BY j."part_id" LIMIT ...`; without one (LoopBack's tables), a semi-join, `... FROM
    /// "Part" AS t WHERE t."id" IN (SELECT j."part_id" ...)`, so that a pair stored twice
    /// comes back once. Whether the key exists is read from the catalog once per process.
    pub async fn find<A: Db>(&self, db: A, filter: Filter<T>) -> Result<Vec<T>> {
        let op = self.op("find");
        crate::trace::traced::<A::Database, _>(op, async move {
            filter.whole_rows(op)?;
            let mut conn = db.read_connection().await.at(op)?;
            let reads = self.reads::<A::Database>(&mut conn, op).await?;
            let mut w = SqlWriter::continuing(<A::Database as Backend>::DIALECT, &reads.select, 1);
            let mut args = self.owner_args::<A::Database>()?;
            filter.write_where::<A::Database>(&mut w, &mut args, ROWS, " AND ")?;
            filter.write_tail_keyed(&mut w, ROWS, reads.id_order);
            let rows = run::fetch_all::<A::Database>(&mut conn, w, args).await;
            decode_all::<T, A::Database>(rows.at(op)?).at(op)
        })
        .await
    }

    /// The linked rows matching `filter`, reading only its `fields` (LoopBack's `fields`):
    /// `find`'s statement with those columns in the `SELECT` list.
    pub async fn select<A: Db, S>(&self, db: A, filter: Filter<T, S>) -> Result<Vec<T::Partial>> {
        let op = self.op("select");
        crate::trace::traced::<A::Database, _>(op, async move {
            let dialect = <A::Database as Backend>::DIALECT;
            let mask = filter.field_mask();
            let mut conn = db.read_connection().await.at(op)?;
            let reads = self.reads::<A::Database>(&mut conn, op).await?;
            let head = format!(
                "SELECT {}{}",
                model::projection(T::def(), dialect, &mask),
                reads.from_linked
            );
            let mut w = SqlWriter::continuing(dialect, &head, 1);
            let mut args = self.owner_args::<A::Database>()?;
            filter.write_where::<A::Database>(&mut w, &mut args, ROWS, " AND ")?;
            filter.write_tail_keyed(&mut w, ROWS, reads.id_order);
            let rows = run::fetch_all::<A::Database>(&mut conn, w, args)
                .await
                .at(op)?;
            rows.iter()
                .map(|row| T::decode_partial::<A::Database>(row, 0, &mask))
                .collect::<Result<_, _>>()
                .at(op)
        })
        .await
    }

    /// Every linked row, ordered by id: `find`'s statement without a filter, built once.
    pub async fn all<A: Db>(&self, db: A) -> Result<Vec<T>> {
        let op = self.op("all");
        crate::trace::traced::<A::Database, _>(op, async move {
            let mut conn = db.read_connection().await.at(op)?;
            let sql = &self.reads::<A::Database>(&mut conn, op).await?.all;
            let args = sql.bind(&Binds::<A::Database>::owner(&self.owner_id))?;
            let rows = <A::Database as Backend>::fetch_all(&mut conn, sql.text(), args).await;
            decode_all::<T, A::Database>(rows.at(op)?).at(op)
        })
        .await
    }

    /// A new related row that is written only by [`Unsaved::save`]; no SQL until then.
    pub fn build(&self, data: T::New) -> Unsaved<R> {
        Unsaved {
            related: self.clone(),
            data,
        }
    }

    /// The row with this id, only if it is linked: `find`'s statement `AND j."part_id" =
    /// ?` (`t."id"` in the semi-join).
    pub async fn find_by_id<A: Db>(&self, db: A, target_id: T::Id) -> Result<Option<T>> {
        let op = self.op("find_by_id");
        crate::trace::traced::<A::Database, _>(op, async move {
            let mut conn = db.read_connection().await.at(op)?;
            let sql = &self.reads::<A::Database>(&mut conn, op).await?.find_by_id;
            let args = sql.bind(&Binds::<A::Database>::pair(&self.owner_id, &target_id))?;
            let row = <A::Database as Backend>::fetch_optional(&mut conn, sql.text(), args).await;
            row.at(op)?
                .map(|row| T::decode::<A::Database>(&row, 0))
                .transpose()
                .at(op)
        })
        .await
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
        crate::trace::traced::<A::Database, _>(op, async move {
            let mut conn = db.read_connection().await.at(op)?;
            self.exists_on::<A::Database>(&mut conn, &target_id, op)
                .await
        })
        .await
    }

    /// How many rows are linked: `SELECT COUNT(*) FROM "AssemblyPart" WHERE "assembly_id" =
    /// ?` where the join table has a unique key on the pair; without one, `SELECT COUNT(*)
    /// FROM "Part" AS t WHERE t."id" IN (<the linked ids>)`, so that a pair stored twice
    /// counts once.
    pub async fn count<A: Db>(&self, db: A) -> Result<u64> {
        let op = self.op("count");
        crate::trace::traced::<A::Database, _>(op, async move {
            let mut conn = db.read_connection().await.at(op)?;
            let sql = &self.reads::<A::Database>(&mut conn, op).await?.count;
            let args = sql.bind(&Binds::<A::Database>::owner(&self.owner_id))?;
            let row = <A::Database as Backend>::fetch_optional(&mut conn, sql.text(), args).await;
            count_of::<A::Database>(row.at(op)?, op)
        })
        .await
    }

    /// How many linked rows match `filter`'s conditions (its order, limit and skip are
    /// ignored): `SELECT COUNT(*)` over `find`'s rows `AND <filter>`.
    pub async fn count_where<A: Db>(&self, db: A, filter: Filter<T>) -> Result<u64> {
        let op = self.op("count_where");
        crate::trace::traced::<A::Database, _>(op, async move {
            let mut conn = db.read_connection().await.at(op)?;
            let count = &self.reads::<A::Database>(&mut conn, op).await?.count_where;
            let mut w = SqlWriter::continuing(<A::Database as Backend>::DIALECT, count, 1);
            let mut args = self.owner_args::<A::Database>()?;
            filter.write_where::<A::Database>(&mut w, &mut args, ROWS, " AND ")?;
            let row = run::fetch_optional::<A::Database>(&mut conn, w, args).await;
            count_of::<A::Database>(row.at(op)?, op)
        })
        .await
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
        crate::trace::traced::<A::Database, _>(op, async move {
            let mut conn = db.read_connection().await.at(op)?;
            self.ids_on::<A::Database>(&mut conn, op).await
        })
        .await
    }
}

impl<R: Relation> Related<R> {
    /// The reads that fit the join table: a join where it holds each pair once, else a
    /// semi-join.
    async fn reads<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        op: Op,
    ) -> Result<&'static Reads> {
        let statements = statement::relation(R::def(), DB::DIALECT);
        Ok(if R::def().unique::<DB>(conn, op).await? {
            &statements.join
        } else {
            &statements.semi_join
        })
    }
}

/// The count in the first column of `row`.
pub(crate) fn count_of<DB: Backend>(row: Option<DB::Row>, op: Op) -> Result<u64> {
    let Some(row) = row else {
        return Ok(0);
    };
    let count: i64 = DB::get(&row, 0).at(op)?;
    Ok(count.unsigned_abs())
}
