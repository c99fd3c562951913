//! A join model's own columns: linking with data, reading links with their rows, updating a
//! link's data.

use crate::backend::Backend;
use crate::db::Db;
use crate::def::{Model, Relation, ThroughStatements};
use crate::error::{Context, Error, Result};
use crate::filter::Filter;
use crate::ops::model;
use crate::retry::{begin, retrying};
use crate::run;
use crate::sql::{Binds, JOIN_ROWS, SqlWriter};

use super::Related;

/// The methods of a relation `through` a join model `X`.
impl<R, O, T, X> Related<R>
where
    R: Relation<Owner = O, Target = T, Link = X>,
    O: Model,
    T: Model,
    X: Model,
{
    /// Links an existing row, writing `data` into the join row: LoopBack's
    /// `add(fk, data)` on a relation with a join model `X`. The key fields of `data` are
    /// ignored: the join row gets this owner's and `target_id`'s keys. Linking again
    /// changes nothing (use [`update_link`](Self::update_link) to change the data). The
    /// statements of [`add`](Self::add), with the data's columns in the join row.
    pub async fn add_with<A: Db>(&self, db: A, target_id: T::Id, data: X::New) -> Result<()> {
        let op = self.op("add_with");
        crate::trace::traced::<A::Database, _>(op, async move {
            self.refuse_self_link([&target_id], op)?;
            let through = self.through_statements::<A::Database>(op)?;
            let bind_data = |args: &mut <A::Database as sqlx::Database>::Arguments| {
                bind_data::<A::Database, X>(through, &data, args)
            };
            let mut conn = db.connection().await.at(op)?;
            retrying!(
                A::Database,
                conn,
                op,
                self.link_on::<A::Database>(&mut conn, &target_id, Some(&bind_data), op)
                    .await
            )
        })
        .await
    }

    /// Inserts a row and links it, writing `link` into the join row (its key fields are
    /// ignored): `create` and `add_with` in one transaction, so that nothing is written when
    /// either fails (a missing owner, or join data the table refuses).
    pub async fn create_with<A: Db>(&self, db: A, data: T::New, link: &X::New) -> Result<T> {
        let op = self.op("create_with");
        crate::trace::traced::<A::Database, _>(op, async move {
            let through = self.through_statements::<A::Database>(op)?;
            let bind_link = |args: &mut <A::Database as sqlx::Database>::Arguments| {
                bind_data::<A::Database, X>(through, link, args)
            };
            let mut conn = db.connection().await.at(op)?;
            retrying!(
                A::Database,
                conn,
                op,
                async {
                    let mut tx = begin::<A::Database>(&mut conn).await.at(op)?;
                    let row = model::insert_on::<T, A::Database>(&mut tx, &data, op).await?;
                    self.link_on::<A::Database>(&mut tx, row.id(), Some(&bind_link), op)
                        .await?;
                    tx.commit().await.at(op)?;
                    Ok(row)
                }
                .await
            )
        })
        .await
    }

    /// Links every row in `ids`, as [`add_many`](Self::add_many), each new join row getting
    /// `link`'s data (links that exist keep theirs). Returns how many links are new. The
    /// statements of `add_many`'s transaction, with the data bound once in its insert.
    pub async fn add_many_with<A: Db, I>(&self, db: A, ids: I, link: &X::New) -> Result<u64>
    where
        I: IntoIterator<Item = T::Id>,
    {
        let op = self.op("add_many_with");
        crate::trace::traced::<A::Database, _>(op, async move {
            let through = self.through_statements::<A::Database>(op)?;
            let bind_link = |args: &mut <A::Database as sqlx::Database>::Arguments| {
                bind_data::<A::Database, X>(through, link, args)
            };
            self.add_many_call(db, ids, Some(&bind_link), op).await
        })
        .await
    }

    /// Makes the linked rows exactly `ids`, as [`set`](Self::set): the links that stay keep
    /// their data, the new ones get `link`'s.
    pub async fn set_with<A: Db, I>(&self, db: A, ids: I, link: &X::New) -> Result<()>
    where
        I: IntoIterator<Item = T::Id>,
    {
        let op = self.op("set_with");
        crate::trace::traced::<A::Database, _>(op, async move {
            let through = self.through_statements::<A::Database>(op)?;
            let bind_link = |args: &mut <A::Database as sqlx::Database>::Arguments| {
                bind_data::<A::Database, X>(through, link, args)
            };
            self.set_call(db, ids, Some(&bind_link), op).await
        })
        .await
    }

    /// The linked rows with their join rows, `(part, link)`, where `filter` acts on the join
    /// model's columns: its conditions, its order (by the join row's id unless it orders
    /// them), limit and skip. `Filter::new().order_by(AssemblyPart::POSITION)` lists the
    /// parts in their position order. One statement: `SELECT t.*, j.* FROM "KitComponent"
    /// AS j INNER JOIN "Component" AS t ON t."id" = j."component_id" WHERE j."kit_id" = ? AND
    /// <filter on j> ORDER BY ...`.
    pub async fn find_with_links<A: Db>(&self, db: A, filter: Filter<X>) -> Result<Vec<(T, X)>> {
        let op = self.op("find_with_links");
        crate::trace::traced::<A::Database, _>(op, async move {
            let through = self.through_statements::<A::Database>(op)?;
            let dialect = <A::Database as Backend>::DIALECT;
            let mut w = SqlWriter::continuing(dialect, &through.with_links, 1);
            let mut args = self.owner_args::<A::Database>()?;
            filter.write_where::<A::Database>(&mut w, &mut args, JOIN_ROWS, " AND ")?;
            filter.write_tail(&mut w, JOIN_ROWS);
            let mut conn = db.read_connection().await.at(op)?;
            let rows = run::fetch_all::<A::Database>(&mut conn, w, args)
                .await
                .at(op)?;
            let width = T::def().columns.len();
            rows.iter()
                .map(|row| {
                    Ok((
                        T::decode::<A::Database>(row, 0)?,
                        X::decode::<A::Database>(row, width)?,
                    ))
                })
                .collect::<Result<_, sqlx::Error>>()
                .at(op)
        })
        .await
    }

    /// How many of this owner's links match `filter` on the join model's columns:
    /// `SELECT COUNT(*) FROM "KitComponent" AS j WHERE j."kit_id" = ? AND <filter on j>`.
    /// `kit.components().count_links(db, Filter::new().filter(KitComponent::QUANTITY.gt(Some(2))))`.
    pub async fn count_links<A: Db>(&self, db: A, filter: Filter<X>) -> Result<u64> {
        let op = self.op("count_links");
        crate::trace::traced::<A::Database, _>(op, async move {
            self.through_statements::<A::Database>(op)?;
            let rel = self.rel();
            let mut w = SqlWriter::new(<A::Database as Backend>::DIALECT);
            w.push("SELECT COUNT(*) FROM ")
                .ident(rel.table())
                .push(" AS ")
                .push(JOIN_ROWS)
                .push(" WHERE ")
                .qualified(JOIN_ROWS, rel.owner_key)
                .push(" = ")
                .param();
            let mut args = self.owner_args::<A::Database>()?;
            filter.write_where::<A::Database>(&mut w, &mut args, JOIN_ROWS, " AND ")?;
            let mut conn = db.read_connection().await.at(op)?;
            let row = run::fetch_optional::<A::Database>(&mut conn, w, args)
                .await
                .at(op)?;
            super::count_of::<A::Database>(row, op)
        })
        .await
    }

    /// Writes `data` into the join row of this link (every column but its id and the two
    /// keys); `false` if the row is not linked: `UPDATE "KitComponent" SET ... WHERE
    /// "kit_id" = ? AND "component_id" = ?`.
    pub async fn update_link<A: Db>(&self, db: A, target_id: T::Id, data: X::New) -> Result<bool> {
        let op = self.op("update_link");
        crate::trace::traced::<A::Database, _>(op, async move {
            let through = self.through_statements::<A::Database>(op)?;
            let Some(sql) = &through.update_link else {
                return self.exists(db, target_id).await;
            };
            let mut conn = db.connection().await.at(op)?;
            let updated = retrying!(
                A::Database,
                conn,
                op,
                async {
                    let columns = |args: &mut <A::Database as sqlx::Database>::Arguments| {
                        bind_data::<A::Database, X>(through, &data, args)
                    };
                    let binds = Binds::<A::Database>::pair(&self.owner_id, &target_id);
                    let args = sql.bind(&binds.columns(&columns))?;
                    <A::Database as Backend>::execute(&mut conn, sql.text(), args)
                        .await
                        .at(op)
                }
                .await
            )?;
            // MySQL counts rows that matched; the others count rows written, which is the same here.
            Ok(updated > 0)
        })
        .await
    }
}

/// Binds the join model's data columns of `data`, in the order its statements write them.
fn bind_data<DB: Backend, X: Model>(
    through: &ThroughStatements,
    data: &X::New,
    args: &mut DB::Arguments,
) -> Result<()> {
    for &column in &through.data {
        X::bind_new_field::<DB>(data, column, args).map_err(Error::encode)?;
    }
    Ok(())
}
