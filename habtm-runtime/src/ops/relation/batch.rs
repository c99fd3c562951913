//! Writing many links at once: `add_many`, `remove_many` and `set`. On PostgreSQL the ids
//! are one array parameter, on SQLite one JSON text (integer and text ids) and on MySQL too
//! (integer ids), so each step is one fixed statement whatever their number; for other ids,
//! one statement per chunk of ids, as many as the bind limit allows.

use std::any::TypeId;
use std::collections::HashSet;

use sqlx::{AssertSqlSafe, SqlSafeStr};

use crate::backend::Backend;
use crate::backend::bind;
use crate::db::Db;
use crate::def::{ListStatements, Model, Relation};
use crate::dialect::{Dialect, Lock};
use crate::error::{Context, Error, Op, Result};
use crate::ops::model;
use crate::retry::{begin, retrying};
use crate::sql::{BindColumns, Binds, SqlWriter};
use crate::statement::{self, IdList};
use crate::value::{DynValue, json_list};

use super::{Related, chunk_rows, distinct};

impl<R, O, T> Related<R>
where
    R: Relation<Owner = O, Target = T>,
    O: Model,
    T: Model,
{
    /// Links every row in `ids`: all are linked, or (when one does not exist) none, and the
    /// error names the first missing. Returns how many links are new.
    ///
    /// On PostgreSQL, where the join table has a unique key on the pair, one statement: the
    /// owner locked, the rows locked in ascending id (or only read, where a foreign key
    /// checks them and so locks them as their links are inserted), the links inserted if all
    /// exist. Elsewhere, one transaction: the owner and the rows locked (SQLite, which has no
    /// row locks, counts them), then `INSERT ... SELECT` skipping existing pairs, taking the
    /// ids as one JSON text (SQLite's `json_each`, MySQL's `JSON_TABLE` for integer ids), or
    /// one statement per chunk of other ids (as many as the database binds, up to 10,000).
    pub async fn add_many<A: Db, I>(&self, db: A, ids: I) -> Result<u64>
    where
        I: IntoIterator<Item = T::Id>,
    {
        let op = self.op("add_many");
        crate::trace::traced::<A::Database, _>(op, self.add_many_call(db, ids, None, op)).await
    }

    /// `add_many` and `add_many_with` on `db`, with the join data `columns` binds.
    pub(super) async fn add_many_call<A: Db>(
        &self,
        db: A,
        ids: impl IntoIterator<Item = T::Id>,
        columns: Option<BindColumns<'_, A::Database>>,
        op: Op,
    ) -> Result<u64> {
        let ids = distinct(ids);
        if ids.is_empty() {
            return Ok(0);
        }
        self.refuse_self_link(&ids, op)?;
        let mut conn = db.connection().await.at(op)?;
        retrying!(
            A::Database,
            conn,
            op,
            self.add_many_on::<A::Database>(&mut conn, &ids, columns, op)
                .await
        )
    }

    /// `add_many`, with the join model's data that `columns` binds in every new link.
    pub(super) async fn add_many_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        ids: &[T::Id],
        columns: Option<BindColumns<'_, DB>>,
        op: Op,
    ) -> Result<u64> {
        both_ways!(DB, self, conn, op, ids, |this, c| this
            .add_many_one_on::<DB>(c, ids, columns, op)
            .await)
    }

    async fn add_many_one_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        ids: &[T::Id],
        columns: Option<BindColumns<'_, DB>>,
        op: Op,
    ) -> Result<u64> {
        // Join data is written as on a table without a unique key: the pairs skipped by hand,
        // after locks, so that a violation of another unique key is an error, not a skip.
        let guarded = columns.is_some() || self.rel().guarded::<DB>(conn, op).await?;
        let lists = &self.statements::<DB>().lists;
        let one_statement = !guarded && columns.is_none();
        if let Some(forms) = lists.add_many.as_ref().filter(|_| one_statement) {
            let referenced = self.rel().target_referenced::<DB>(conn, op).await?;
            let sql = &forms[usize::from(referenced)];
            let binds = Binds::<DB>::owner(&self.owner_id).ids(&ids);
            let mut row = DB::fetch_optional(conn, sql.text(), sql.bind(&binds)?).await;
            if referenced
                && row.as_ref().is_err_and(is_foreign_key_violation)
                && !sqlx::Connection::is_in_transaction(&*conn)
            {
                // A row was deleted after the statement read it: once more, it says which.
                // (In the caller's transaction, which the failure aborted, the violation is
                // the answer.)
                row = DB::fetch_optional(conn, sql.text(), sql.bind(&binds)?).await;
            }
            let row = one_row::<DB>(row, op)?;
            let owner: bool = DB::get(&row, 0).at(op)?;
            let added: i64 = DB::get(&row, 1).at(op)?;
            let missing: Option<T::Id> = DB::get(&row, 2).at(op)?;
            if !owner {
                return Err(Error::not_found(O::def().name, &self.owner_id));
            }
            if let Some(missing) = missing {
                return Err(Error::not_found(T::def().name, &missing));
            }
            return Ok(added as u64);
        }
        let mut tx = begin::<DB>(conn).await.at(op)?;
        let (owner, target) = if guarded {
            (Lock::Update, Lock::Share)
        } else {
            (Lock::KeyShare, Lock::KeyShare)
        };
        let owner_first = Self::owner_first(DB::DIALECT, guarded);
        self.lock_parents::<DB>(&mut tx, owner, ids, target, owner_first, op)
            .await?;
        let added = self
            .insert_links::<DB>(&mut tx, ids, guarded, columns, op)
            .await?;
        tx.commit().await.at(op)?;
        Ok(added)
    }

    /// Unlinks every row in `ids`. Returns how many links were removed: `DELETE FROM
    /// "AssemblyPart" WHERE "assembly_id" = ? AND "part_id" IN (...)`, one statement where the
    /// ids are one parameter; on MySQL after a lock on the owner, in one transaction; one
    /// statement per chunk for other ids, in one transaction.
    pub async fn remove_many<A: Db, I>(&self, db: A, ids: I) -> Result<u64>
    where
        I: IntoIterator<Item = T::Id>,
    {
        let op = self.op("remove_many");
        crate::trace::traced::<A::Database, _>(op, async move {
            let ids = distinct(ids);
            if ids.is_empty() {
                return Ok(0);
            }
            let mut conn = db.connection().await.at(op)?;
            retrying!(
                A::Database,
                conn,
                op,
                self.remove_many_on::<A::Database>(&mut conn, &ids, op)
                    .await
            )
        })
        .await
    }

    async fn remove_many_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        ids: &[T::Id],
        op: Op,
    ) -> Result<u64> {
        both_ways!(DB, self, conn, op, ids, |this, c| this
            .remove_many_one_on::<DB>(c, ids, op)
            .await)
    }

    async fn remove_many_one_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        ids: &[T::Id],
        op: Op,
    ) -> Result<u64> {
        if DB::DIALECT != Dialect::MySql && self.lists_for::<DB>(conn, ids, op).await?.is_some() {
            // One statement: atomic by itself.
            return self.delete_links::<DB>(conn, ids, op).await;
        }
        let mut tx = begin::<DB>(conn).await.at(op)?;
        if DB::DIALECT == Dialect::MySql {
            // As `clear`: MySQL's range locks must follow the owner's, like `set`'s.
            model::lock_on::<O, DB>(&mut tx, &self.owner_id, Lock::KeyShare, op).await?;
        }
        let removed = self.delete_links::<DB>(&mut tx, ids, op).await?;
        tx.commit().await.at(op)?;
        Ok(removed)
    }

    /// Makes the linked rows exactly `ids`, in one transaction, writing only the
    /// difference: links not in `ids` are removed, missing ones added. The owner locked for
    /// update (one `set` of it at a time), the linked ids read, then `remove_many`'s and
    /// `add_many`'s statements for the difference alone.
    pub async fn set<A: Db, I>(&self, db: A, ids: I) -> Result<()>
    where
        I: IntoIterator<Item = T::Id>,
    {
        let op = self.op("set");
        crate::trace::traced::<A::Database, _>(op, self.set_call(db, ids, None, op)).await
    }

    /// `set` and `set_with` on `db`, with the join data `columns` binds in new links.
    pub(super) async fn set_call<A: Db>(
        &self,
        db: A,
        ids: impl IntoIterator<Item = T::Id>,
        columns: Option<BindColumns<'_, A::Database>>,
        op: Op,
    ) -> Result<()> {
        let wanted = distinct(ids);
        self.refuse_self_link(&wanted, op)?;
        let mut conn = db.connection().await.at(op)?;
        retrying!(
            A::Database,
            conn,
            op,
            self.set_on::<A::Database>(&mut conn, &wanted, columns, op)
                .await
        )
    }

    /// Locks the owner for an update (one `set` of it at a time) and the rows it will link,
    /// then writes the difference. When the order of locks puts targets first, every wanted
    /// row is locked before the owner; otherwise only those not linked yet, after it.
    /// `set`, with the join model's data that `columns` binds in every new link.
    pub(super) async fn set_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        wanted: &[T::Id],
        columns: Option<BindColumns<'_, DB>>,
        op: Op,
    ) -> Result<()> {
        both_ways!(DB, self, conn, op, wanted, |this, c| this
            .set_one_on::<DB>(c, wanted, columns, op)
            .await)
    }

    async fn set_one_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        wanted: &[T::Id],
        columns: Option<BindColumns<'_, DB>>,
        op: Op,
    ) -> Result<()> {
        // Join data is written as on a table without a unique key: the pairs skipped by hand,
        // after locks, so that a violation of another unique key is an error, not a skip.
        let guarded = columns.is_some() || self.rel().guarded::<DB>(conn, op).await?;
        let target_lock = if guarded { Lock::Share } else { Lock::KeyShare };
        let owner_first = Self::owner_first(DB::DIALECT, guarded)
            || (TypeId::of::<O>() != TypeId::of::<T>() && O::def().table < T::def().table);
        let mut tx = begin::<DB>(conn).await.at(op)?;
        if owner_first {
            if !model::lock_on::<O, DB>(&mut tx, &self.owner_id, Lock::Update, op).await? {
                return Err(Error::not_found(O::def().name, &self.owner_id));
            }
        } else {
            self.lock_parents::<DB>(&mut tx, Lock::Update, wanted, target_lock, false, op)
                .await?;
        }
        if let Some(sql) = self
            .statements::<DB>()
            .lists
            .set
            .as_ref()
            .filter(|_| !guarded && columns.is_none())
        {
            // The owner is locked: the one statement of the writes reads the links as every
            // earlier `set` of it left them.
            let args = sql.bind(&Binds::<DB>::owner(&self.owner_id).ids(&wanted))?;
            let row = one_row::<DB>(DB::fetch_optional(&mut tx, sql.text(), args).await, op)?;
            if let Some(missing) = DB::get::<Option<T::Id>>(&row, 0).at(op)? {
                return Err(Error::not_found(T::def().name, &missing));
            }
            return tx.commit().await.at(op);
        }
        let current = self.ids_on::<DB>(&mut tx, op).await?;
        let wanted_set: HashSet<&T::Id> = wanted.iter().collect();
        let current_set: HashSet<&T::Id> = current.iter().collect();
        let to_remove: Vec<T::Id> = current
            .iter()
            .filter(|id| !wanted_set.contains(id))
            .cloned()
            .collect();
        let to_add: Vec<T::Id> = wanted
            .iter()
            .filter(|id| !current_set.contains(id))
            .cloned()
            .collect();
        if owner_first
            && let Some(missing) = self
                .lock_rows::<DB>(&mut tx, &to_add, target_lock, op)
                .await?
        {
            return Err(Error::not_found(T::def().name, &missing));
        }
        if !to_remove.is_empty() {
            self.delete_links::<DB>(&mut tx, &to_remove, op).await?;
        }
        if !to_add.is_empty() {
            self.insert_links::<DB>(&mut tx, &to_add, guarded, columns, op)
                .await?;
        }
        tx.commit().await.at(op)?;
        Ok(())
    }

    /// The statements that take `ids` as one parameter, where the backend can: always on
    /// PostgreSQL (an array), on SQLite and MySQL for the ids that travel as JSON
    /// ([`json_list`]).
    async fn lists_for<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        ids: &[T::Id],
        op: Op,
    ) -> Result<Option<&'static ListStatements>> {
        let sample = ids.first().map(|id| id as &dyn DynValue);
        let one_parameter = match DB::DIALECT {
            Dialect::Postgres => true,
            Dialect::Sqlite => json_list(DB::DIALECT, sample),
            Dialect::MySql => {
                json_list(DB::DIALECT, sample) && self.rel().json_table::<DB>(conn, op).await?
            }
        };
        Ok(one_parameter.then(|| &self.statements::<DB>().lists))
    }

    /// Takes `lock` on the target rows with these ids, in ascending id order (one statement,
    /// or one per chunk where a list is not one parameter); the first id that has no row, if
    /// any.
    pub(super) async fn lock_rows<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        ids: &[T::Id],
        lock: Lock,
        op: Op,
    ) -> Result<Option<T::Id>> {
        if let Some(lists) = self.lists_for::<DB>(conn, ids, op).await? {
            if let Some(sql) = &lists.count_targets {
                // Nothing to lock: count them, and look for the missing one only if need be.
                let args = sql.bind(&Binds::<DB>::default().ids(&ids))?;
                let row = one_row::<DB>(DB::fetch_optional(conn, sql.text(), args).await, op)?;
                if DB::get::<i64>(&row, 0).at(op)? == ids.len() as i64 {
                    return Ok(None);
                }
            }
            let sql = lists.lock(lock);
            let args = sql.bind(&Binds::<DB>::default().ids(&ids))?;
            let rows = DB::fetch_all(conn, sql.text(), args).await.at(op)?;
            return first_missing::<DB, T>(ids, &rows, op);
        }
        for chunk in ids.chunks(chunk_rows(DB::DIALECT, 1)) {
            let places = IdList::Places(DB::DIALECT.padded(chunk.len()));
            let sql = statement::lock_targets(self.rel(), DB::DIALECT, lock, places);
            let args = sql.bind(&Binds::<DB>::default().ids(&chunk))?;
            let rows = DB::fetch_all_once(conn, sql.into_text(), args)
                .await
                .at(op)?;
            if let Some(missing) = first_missing::<DB, T>(chunk, &rows, op)? {
                return Ok(Some(missing));
            }
        }
        Ok(None)
    }

    /// Inserts links to `ids` (rows that exist and are locked, distinct), skipping existing
    /// ones; returns how many links are new. One statement per chunk, whose rows come in
    /// ascending id so that concurrent inserts take their locks in one order:
    /// `INSERT INTO "AssemblyPart" (...) SELECT ?, t."id" FROM "Part" AS t WHERE t."id" IN
    /// (...) ORDER BY t."id"`, ignoring existing pairs (`ON CONFLICT DO NOTHING`, MySQL's
    /// `INSERT IGNORE`, and `NOT EXISTS` where the table has no unique key). On MySQL without
    /// a unique key, a plain read of the existing pairs and an `INSERT ... VALUES` of the
    /// others: a locking read would lock the whole table.
    async fn insert_links<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        ids: &[T::Id],
        guarded: bool,
        columns: Option<BindColumns<'_, DB>>,
        op: Op,
    ) -> Result<u64> {
        // SQLite's writers take turns, so it never locks, but a pair must still be skipped by
        // hand where the table has no unique key.
        let guarded = guarded
            || (DB::DIALECT == Dialect::Sqlite && !self.rel().unique::<DB>(conn, op).await?);
        let through = match columns {
            Some(_) => Some(self.through_statements::<DB>(op)?),
            None => None,
        };
        let lists = self.lists_for::<DB>(conn, ids, op).await?;
        let list_insert = lists.and_then(|lists| match (through, guarded) {
            (None, false) => Some(&lists.insert),
            (None, true) => lists.insert_guarded.as_ref(),
            (Some(through), false) => Some(&through.insert),
            (Some(through), true) => through.insert_guarded.as_ref(),
        });
        if let Some(sql) = list_insert {
            let binds = Binds::<DB>::owner(&self.owner_id).ids(&ids);
            let args = sql.bind(&Binds { columns, ..binds })?;
            return DB::execute(conn, sql.text(), args).await.at(op);
        }
        let dialect = DB::DIALECT;
        let names = through.map_or(&[][..], |through| &through.names);
        let mut added = 0;
        for chunk in ids.chunks(chunk_rows(dialect, 2 + names.len())) {
            if dialect == Dialect::MySql && guarded {
                added += self.insert_missing::<DB>(conn, chunk, columns, op).await?;
                continue;
            }
            let places = IdList::Places(dialect.padded(chunk.len()));
            let sql = statement::insert_links(self.rel(), dialect, guarded, places, names);
            let binds = Binds::<DB>::owner(&self.owner_id).ids(&chunk);
            let args = sql.bind(&Binds { columns, ..binds })?;
            added += DB::execute_once(conn, sql.into_text(), args).await.at(op)?;
        }
        Ok(added)
    }

    /// MySQL without a unique key: reads which of `chunk` are linked (a plain read, which
    /// takes no lock) and inserts the others.
    async fn insert_missing<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        chunk: &[T::Id],
        columns: Option<BindColumns<'_, DB>>,
        op: Op,
    ) -> Result<u64> {
        let join_table = self.rel().table();
        let places = IdList::Places(DB::DIALECT.padded(chunk.len()));
        let sql = statement::linked_among(self.rel(), DB::DIALECT, places);
        let args = sql.bind(&Binds::<DB>::owner(&self.owner_id).ids(&chunk))?;
        let rows = DB::fetch_all_once(conn, sql.into_text(), args)
            .await
            .at(op)?;
        let linked: HashSet<T::Id> = rows
            .iter()
            .map(|row| DB::get(row, 0))
            .collect::<Result<_, _>>()
            .at(op)?;
        let missing: Vec<&T::Id> = chunk.iter().filter(|id| !linked.contains(*id)).collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let names = match columns {
            Some(_) => &self.through_statements::<DB>(op)?.names[..],
            None => &[],
        };
        let mut w = SqlWriter::new(DB::DIALECT);
        w.push("INSERT INTO ").ident(join_table).push(" (");
        w.idents(
            None,
            names
                .iter()
                .copied()
                .chain([self.rel().owner_key, self.rel().target_key]),
        )
        .push(") VALUES ");
        let mut args = DB::Arguments::default();
        for (i, id) in missing.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.param_list(2 + names.len());
            if let Some(columns) = columns {
                columns(&mut args)?;
            }
            bind::<DB, _>(&mut args, &self.owner_id)?;
            bind::<DB, _>(&mut args, *id)?;
        }
        let sql = AssertSqlSafe(w.finish()).into_sql_str();
        DB::execute_once(conn, sql, args).await.at(op)
    }

    /// Deletes the links to `ids` (distinct). Returns how many were removed.
    async fn delete_links<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        ids: &[T::Id],
        op: Op,
    ) -> Result<u64> {
        if let Some(lists) = self.lists_for::<DB>(conn, ids, op).await? {
            let sql = &lists.delete;
            let args = sql.bind(&Binds::<DB>::owner(&self.owner_id).ids(&ids))?;
            return DB::execute(conn, sql.text(), args).await.at(op);
        }
        let mut removed = 0;
        for chunk in ids.chunks(chunk_rows(DB::DIALECT, 1) - 1) {
            let places = IdList::Places(DB::DIALECT.padded(chunk.len()));
            let sql = statement::delete_links(self.rel(), DB::DIALECT, places);
            let args = sql.bind(&Binds::<DB>::owner(&self.owner_id).ids(&chunk))?;
            removed += DB::execute_once(conn, sql.into_text(), args).await.at(op)?;
        }
        Ok(removed)
    }
}

/// The first of `ids` that `rows` (their first column, ids found) lacks, if any.
fn first_missing<DB: Backend, T: Model>(
    ids: &[T::Id],
    rows: &[DB::Row],
    op: Op,
) -> Result<Option<T::Id>> {
    if rows.len() == ids.len() {
        return Ok(None);
    }
    let found: HashSet<T::Id> = rows
        .iter()
        .map(|row| DB::get(row, 0))
        .collect::<Result<_, _>>()
        .at(op)?;
    Ok(ids.iter().find(|id| !found.contains(*id)).cloned())
}

/// The row of a statement that always answers one.
fn one_row<DB: Backend>(row: Result<Option<DB::Row>, sqlx::Error>, op: Op) -> Result<DB::Row> {
    row.and_then(|row| row.ok_or(sqlx::Error::RowNotFound))
        .at(op)
}

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}
