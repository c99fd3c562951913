//! Writing one link, or one related row: create, add, remove, update, destroy, clear.

use std::any::TypeId;

use crate::backend::Backend;
use crate::db::Db;
use crate::def::{Model, Relation};
use crate::dialect::{Dialect, Lock};
use crate::error::{Context, Error, Op, Result};
use crate::ops::model;
use crate::retry::{begin, retrying};
use crate::sql::{BindColumns, Binds, Statement};
use crate::value::DynValue;

use super::Related;

impl<R, O, T> Related<R>
where
    R: Relation<Owner = O, Target = T>,
    O: Model,
    T: Model,
{
    /// Inserts a row and links it: both happen or neither, and a missing owner is
    /// [`Error::NotFound`]. On PostgreSQL one statement, which locks the owner, then inserts
    /// the row (only if the owner exists) and the link. Elsewhere, in one transaction, the
    /// row's `INSERT` (with `RETURNING` where the database has it), then `INSERT INTO
    /// "AssemblyPart" (...) SELECT o."id", ? FROM "Assembly" AS o WHERE o."id" = ?`, which
    /// writes nothing, and fails the call, if the owner is gone.
    pub async fn create<A: Db>(&self, db: A, data: T::New) -> Result<T> {
        let op = self.op("create");
        crate::trace::traced::<A::Database, _>(op, async move {
            let mut conn = db.connection().await.at(op)?;
            retrying!(
                A::Database,
                conn,
                op,
                self.create_on::<A::Database>(&mut conn, &data, op).await
            )
        })
        .await
    }

    /// Inserts and links every row of `data`, in one transaction: all or none; `create`'s
    /// two statements per row.
    pub async fn create_many<A: Db>(&self, db: A, data: &[T::New]) -> Result<Vec<T>> {
        let op = self.op("create_many");
        crate::trace::traced::<A::Database, _>(op, async move {
            let mut conn = db.connection().await.at(op)?;
            retrying!(
                A::Database,
                conn,
                op,
                self.create_many_on::<A::Database>(&mut conn, data, op)
                    .await
            )
        })
        .await
    }

    async fn create_many_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        data: &[T::New],
        op: Op,
    ) -> Result<Vec<T>> {
        // One transaction around them all; each create is a savepoint inside it.
        let mut tx = begin::<DB>(conn).await.at(op)?;
        let mut created = Vec::with_capacity(data.len());
        for item in data {
            created.push(self.create_on::<DB>(&mut tx, item, op).await?);
        }
        tx.commit().await.at(op)?;
        Ok(created)
    }

    /// `create`, and for a symmetric relation the new row linked back to the owner.
    async fn create_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        data: &T::New,
        op: Op,
    ) -> Result<T> {
        let Some(mirror) = self.mirror() else {
            return self.create_one_on::<DB>(conn, data, op).await;
        };
        let mut tx = begin::<DB>(conn).await.at(op)?;
        // No one else can link the new row before this commits: the owner alone is locked.
        self.lock_ends::<DB>(&mut tx, &[], op).await?;
        let row = self.create_one_on::<DB>(&mut tx, data, op).await?;
        mirror
            .link_one_on::<DB>(&mut tx, row.id(), None, op)
            .await?;
        tx.commit().await.at(op)?;
        Ok(row)
    }

    async fn create_one_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        data: &T::New,
        op: Op,
    ) -> Result<T> {
        if let Some(sql) = &self.statements::<DB>().create {
            let columns = |args: &mut DB::Arguments| {
                T::bind_new_columns::<DB>(data, args).map_err(Error::encode)
            };
            let binds = Binds::<DB> {
                id: T::new_id(data).map(|id| id as &dyn DynValue),
                ..Binds::owner(&self.owner_id)
            };
            let args = sql.bind(&binds.columns(&columns))?;
            return match DB::fetch_optional(conn, sql.text(), args).await.at(op)? {
                Some(row) => T::decode::<DB>(&row, 0).at(op),
                None => Err(Error::not_found(O::def().name, &self.owner_id)),
            };
        }
        let mut tx = begin::<DB>(conn).await.at(op)?;
        let row = model::insert_on::<T, DB>(&mut tx, data, op).await?;
        let sql = &self.statements::<DB>().link_new;
        let args = sql.bind(&Binds::<DB>::pair(&self.owner_id, row.id()))?;
        if DB::execute(&mut tx, sql.text(), args).await.at(op)? == 0 {
            return Err(Error::not_found(O::def().name, &self.owner_id));
        }
        tx.commit().await.at(op)?;
        Ok(row)
    }

    /// Links an existing row; linking it again changes nothing. Where the join table has a
    /// unique key on the pair, one statement that reads both rows and ignores an existing
    /// link: `INSERT INTO "AssemblyPart" (...) SELECT o."id", t."id" FROM "Assembly" AS o,
    /// "Part" AS t WHERE o."id" = ? AND t."id" = ? ON CONFLICT DO NOTHING` (MySQL: `ON
    /// DUPLICATE KEY UPDATE`; PostgreSQL also says which rows exist). Where it has none
    /// (LoopBack's own tables), a transaction that locks both rows, then inserts unless the
    /// pair exists. A missing owner or target is [`Error::NotFound`] naming it.
    pub async fn add<A: Db>(&self, db: A, target_id: T::Id) -> Result<()> {
        let op = self.op("add");
        crate::trace::traced::<A::Database, _>(op, async move {
            self.refuse_self_link([&target_id], op)?;
            let mut conn = db.connection().await.at(op)?;
            retrying!(
                A::Database,
                conn,
                op,
                self.link_on::<A::Database>(&mut conn, &target_id, None, op)
                    .await
            )
        })
        .await
    }

    /// Writes the link to `target_id` unless it exists (and for a symmetric relation its
    /// mirror, in one transaction), with the join model's data that `columns` binds (`None`
    /// for a plain join table).
    pub(super) async fn link_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        target_id: &T::Id,
        columns: Option<BindColumns<'_, DB>>,
        op: Op,
    ) -> Result<()> {
        both_ways!(
            DB,
            self,
            conn,
            op,
            std::slice::from_ref(target_id),
            |this, c| this.link_one_on::<DB>(c, target_id, columns, op).await
        )
    }

    /// Writes one link unless it exists: where the join table has a unique key on the pair
    /// one statement (`add`, or the join model's `add` with `columns`), and where it has none,
    /// its guarded form after locking both rows. A missing owner or target is
    /// [`Error::NotFound`], whichever statement noticed.
    async fn link_one_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        target_id: &T::Id,
        columns: Option<BindColumns<'_, DB>>,
        op: Op,
    ) -> Result<()> {
        let statements = self.statements::<DB>();
        let sql: (&'static Statement, &'static Statement) = match columns {
            None => (&statements.add, &statements.add_guarded),
            Some(_) => {
                let through = self.through_statements::<DB>(op)?;
                (&through.add, &through.add_guarded)
            }
        };
        // Join data is written as on a table without a unique key: the pairs skipped by hand,
        // after locks, so that a violation of another unique key is an error, not a skip.
        let guarded = columns.is_some() || self.rel().guarded::<DB>(conn, op).await?;
        let binds = Binds::<DB> {
            columns,
            ..Binds::pair(&self.owner_id, target_id)
        };
        if guarded {
            let mut tx = begin::<DB>(conn).await.at(op)?;
            self.lock_parents::<DB>(
                &mut tx,
                Lock::Update,
                std::slice::from_ref(target_id),
                Lock::Share,
                false,
                op,
            )
            .await?;
            // MySQL reads the pair apart from the insert: a locking read of a table without
            // an index would lock all of it.
            if DB::DIALECT != Dialect::MySql
                || !self.exists_on::<DB>(&mut tx, target_id, op).await?
            {
                let args = sql.1.bind(&binds)?;
                DB::execute(&mut tx, sql.1.text(), args).await.at(op)?;
            }
            return tx.commit().await.at(op);
        }
        if DB::DIALECT == Dialect::Postgres {
            let args = sql.0.bind(&binds)?;
            let row = DB::fetch_optional(conn, sql.0.text(), args).await;
            let (owner, target) = match row {
                Ok(Some(row)) => {
                    let linked: i64 = DB::get(&row, 0).at(op)?;
                    let owner: bool = DB::get(&row, 1).at(op)?;
                    let target: bool = DB::get(&row, 2).at(op)?;
                    (owner || linked > 0, target || linked > 0)
                }
                Ok(None) => (false, false),
                Err(error) => return Err(self.link_error::<DB>(conn, error, target_id, op).await),
            };
            return self.both_exist(owner, target, target_id);
        }
        let args = sql.0.bind(&binds)?;
        match DB::execute(conn, sql.0.text(), args).await {
            Ok(0) => {
                // SQLite: the pair exists, or a row is missing; MySQL: a row is missing.
                let (owner, target) = self.parents::<DB>(conn, target_id, op).await?;
                self.both_exist(owner, target, target_id)
            }
            Ok(_) => Ok(()),
            Err(error) => Err(self.link_error::<DB>(conn, error, target_id, op).await),
        }
    }

    /// `Ok` when owner and target both exist, else [`Error::NotFound`] for the missing one.
    fn both_exist(&self, owner: bool, target: bool, target_id: &T::Id) -> Result<()> {
        match (owner, target) {
            (true, true) => Ok(()),
            (false, _) => Err(Error::not_found(O::def().name, &self.owner_id)),
            (true, false) => Err(Error::not_found(T::def().name, target_id)),
        }
    }

    /// Whether the owner and the target exist.
    async fn parents<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        target_id: &T::Id,
        op: Op,
    ) -> Result<(bool, bool)> {
        let sql = &self.statements::<DB>().parents;
        let args = sql.bind(&Binds::<DB>::pair(&self.owner_id, target_id))?;
        let row = DB::fetch_optional(conn, sql.text(), args).await.at(op)?;
        let Some(row) = row else {
            return Ok((false, false));
        };
        let owner: i64 = DB::get(&row, 0).at(op)?;
        let target: i64 = DB::get(&row, 1).at(op)?;
        Ok((owner > 0, target > 0))
    }

    /// A failed link: a foreign-key violation (a row deleted meanwhile, or a join table whose
    /// keys point elsewhere) is [`Error::NotFound`] for the missing row; anything else, or a
    /// violation that names no row, is the database's error.
    async fn link_error<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        error: sqlx::Error,
        target_id: &T::Id,
        op: Op,
    ) -> Error {
        let column = match &error {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                DB::foreign_key_column(db.as_ref())
            }
            _ => return op.error(error),
        };
        match column {
            Some(column) if column == self.rel().owner_key => {
                Error::not_found(O::def().name, &self.owner_id)
            }
            Some(column) if column == self.rel().target_key => {
                Error::not_found(T::def().name, target_id)
            }
            _ => match self.parents::<DB>(conn, target_id, op).await {
                Ok((owner, target)) if !(owner && target) => {
                    self.both_exist(owner, target, target_id).unwrap_err()
                }
                _ => op.error(error),
            },
        }
    }

    /// Takes `owner` on the owner's row and `target` on each row of `targets`, or fails with
    /// [`Error::NotFound`] for the first that does not exist, in the order every write
    /// follows: the owner first where `owner_first`; otherwise by table name, and on one table
    /// all rows in one statement by ascending id, so that writers from both sides of a
    /// relation take the same rows in the same order.
    pub(super) async fn lock_parents<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        owner: Lock,
        targets: &[T::Id],
        target: Lock,
        owner_first: bool,
        op: Op,
    ) -> Result<()> {
        let missing_target = |id: T::Id| Err(Error::not_found(T::def().name, &id));
        if !owner_first && TypeId::of::<O>() == TypeId::of::<T>() {
            let owner_id = (&self.owner_id as &dyn std::any::Any).downcast_ref::<T::Id>();
            if let Some(owner_id) = owner_id {
                let all = super::distinct(std::iter::once(owner_id).chain(targets).cloned());
                return match self
                    .lock_rows::<DB>(conn, &all, owner.max(target), op)
                    .await?
                {
                    None => Ok(()),
                    Some(id) if id == *owner_id => {
                        Err(Error::not_found(O::def().name, &self.owner_id))
                    }
                    Some(id) => missing_target(id),
                };
            }
        }
        let targets_first = !owner_first && T::def().table < O::def().table;
        if targets_first && let Some(id) = self.lock_rows::<DB>(conn, targets, target, op).await? {
            return missing_target(id);
        }
        if !model::lock_on::<O, DB>(conn, &self.owner_id, owner, op).await? {
            return Err(Error::not_found(O::def().name, &self.owner_id));
        }
        if !targets_first && let Some(id) = self.lock_rows::<DB>(conn, targets, target, op).await? {
            return missing_target(id);
        }
        Ok(())
    }

    /// Whether writes that lock model rows take the owner's first, or follow the order of
    /// tables: the order matters where two sides' locks can wait on each other, which
    /// PostgreSQL's key-share locks on targets never do.
    pub(super) fn owner_first(dialect: Dialect, guarded: bool) -> bool {
        match dialect {
            Dialect::Sqlite => true,
            Dialect::Postgres => !guarded,
            Dialect::MySql => false,
        }
    }

    /// Unlinks a row, which stays; `true` if a link was removed: `DELETE FROM
    /// "AssemblyPart" WHERE "assembly_id" = ? AND "part_id" = ?`.
    pub async fn remove<A: Db>(&self, db: A, target_id: T::Id) -> Result<bool> {
        let op = self.op("remove");
        crate::trace::traced::<A::Database, _>(op, async move {
            let mut conn = db.connection().await.at(op)?;
            retrying!(
                A::Database,
                conn,
                op,
                self.remove_on::<A::Database>(&mut conn, &target_id, op)
                    .await
            )
        })
        .await
    }

    async fn remove_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        target_id: &T::Id,
        op: Op,
    ) -> Result<bool> {
        both_ways!(
            DB,
            self,
            conn,
            op,
            std::slice::from_ref(target_id),
            |this, c| {
                let sql = &this.statements::<DB>().remove;
                let args = sql.bind(&Binds::<DB>::pair(&this.owner_id, target_id))?;
                DB::execute(c, sql.text(), args)
                    .await
                    .at(op)
                    .map(|removed| removed > 0)
            }
        )
    }

    /// Writes `data` to the row with this id, only if it is linked; the id never changes.
    /// Returns the updated row, or `None` if it is not linked. `UPDATE "Part" SET ... WHERE
    /// "id" = ? AND EXISTS (<the link>)`, with `RETURNING` where the database has it (else a
    /// read of the row in the same transaction).
    pub async fn update_by_id<A: Db>(
        &self,
        db: A,
        target_id: T::Id,
        data: T::New,
    ) -> Result<Option<T>> {
        let op = self.op("update_by_id");
        crate::trace::traced::<A::Database, _>(op, async move {
            let mut conn = db.connection().await.at(op)?;
            retrying!(
                A::Database,
                conn,
                op,
                self.update_on::<A::Database>(&mut conn, &target_id, &data, op)
                    .await
            )
        })
        .await
    }

    async fn update_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        target_id: &T::Id,
        data: &T::New,
        op: Op,
    ) -> Result<Option<T>> {
        let columns =
            |args: &mut DB::Arguments| T::bind_new_columns::<DB>(data, args).map_err(Error::encode);
        let sql = &self.statements::<DB>().update_linked;
        let args = sql.bind(&Binds::<DB>::pair(&self.owner_id, target_id).columns(&columns))?;
        let row = if DB::DIALECT.has_returning() {
            DB::fetch_optional(conn, sql.text(), args).await.at(op)?
        } else {
            let mut tx = begin::<DB>(conn).await.at(op)?;
            if DB::execute(&mut tx, sql.text(), args).await.at(op)? == 0 {
                return Ok(None);
            }
            let sql = &model::statements::<T, DB>().find_by_id;
            let args = sql.bind(&Binds::<DB>::id(target_id))?;
            let row = DB::fetch_optional(&mut tx, sql.text(), args).await;
            let row = row.at(op)?;
            tx.commit().await.at(op)?;
            row
        };
        row.map(|row| T::decode::<DB>(&row, 0)).transpose().at(op)
    }

    /// Deletes the row with this id, only if it is linked, together with every link to it
    /// (in every relation its model declares, and in this one); `true` if it was deleted.
    /// One transaction: the row locked, this link deleted, the row's other links, the row
    /// (on PostgreSQL the deletes are one statement after the lock, which must come first:
    /// a statement reads the links as they stood when it began, before it waited for the
    /// lock).
    pub async fn destroy<A: Db>(&self, db: A, target_id: T::Id) -> Result<bool> {
        let op = self.op("destroy");
        crate::trace::traced::<A::Database, _>(op, async move {
            let mut conn = db.connection().await.at(op)?;
            retrying!(
                A::Database,
                conn,
                op,
                self.destroy_on::<A::Database>(&mut conn, &target_id, op)
                    .await
            )
        })
        .await
    }

    async fn destroy_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        target_id: &T::Id,
        op: Op,
    ) -> Result<bool> {
        let statements = self.statements::<DB>();
        let mut tx = begin::<DB>(conn).await.at(op)?;
        if !model::lock_on::<T, DB>(&mut tx, target_id, Lock::Delete, op).await? {
            return Ok(false);
        }
        let binds = Binds::<DB>::pair(&self.owner_id, target_id);
        if let Some(sql) = &statements.destroy {
            let row = DB::fetch_optional(&mut tx, sql.text(), sql.bind(&binds)?).await;
            let deleted: i64 = match row.at(op)? {
                Some(row) => DB::get(&row, 0).at(op)?,
                None => 0,
            };
            tx.commit().await.at(op)?;
            return Ok(deleted > 0);
        }
        let args = statements.remove.bind(&binds)?;
        if DB::execute(&mut tx, statements.remove.text(), args)
            .await
            .at(op)?
            == 0
        {
            return Ok(false);
        }
        // The target's model may not declare the other side of this relation.
        let args = statements.unlink_target.bind(&binds)?;
        DB::execute(&mut tx, statements.unlink_target.text(), args)
            .await
            .at(op)?;
        model::delete_on::<T, DB>(&mut tx, target_id, op).await?;
        tx.commit().await.at(op)?;
        Ok(true)
    }

    /// Unlinks every row; the rows stay. Returns how many links were removed: `DELETE FROM
    /// "AssemblyPart" WHERE "assembly_id" = ?` (on MySQL, after locking the owner, in the
    /// order `set` takes its locks).
    pub async fn clear<A: Db>(&self, db: A) -> Result<u64> {
        let op = self.op("clear");
        crate::trace::traced::<A::Database, _>(op, async move {
            let mut conn = db.connection().await.at(op)?;
            retrying!(
                A::Database,
                conn,
                op,
                self.clear_on::<A::Database>(&mut conn, op).await
            )
        })
        .await
    }

    async fn clear_on<DB: Backend>(&self, conn: &mut DB::Connection, op: Op) -> Result<u64> {
        both_ways!(DB, self, conn, op, &[], |this, c| this
            .clear_one_on::<DB>(c, op)
            .await)
    }

    async fn clear_one_on<DB: Backend>(&self, conn: &mut DB::Connection, op: Op) -> Result<u64> {
        let sql = &self.statements::<DB>().clear;
        let binds = Binds::<DB>::owner(&self.owner_id);
        if DB::DIALECT != Dialect::MySql {
            return DB::execute(conn, sql.text(), sql.bind(&binds)?)
                .await
                .at(op);
        }
        // MySQL's range locks would otherwise wait in the opposite order of a concurrent
        // `set`'s: take the owner first, as `set` does.
        let mut tx = begin::<DB>(conn).await.at(op)?;
        model::lock_on::<O, DB>(&mut tx, &self.owner_id, Lock::KeyShare, op).await?;
        let removed = DB::execute(&mut tx, sql.text(), sql.bind(&binds)?)
            .await
            .at(op)?;
        tx.commit().await.at(op)?;
        Ok(removed)
    }
}
