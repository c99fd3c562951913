//! `has_and_belongs_to_many`: the join-table description and every relation operation.

use std::collections::{HashMap, HashSet};
use std::fmt;

use sqlx::{Acquire, AssertSqlSafe, SqlSafeStr, SqlStr};

use crate::backend::{Backend, Dialect};
use crate::error::{Context, Error, Result};
use crate::filter::Filter;
use crate::model::{
    self, ColumnDef, Model, ModelDef, args_of, bind, decode_all, encode_error, fixed,
};
use crate::sql::{SqlWriter, StatementCache};
use crate::txn::retrying;

/// The static description of one `has_and_belongs_to_many` relation, written by
/// `#[derive(Model)]` for each `#[relation(...)]`.
#[derive(Debug)]
pub struct RelationDef {
    /// The accessor name (`parts`).
    pub name: &'static str,
    /// The declaring model.
    pub owner: fn() -> &'static ModelDef,
    /// The related model.
    pub target: fn() -> &'static ModelDef,
    /// The join table (`AssemblyPart`).
    pub join_table: &'static str,
    /// The join column holding the owner's id (`assembly_id`).
    pub owner_key: &'static str,
    /// The join column holding the target's id (`part_id`).
    pub target_key: &'static str,
    /// The join model (`through = "AssemblyPart"`), whose table is the join table.
    pub through: Option<fn() -> &'static ModelDef>,
    /// The relation's fixed statements, built on first use for each dialect.
    pub statements: StatementCache<RelationStatements>,
}

impl RelationDef {
    fn statements(&self, dialect: Dialect) -> &RelationStatements {
        self.statements
            .get(dialect, || RelationStatements::build(self, dialect))
    }
}

/// The fixed statements of one relation on one dialect (`?` stands for a parameter).
#[derive(Debug)]
pub struct RelationStatements {
    /// ` FROM "Part" AS t WHERE t."id" IN (SELECT j."part_id" FROM "AssemblyPart" AS j WHERE
    /// j."assembly_id" = ?)`: the linked rows, for any column list.
    from_linked: String,
    /// `SELECT t.* FROM "Part" AS t WHERE t."id" IN (SELECT j."part_id" FROM "AssemblyPart"
    /// AS j WHERE j."assembly_id" = ?)`
    select: String,
    /// `select` ordered by the part id.
    all: String,
    /// `select` `AND t."id" = ?`
    find_by_id: String,
    /// `SELECT COUNT(*) FROM "Part" AS t WHERE t."id" IN (<the linked ids>)`
    count: String,
    /// `INSERT INTO "AssemblyPart" ("assembly_id", "part_id") SELECT ?, t."id" FROM "Part" AS t
    /// WHERE t."id" = ? AND EXISTS (SELECT 1 FROM "Assembly" AS o WHERE o."id" = ?) AND NOT
    /// EXISTS (<that link>)`, ignoring an existing link.
    add: String,
    /// `INSERT INTO "AssemblyPart" (...) SELECT o."id", ? FROM "Assembly" AS o WHERE o."id" = ?`
    link_new: String,
    /// `DELETE FROM "AssemblyPart" WHERE "assembly_id" = ? AND "part_id" = ?`
    remove: String,
    /// `SELECT 1 FROM "AssemblyPart" WHERE "assembly_id" = ? AND "part_id" = ?`
    exists: String,
    /// `DELETE FROM "AssemblyPart" WHERE "assembly_id" = ?`
    clear: String,
    /// `SELECT "part_id" FROM "AssemblyPart" WHERE "assembly_id" = ? ORDER BY "part_id"`
    ids: String,
    /// `DELETE FROM "AssemblyPart" WHERE "part_id" = ?`
    unlink_target: String,
    /// `UPDATE "Part" SET ... WHERE "id" = ? AND EXISTS (SELECT 1 FROM "AssemblyPart" AS j
    /// WHERE j."assembly_id" = ? AND j."part_id" = ?)`, returning the row where available.
    update_linked: String,
}

impl RelationStatements {
    fn build(rel: &RelationDef, dialect: Dialect) -> Self {
        let owner = (rel.owner)();
        let target = (rel.target)();
        let target_stmts = target.statements(dialect);
        let owner_id = owner.id_column().name;
        let target_id = target.id_column().name;
        let w = || SqlWriter::new(dialect);

        // A semi-join: a part linked twice (possible in LoopBack's own join tables, which
        // have no unique key) still comes back once.
        let linked = |s: &mut SqlWriter| {
            s.qualified("t", target_id)
                .push(" IN (SELECT ")
                .qualified("j", rel.target_key);
            s.push(" FROM ")
                .ident(rel.join_table)
                .push(" AS j WHERE ")
                .qualified("j", rel.owner_key);
            s.push(" = ").param().push(")");
        };

        let mut s = w();
        s.push(" FROM ").ident(target.table).push(" AS t WHERE ");
        linked(&mut s);
        let from_linked = s.finish();
        let select = format!("SELECT {}{from_linked}", target_stmts.select_list);

        let mut s = w();
        s.push(&select).push(" ORDER BY ").qualified("t", target_id);
        let all = s.finish();

        let mut s = SqlWriter::continuing(dialect, &select, 1);
        s.push(" AND ")
            .qualified("t", target_id)
            .push(" = ")
            .param();
        let find_by_id = s.finish();

        let count = format!("SELECT COUNT(*){from_linked}");

        let insert_into = |s: &mut SqlWriter| {
            s.push("INSERT INTO ").ident(rel.join_table).push(" (");
            s.idents(None, [rel.owner_key, rel.target_key]).push(")");
        };

        let mut s = w();
        insert_into(&mut s);
        s.push(" SELECT ")
            .param()
            .push(", ")
            .qualified("t", target_id)
            .push(" FROM ");
        s.ident(target.table)
            .push(" AS t WHERE ")
            .qualified("t", target_id)
            .push(" = ")
            .param();
        s.push(" AND EXISTS (SELECT 1 FROM ")
            .ident(owner.table)
            .push(" AS o WHERE ");
        s.qualified("o", owner_id).push(" = ").param().push(")");
        // Keeps `add` idempotent on join tables without a unique key (LoopBack's own).
        s.push(" AND NOT EXISTS (SELECT 1 FROM ")
            .ident(rel.join_table)
            .push(" AS l WHERE ");
        s.qualified("l", rel.owner_key)
            .push(" = ")
            .param()
            .push(" AND ");
        s.qualified("l", rel.target_key)
            .push(" = ")
            .param()
            .push(")");
        let mut add = s.finish();
        dialect.on_conflict_ignore(rel.join_table, rel.owner_key, &mut add);

        let mut s = w();
        insert_into(&mut s);
        s.push(" SELECT ")
            .qualified("o", owner_id)
            .push(", ")
            .param()
            .push(" FROM ");
        s.ident(owner.table)
            .push(" AS o WHERE ")
            .qualified("o", owner_id)
            .push(" = ")
            .param();
        let link_new = s.finish();

        let pair = |s: &mut SqlWriter| {
            s.eq_param(rel.owner_key)
                .push(" AND ")
                .eq_param(rel.target_key);
        };

        let mut s = w();
        s.push("DELETE FROM ").ident(rel.join_table).push(" WHERE ");
        pair(&mut s);
        let remove = s.finish();

        let mut s = w();
        s.push("SELECT 1 FROM ")
            .ident(rel.join_table)
            .push(" WHERE ");
        pair(&mut s);
        let exists = s.finish();

        let mut s = w();
        s.push("DELETE FROM ")
            .ident(rel.join_table)
            .push(" WHERE ")
            .eq_param(rel.owner_key);
        let clear = s.finish();

        let mut s = w();
        s.push("SELECT ")
            .ident(rel.target_key)
            .push(" FROM ")
            .ident(rel.join_table);
        s.push(" WHERE ")
            .eq_param(rel.owner_key)
            .push(" ORDER BY ")
            .ident(rel.target_key);
        let ids = s.finish();

        let mut s = w();
        s.push("DELETE FROM ")
            .ident(rel.join_table)
            .push(" WHERE ")
            .eq_param(rel.target_key);
        let unlink_target = s.finish();

        let mut s = w();
        s.push("UPDATE ").ident(target.table).push(" SET ");
        for (i, column) in target.value_columns().enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.eq_param(column.name);
        }
        s.push(" WHERE ")
            .eq_param(target_id)
            .push(" AND EXISTS (SELECT 1 FROM ");
        s.ident(rel.join_table)
            .push(" AS j WHERE ")
            .qualified("j", rel.owner_key)
            .push(" = ");
        s.param()
            .push(" AND ")
            .qualified("j", rel.target_key)
            .push(" = ")
            .param()
            .push(")");
        if dialect.has_returning() {
            s.push(" RETURNING ")
                .idents(None, target.columns.iter().map(|c| c.name));
        }
        let update_linked = s.finish();

        RelationStatements {
            from_linked,
            select,
            all,
            find_by_id,
            count,
            add,
            link_new,
            remove,
            exists,
            clear,
            ids,
            unlink_target,
            update_linked,
        }
    }
}

/// Most rows one batch statement writes, whatever the bind limit allows: past this, bigger
/// statements cost more to parse than the round trips they save.
const MAX_CHUNK_ROWS: usize = 10_000;

fn chunk_rows(dialect: Dialect, binds_per_row: usize) -> usize {
    (dialect.max_binds() / binds_per_row).min(MAX_CHUNK_ROWS)
}

/// Names an operation in errors: `Assembly.parts.add`.
#[derive(Clone, Copy)]
struct Op {
    rel: &'static RelationDef,
    method: &'static str,
}

impl Op {
    /// Opens the operation's own transaction on `conn`: a savepoint inside the caller's.
    async fn begin<DB: Backend>(
        self,
        conn: &mut DB::Connection,
    ) -> Result<sqlx::Transaction<'_, DB>> {
        sqlx::Connection::begin(conn)
            .await
            .context(|| self.to_string())
    }

    async fn commit<DB: Backend>(self, tx: sqlx::Transaction<'_, DB>) -> Result<()> {
        tx.commit().await.context(|| self.to_string())
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}",
            (self.rel.owner)().name,
            self.rel.name,
            self.method
        )
    }
}

/// Ids without repeats, in first-seen order.
fn distinct<I: Clone + Eq + std::hash::Hash>(ids: impl IntoIterator<Item = I>) -> Vec<I> {
    let mut seen = HashSet::new();
    ids.into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

/// The related rows of one owner: what `assembly.parts()` returns, wrapped by the generated
/// `AssemblyParts`.
pub struct Related<O: Model, T: Model> {
    rel: &'static RelationDef,
    owner_id: O::Id,
    target: std::marker::PhantomData<fn() -> T>,
}

impl<O: Model, T: Model> Clone for Related<O, T> {
    fn clone(&self) -> Self {
        Related {
            rel: self.rel,
            owner_id: self.owner_id.clone(),
            target: std::marker::PhantomData,
        }
    }
}

impl<O: Model, T: Model> fmt::Debug for Related<O, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Related")
            .field("relation", &self.rel.name)
            .field("owner_id", &self.owner_id)
            .finish()
    }
}

/// A related row built but not yet written: `save` inserts and links it.
pub struct Unsaved<O: Model, T: Model> {
    related: Related<O, T>,
    /// The values that `save` will insert.
    pub data: T::New,
}

impl<O: Model, T: Model> Unsaved<O, T> {
    /// Inserts the row and links it to the owner in one transaction, like `create`.
    pub async fn save<'c, A>(self, db: A) -> Result<T>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        self.related.create(db, self.data).await
    }
}

impl<O: Model, T: Model> Related<O, T> {
    /// The relation `rel` of the owner with id `owner_id`.
    #[doc(hidden)]
    pub fn new(rel: &'static RelationDef, owner_id: O::Id) -> Self {
        Related {
            rel,
            owner_id,
            target: std::marker::PhantomData,
        }
    }

    /// The owner's id.
    pub fn owner_id(&self) -> &O::Id {
        &self.owner_id
    }

    fn op(&self, method: &'static str) -> Op {
        Op {
            rel: self.rel,
            method,
        }
    }

    fn statements<DB: Backend>(&self) -> &'static RelationStatements {
        self.rel.statements(DB::DIALECT)
    }

    fn owner_args<DB: Backend>(&self) -> Result<DB::Arguments> {
        args_of::<DB, _>(&self.owner_id)
    }

    fn pair_args<DB: Backend>(&self, target_id: &T::Id) -> Result<DB::Arguments> {
        let mut args = self.owner_args::<DB>()?;
        bind::<DB, _>(&mut args, target_id)?;
        Ok(args)
    }

    /// The linked rows matching `filter` (which acts on the target's columns).
    pub async fn find<'c, A>(&self, db: A, filter: &Filter<T>) -> Result<Vec<T>>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let op = self.op("find");
        let select = &self.statements::<A::Database>().select;
        let mut w = SqlWriter::continuing(<A::Database as Backend>::DIALECT, select, 1);
        let mut args = self.owner_args::<A::Database>()?;
        filter.write_where::<A::Database>(&mut w, &mut args, " AND ")?;
        filter.write_tail(&mut w);
        let sql = AssertSqlSafe(w.finish()).into_sql_str();
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        let rows = <A::Database as Backend>::fetch_all(&mut conn, sql, args).await;
        decode_all::<T, A::Database>(rows.context(|| op.to_string())?).context(|| op.to_string())
    }

    /// The linked rows matching `filter`, reading only its `fields` (LoopBack's `fields`).
    pub async fn select<'c, A>(&self, db: A, filter: &Filter<T>) -> Result<Vec<T::Partial>>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let op = self.op("select");
        let dialect = <A::Database as Backend>::DIALECT;
        let target = T::def();
        let mask = filter.field_mask();
        let from_linked = &self.statements::<A::Database>().from_linked;
        let head = format!(
            "SELECT {}{from_linked}",
            model::projection(target, dialect, &mask)
        );
        let mut w = SqlWriter::continuing(dialect, &head, 1);
        let mut args = self.owner_args::<A::Database>()?;
        filter.write_where::<A::Database>(&mut w, &mut args, " AND ")?;
        filter.write_tail(&mut w);
        let sql = AssertSqlSafe(w.finish()).into_sql_str();
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        let rows = <A::Database as Backend>::fetch_all(&mut conn, sql, args)
            .await
            .context(|| op.to_string())?;
        rows.iter()
            .map(|row| T::decode_partial::<A::Database>(row, 0, &mask))
            .collect::<Result<_, _>>()
            .context(|| op.to_string())
    }

    /// Every linked row, ordered by id.
    pub async fn all<'c, A>(&self, db: A) -> Result<Vec<T>>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let op = self.op("all");
        let sql = fixed(&self.statements::<A::Database>().all);
        let args = self.owner_args::<A::Database>()?;
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        let rows = <A::Database as Backend>::fetch_all(&mut conn, sql, args).await;
        decode_all::<T, A::Database>(rows.context(|| op.to_string())?).context(|| op.to_string())
    }

    /// A new related row that is written only by [`Unsaved::save`].
    pub fn build(&self, data: T::New) -> Unsaved<O, T> {
        Unsaved {
            related: self.clone(),
            data,
        }
    }

    /// Inserts a row and links it, in one transaction: both happen or neither.
    pub async fn create<'c, A>(&self, db: A, data: T::New) -> Result<T>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let op = self.op("create");
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        retrying!(
            conn,
            self.create_on::<A::Database>(&mut conn, &data, op).await
        )
    }

    /// Inserts and links every row of `data`, in one transaction: all or none.
    pub async fn create_many<'c, A>(&self, db: A, data: &[T::New]) -> Result<Vec<T>>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let op = self.op("create_many");
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        retrying!(
            conn,
            self.create_many_on::<A::Database>(&mut conn, data, op)
                .await
        )
    }

    async fn create_many_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        data: &[T::New],
        op: Op,
    ) -> Result<Vec<T>> {
        // One transaction around them all; each create is a savepoint inside it.
        let mut tx = op.begin::<DB>(conn).await?;
        let mut created = Vec::with_capacity(data.len());
        for item in data {
            created.push(self.create_on::<DB>(&mut tx, item, op).await?);
        }
        op.commit(tx).await?;
        Ok(created)
    }

    async fn create_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        data: &T::New,
        op: Op,
    ) -> Result<T> {
        let mut tx = op.begin::<DB>(conn).await?;
        let row = model::insert_on::<T, DB>(&mut tx, data).await?;
        let mut args = args_of::<DB, _>(row.id())?;
        bind::<DB, _>(&mut args, &self.owner_id)?;
        let sql = fixed(&self.statements::<DB>().link_new);
        if DB::execute(&mut tx, sql, args)
            .await
            .context(|| op.to_string())?
            == 0
        {
            return Err(Error::not_found((self.rel.owner)().name, &self.owner_id));
        }
        op.commit(tx).await?;
        Ok(row)
    }

    /// Links an existing row; linking it again changes nothing.
    pub async fn add<'c, A>(&self, db: A, target_id: T::Id) -> Result<()>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let op = self.op("add");
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        retrying!(
            conn,
            self.add_on::<A::Database>(&mut conn, &target_id, op).await
        )
    }

    async fn add_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        target_id: &T::Id,
        op: Op,
    ) -> Result<()> {
        let mut args = self.owner_args::<DB>()?;
        bind::<DB, _>(&mut args, target_id)?;
        bind::<DB, _>(&mut args, &self.owner_id)?;
        bind::<DB, _>(&mut args, &self.owner_id)?;
        bind::<DB, _>(&mut args, target_id)?;
        let sql = fixed(&self.statements::<DB>().add);
        match DB::execute(conn, sql, args).await {
            Ok(0) => self.explain_unlinked::<DB>(conn, target_id, op).await,
            Ok(_) => Ok(()),
            Err(error) => Err(self.link_error::<DB>(conn, error, target_id, op).await),
        }
    }

    /// After an insert that wrote nothing: fine if the link exists, else say which row is
    /// missing.
    async fn explain_unlinked<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        target_id: &T::Id,
        op: Op,
    ) -> Result<()> {
        if self.exists_on::<DB>(conn, target_id, op).await? {
            return Ok(());
        }
        Err(self.missing::<DB>(conn, target_id).await?)
    }

    /// Which of owner and target does not exist.
    async fn missing<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        target_id: &T::Id,
    ) -> Result<Error> {
        if !model::exists_on::<O, DB>(conn, &self.owner_id).await? {
            return Ok(Error::not_found((self.rel.owner)().name, &self.owner_id));
        }
        Ok(Error::not_found((self.rel.target)().name, target_id))
    }

    /// Maps a foreign-key failure on the join table to [`Error::NotFound`].
    async fn link_error<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        error: sqlx::Error,
        target_id: &T::Id,
        op: Op,
    ) -> Error {
        let sqlx::Error::Database(db_error) = &error else {
            return Error::Database {
                operation: op.to_string().into(),
                source: error,
            };
        };
        if !db_error.is_foreign_key_violation() {
            return Error::Database {
                operation: op.to_string().into(),
                source: error,
            };
        }
        match DB::foreign_key_column(db_error.as_ref()) {
            Some(column) if column == self.rel.owner_key => {
                Error::not_found((self.rel.owner)().name, &self.owner_id)
            }
            Some(column) if column == self.rel.target_key => {
                Error::not_found((self.rel.target)().name, target_id)
            }
            _ => self
                .missing::<DB>(conn, target_id)
                .await
                .unwrap_or_else(|e| e),
        }
    }

    /// Unlinks a row, which stays; `true` if a link was removed.
    pub async fn remove<'c, A>(&self, db: A, target_id: T::Id) -> Result<bool>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let op = self.op("remove");
        let sql = &self.statements::<A::Database>().remove;
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        let removed = retrying!(conn, {
            let args = self.pair_args::<A::Database>(&target_id)?;
            <A::Database as Backend>::execute(&mut conn, fixed(sql), args)
                .await
                .context(|| op.to_string())
        })?;
        Ok(removed > 0)
    }

    /// The row with this id, only if it is linked.
    pub async fn find_by_id<'c, A>(&self, db: A, target_id: T::Id) -> Result<Option<T>>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let op = self.op("find_by_id");
        let sql = fixed(&self.statements::<A::Database>().find_by_id);
        let args = self.pair_args::<A::Database>(&target_id)?;
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        let row = <A::Database as Backend>::fetch_optional(&mut conn, sql, args).await;
        row.context(|| op.to_string())?
            .map(|row| T::decode::<A::Database>(&row, 0))
            .transpose()
            .context(|| op.to_string())
    }

    /// Writes `data` to the row with this id, only if it is linked; the id never changes.
    /// Returns the updated row, or `None` if it is not linked.
    pub async fn update_by_id<'c, A>(
        &self,
        db: A,
        target_id: T::Id,
        data: &T::New,
    ) -> Result<Option<T>>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let op = self.op("update_by_id");
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        retrying!(
            conn,
            self.update_on::<A::Database>(&mut conn, &target_id, data, op)
                .await
        )
    }

    async fn update_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        target_id: &T::Id,
        data: &T::New,
        op: Op,
    ) -> Result<Option<T>> {
        let mut args = DB::Arguments::default();
        T::bind_new_columns::<DB>(data, &mut args).map_err(encode_error)?;
        bind::<DB, _>(&mut args, target_id)?;
        bind::<DB, _>(&mut args, &self.owner_id)?;
        bind::<DB, _>(&mut args, target_id)?;
        let sql = fixed(&self.statements::<DB>().update_linked);
        let row = if DB::DIALECT.has_returning() {
            DB::fetch_optional(conn, sql, args)
                .await
                .context(|| op.to_string())?
        } else {
            let mut tx = op.begin::<DB>(conn).await?;
            if DB::execute(&mut tx, sql, args)
                .await
                .context(|| op.to_string())?
                == 0
            {
                return Ok(None);
            }
            let sql = fixed(&model::statements::<T, DB>().find_by_id);
            let row = DB::fetch_optional(&mut tx, sql, args_of::<DB, _>(target_id)?).await;
            let row = row.context(|| op.to_string())?;
            op.commit(tx).await?;
            row
        };
        row.map(|row| T::decode::<DB>(&row, 0))
            .transpose()
            .context(|| op.to_string())
    }

    /// Deletes the row with this id, only if it is linked, together with every join row
    /// that points at it; `true` if it was deleted.
    pub async fn destroy<'c, A>(&self, db: A, target_id: T::Id) -> Result<bool>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let op = self.op("destroy");
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        retrying!(
            conn,
            self.destroy_on::<A::Database>(&mut conn, &target_id, op)
                .await
        )
    }

    async fn destroy_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        target_id: &T::Id,
        op: Op,
    ) -> Result<bool> {
        let statements = self.statements::<DB>();
        let mut tx = op.begin::<DB>(conn).await?;
        let args = self.pair_args::<DB>(target_id)?;
        if DB::execute(&mut tx, fixed(&statements.remove), args)
            .await
            .context(|| op.to_string())?
            == 0
        {
            return Ok(false);
        }
        let args = args_of::<DB, _>(target_id)?;
        DB::execute(&mut tx, fixed(&statements.unlink_target), args)
            .await
            .context(|| op.to_string())?;
        let args = args_of::<DB, _>(target_id)?;
        let sql = fixed(&model::statements::<T, DB>().delete);
        DB::execute(&mut tx, sql, args)
            .await
            .context(|| op.to_string())?;
        op.commit(tx).await?;
        Ok(true)
    }

    async fn exists_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        target_id: &T::Id,
        op: Op,
    ) -> Result<bool> {
        let sql = fixed(&self.statements::<DB>().exists);
        let row = DB::fetch_optional(conn, sql, self.pair_args::<DB>(target_id)?).await;
        Ok(row.context(|| op.to_string())?.is_some())
    }

    /// Whether the row with this id is linked.
    pub async fn exists<'c, A>(&self, db: A, target_id: T::Id) -> Result<bool>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let op = self.op("exists");
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        self.exists_on::<A::Database>(&mut conn, &target_id, op)
            .await
    }

    /// How many rows are linked.
    pub async fn count<'c, A>(&self, db: A) -> Result<u64>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let sql = fixed(&self.statements::<A::Database>().count);
        self.count_sql(db, sql, self.owner_args::<A::Database>()?, self.op("count"))
            .await
    }

    /// How many linked rows match `filter`'s conditions (its order, limit and skip are
    /// ignored).
    pub async fn count_where<'c, A>(&self, db: A, filter: &Filter<T>) -> Result<u64>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let count = &self.statements::<A::Database>().count;
        let mut w = SqlWriter::continuing(<A::Database as Backend>::DIALECT, count, 1);
        let mut args = self.owner_args::<A::Database>()?;
        filter.write_where::<A::Database>(&mut w, &mut args, " AND ")?;
        let sql = AssertSqlSafe(w.finish()).into_sql_str();
        self.count_sql(db, sql, args, self.op("count_where")).await
    }

    async fn count_sql<'c, A>(
        &self,
        db: A,
        sql: SqlStr,
        args: <A::Database as sqlx::Database>::Arguments,
        op: Op,
    ) -> Result<u64>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        let row = <A::Database as Backend>::fetch_optional(&mut conn, sql, args).await;
        let Some(row) = row.context(|| op.to_string())? else {
            return Ok(0);
        };
        let count: i64 = <A::Database as Backend>::get(&row, 0).context(|| op.to_string())?;
        Ok(count.unsigned_abs())
    }

    /// Unlinks every row; the rows stay. Returns how many links were removed.
    pub async fn clear<'c, A>(&self, db: A) -> Result<u64>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let op = self.op("clear");
        let sql = &self.statements::<A::Database>().clear;
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        retrying!(conn, {
            let args = self.owner_args::<A::Database>()?;
            <A::Database as Backend>::execute(&mut conn, fixed(sql), args)
                .await
                .context(|| op.to_string())
        })
    }

    async fn ids_on<DB: Backend>(&self, conn: &mut DB::Connection, op: Op) -> Result<Vec<T::Id>> {
        let sql = fixed(&self.statements::<DB>().ids);
        let rows = DB::fetch_all(conn, sql, self.owner_args::<DB>()?)
            .await
            .context(|| op.to_string())?;
        rows.iter()
            .map(|row| DB::get::<T::Id>(row, 0))
            .collect::<Result<_, _>>()
            .context(|| op.to_string())
    }

    /// The ids of the linked rows, in ascending order.
    pub async fn ids<'c, A>(&self, db: A) -> Result<Vec<T::Id>>
    where
        A: Acquire<'c>,
        A::Database: Backend,
    {
        let op = self.op("ids");
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        self.ids_on::<A::Database>(&mut conn, op).await
    }

    /// Locks the owner's row for the rest of the transaction, or says it does not exist.
    async fn lock_owner<DB: Backend>(&self, conn: &mut DB::Connection, op: Op) -> Result<()> {
        let sql = fixed(&model::statements::<O, DB>().lock);
        let args = self.owner_args::<DB>()?;
        let found = if DB::DIALECT == Dialect::Sqlite {
            DB::execute(conn, sql, args)
                .await
                .context(|| op.to_string())?
                > 0
        } else {
            DB::fetch_optional(conn, sql, args)
                .await
                .context(|| op.to_string())?
                .is_some()
        };
        if found {
            Ok(())
        } else {
            Err(Error::not_found((self.rel.owner)().name, &self.owner_id))
        }
    }

    /// Fails with [`Error::NotFound`] for the first id that has no row.
    async fn require_targets<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        ids: &[T::Id],
        op: Op,
    ) -> Result<()> {
        let target = (self.rel.target)();
        for chunk in ids.chunks(chunk_rows(DB::DIALECT, 1)) {
            let mut w = SqlWriter::new(DB::DIALECT);
            w.push("SELECT ")
                .ident(target.id_column().name)
                .push(" FROM ")
                .ident(target.table);
            w.push(" WHERE ")
                .ident(target.id_column().name)
                .push(" IN ")
                .param_list(chunk.len())
                // Until the links are written, nobody deletes these rows.
                .push(DB::DIALECT.for_share());
            let mut args = DB::Arguments::default();
            for id in chunk {
                bind::<DB, _>(&mut args, id)?;
            }
            let sql = AssertSqlSafe(w.finish()).into_sql_str();
            let rows = DB::fetch_all_once(conn, sql, args)
                .await
                .context(|| op.to_string())?;
            if rows.len() == chunk.len() {
                continue;
            }
            let found: HashSet<T::Id> = rows
                .iter()
                .map(|row| DB::get(row, 0))
                .collect::<Result<_, _>>()
                .context(|| op.to_string())?;
            if let Some(missing) = chunk.iter().find(|id| !found.contains(*id)) {
                return Err(Error::not_found(target.name, missing));
            }
        }
        Ok(())
    }

    /// Inserts links to `ids` (which exist and are distinct), skipping existing ones.
    /// Returns how many links are new.
    async fn insert_links<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        ids: &[T::Id],
        op: Op,
    ) -> Result<u64> {
        let mut added = 0;
        for chunk in ids.chunks(chunk_rows(DB::DIALECT, 2)) {
            // MySQL counts a duplicate key as a changed row: count the existing links first.
            let existing = if DB::DIALECT == Dialect::MySql {
                self.count_links::<DB>(conn, chunk, op).await?
            } else {
                0
            };
            let mut w = SqlWriter::new(DB::DIALECT);
            w.push("INSERT INTO ").ident(self.rel.join_table).push(" (");
            w.idents(None, [self.rel.owner_key, self.rel.target_key])
                .push(") VALUES ");
            let mut args = DB::Arguments::default();
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.param_list(2);
                bind::<DB, _>(&mut args, &self.owner_id)?;
                bind::<DB, _>(&mut args, id)?;
            }
            let mut sql = w.finish();
            DB::DIALECT.on_conflict_ignore(self.rel.join_table, self.rel.owner_key, &mut sql);
            let written = DB::execute_once(conn, AssertSqlSafe(sql).into_sql_str(), args)
                .await
                .context(|| op.to_string())?;
            added += if DB::DIALECT == Dialect::MySql {
                chunk.len() as u64 - existing
            } else {
                written
            };
        }
        Ok(added)
    }

    async fn count_links<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        chunk: &[T::Id],
        op: Op,
    ) -> Result<u64> {
        let mut w = SqlWriter::new(DB::DIALECT);
        w.push("SELECT COUNT(*) FROM ")
            .ident(self.rel.join_table)
            .push(" WHERE ");
        w.eq_param(self.rel.owner_key)
            .push(" AND ")
            .ident(self.rel.target_key)
            .push(" IN ");
        w.param_list(chunk.len());
        let mut args = self.owner_args::<DB>()?;
        for id in chunk {
            bind::<DB, _>(&mut args, id)?;
        }
        let sql = AssertSqlSafe(w.finish()).into_sql_str();
        let rows = DB::fetch_all_once(conn, sql, args)
            .await
            .context(|| op.to_string())?;
        let count: i64 = match rows.first() {
            Some(row) => DB::get(row, 0).context(|| op.to_string())?,
            None => 0,
        };
        Ok(count.unsigned_abs())
    }

    /// Deletes the links to `ids` (distinct). Returns how many were removed.
    async fn delete_links<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        ids: &[T::Id],
        op: Op,
    ) -> Result<u64> {
        let mut removed = 0;
        for chunk in ids.chunks(chunk_rows(DB::DIALECT, 1) - 1) {
            let mut w = SqlWriter::new(DB::DIALECT);
            w.push("DELETE FROM ")
                .ident(self.rel.join_table)
                .push(" WHERE ")
                .eq_param(self.rel.owner_key);
            w.push(" AND ")
                .ident(self.rel.target_key)
                .push(" IN ")
                .param_list(chunk.len());
            let mut args = self.owner_args::<DB>()?;
            for id in chunk {
                bind::<DB, _>(&mut args, id)?;
            }
            let sql = AssertSqlSafe(w.finish()).into_sql_str();
            removed += DB::execute_once(conn, sql, args)
                .await
                .context(|| op.to_string())?;
        }
        Ok(removed)
    }

    /// Links every row in `ids`, in one transaction: all are linked, or (when one does not
    /// exist) none. Returns how many links are new.
    pub async fn add_many<'c, A, I>(&self, db: A, ids: I) -> Result<u64>
    where
        A: Acquire<'c>,
        A::Database: Backend,
        I: IntoIterator<Item = T::Id>,
    {
        let op = self.op("add_many");
        let ids = distinct(ids);
        if ids.is_empty() {
            return Ok(0);
        }
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        retrying!(
            conn,
            self.add_many_on::<A::Database>(&mut conn, &ids, op).await
        )
    }

    async fn add_many_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        ids: &[T::Id],
        op: Op,
    ) -> Result<u64> {
        let mut tx = op.begin::<DB>(conn).await?;
        self.lock_owner::<DB>(&mut tx, op).await?;
        self.require_targets::<DB>(&mut tx, ids, op).await?;
        let added = self.insert_links::<DB>(&mut tx, ids, op).await?;
        op.commit(tx).await?;
        Ok(added)
    }

    /// Unlinks every row in `ids`, in one transaction. Returns how many links were removed.
    pub async fn remove_many<'c, A, I>(&self, db: A, ids: I) -> Result<u64>
    where
        A: Acquire<'c>,
        A::Database: Backend,
        I: IntoIterator<Item = T::Id>,
    {
        let op = self.op("remove_many");
        let ids = distinct(ids);
        if ids.is_empty() {
            return Ok(0);
        }
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        retrying!(
            conn,
            self.remove_many_on::<A::Database>(&mut conn, &ids, op)
                .await
        )
    }

    async fn remove_many_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        ids: &[T::Id],
        op: Op,
    ) -> Result<u64> {
        let mut tx = op.begin::<DB>(conn).await?;
        let removed = self.delete_links::<DB>(&mut tx, ids, op).await?;
        op.commit(tx).await?;
        Ok(removed)
    }

    /// Makes the linked rows exactly `ids`, in one transaction, writing only the
    /// difference: links not in `ids` are removed, missing ones added.
    pub async fn set<'c, A, I>(&self, db: A, ids: I) -> Result<()>
    where
        A: Acquire<'c>,
        A::Database: Backend,
        I: IntoIterator<Item = T::Id>,
    {
        let op = self.op("set");
        let wanted = distinct(ids);
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        retrying!(
            conn,
            self.set_on::<A::Database>(&mut conn, &wanted, op).await
        )
    }

    async fn set_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        wanted: &[T::Id],
        op: Op,
    ) -> Result<()> {
        let mut tx = op.begin::<DB>(conn).await?;
        self.lock_owner::<DB>(&mut tx, op).await?;
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
        if !to_add.is_empty() {
            self.require_targets::<DB>(&mut tx, &to_add, op).await?;
        }
        if !to_remove.is_empty() {
            self.delete_links::<DB>(&mut tx, &to_remove, op).await?;
        }
        if !to_add.is_empty() {
            self.insert_links::<DB>(&mut tx, &to_add, op).await?;
        }
        op.commit(tx).await?;
        Ok(())
    }

    /// Links an existing row, writing `data` into the join row: LoopBack's
    /// `add(fk, data)` on a relation with a join model `X`. The key fields of `data` are
    /// ignored: the join row gets this owner's and `target_id`'s keys. Linking again
    /// changes nothing (use [`update_link`](Self::update_link) to change the data).
    pub async fn add_with<'c, A, X>(&self, db: A, target_id: T::Id, data: &X::New) -> Result<()>
    where
        A: Acquire<'c>,
        A::Database: Backend,
        X: Model,
    {
        let op = self.op("add_with");
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        retrying!(
            conn,
            self.add_with_on::<A::Database, X>(&mut conn, &target_id, data, op)
                .await
        )
    }

    async fn add_with_on<DB: Backend, X: Model>(
        &self,
        conn: &mut DB::Connection,
        target_id: &T::Id,
        data: &X::New,
        op: Op,
    ) -> Result<()> {
        let (sql, args) = self.add_with_statement::<DB, X>(target_id, data)?;
        match DB::execute(conn, sql, args).await {
            Ok(0) => self.explain_unlinked::<DB>(conn, target_id, op).await,
            Ok(_) => Ok(()),
            Err(error) => Err(self.link_error::<DB>(conn, error, target_id, op).await),
        }
    }

    /// `INSERT INTO X (...) SELECT <values>, with the keys substituted, FROM T AS t WHERE
    /// t.id = ? AND EXISTS (owner) AND NOT EXISTS (link)`.
    fn add_with_statement<DB: Backend, X: Model>(
        &self,
        target_id: &T::Id,
        data: &X::New,
    ) -> Result<(SqlStr, DB::Arguments)> {
        let join = X::def();
        let target = T::def();
        let owner = (self.rel.owner)();
        let columns: Vec<(usize, &ColumnDef)> = join
            .columns
            .iter()
            .enumerate()
            .filter(|(i, _)| !(join.id_generated && *i == join.id))
            .collect();
        let mut w = SqlWriter::new(DB::DIALECT);
        let mut args = DB::Arguments::default();
        w.push("INSERT INTO ").ident(self.rel.join_table).push(" (");
        w.idents(None, columns.iter().map(|(_, c)| c.name))
            .push(") SELECT ");
        for (n, (index, column)) in columns.iter().enumerate() {
            if n > 0 {
                w.push(", ");
            }
            w.param();
            if column.name == self.rel.owner_key {
                bind::<DB, _>(&mut args, &self.owner_id)?;
            } else if column.name == self.rel.target_key {
                bind::<DB, _>(&mut args, target_id)?;
            } else {
                X::bind_new_field::<DB>(data, *index, &mut args).map_err(encode_error)?;
            }
        }
        w.push(" FROM ")
            .ident(target.table)
            .push(" AS t WHERE ")
            .qualified("t", target.id_column().name);
        w.push(" = ")
            .param()
            .push(" AND EXISTS (SELECT 1 FROM ")
            .ident(owner.table)
            .push(" AS o WHERE ");
        w.qualified("o", owner.id_column().name)
            .push(" = ")
            .param()
            .push(") AND NOT EXISTS (SELECT 1 FROM ");
        w.ident(self.rel.join_table)
            .push(" AS l WHERE ")
            .qualified("l", self.rel.owner_key)
            .push(" = ")
            .param();
        w.push(" AND ")
            .qualified("l", self.rel.target_key)
            .push(" = ")
            .param()
            .push(")");
        bind::<DB, _>(&mut args, target_id)?;
        bind::<DB, _>(&mut args, &self.owner_id)?;
        bind::<DB, _>(&mut args, &self.owner_id)?;
        bind::<DB, _>(&mut args, target_id)?;
        let mut sql = w.finish();
        DB::DIALECT.on_conflict_ignore(self.rel.join_table, self.rel.owner_key, &mut sql);
        Ok((AssertSqlSafe(sql).into_sql_str(), args))
    }

    /// The linked rows with their join rows, `(part, link)`, where `filter` acts on the join
    /// model's columns: its conditions, its order (by the join row's id unless it orders
    /// them), limit and skip. `Filter::new().order_by(AssemblyPart::POSITION)` lists the
    /// parts in their position order.
    pub async fn find_with_links<'c, A, X>(&self, db: A, filter: &Filter<X>) -> Result<Vec<(T, X)>>
    where
        A: Acquire<'c>,
        A::Database: Backend,
        X: Model,
    {
        let op = self.op("find_with_links");
        let dialect = <A::Database as Backend>::DIALECT;
        let (join, target) = (X::def(), T::def());
        let mut w = SqlWriter::new(dialect);
        w.push("SELECT ")
            .idents(Some("p"), target.columns.iter().map(|c| c.name))
            .push(", ");
        w.push(&join.statements(dialect).select_list)
            .push(" FROM ")
            .ident(self.rel.join_table);
        w.push(" AS t INNER JOIN ")
            .ident(target.table)
            .push(" AS p ON ")
            .qualified("p", target.id_column().name);
        w.push(" = ")
            .qualified("t", self.rel.target_key)
            .push(" WHERE ")
            .qualified("t", self.rel.owner_key);
        w.push(" = ").param();
        let mut args = self.owner_args::<A::Database>()?;
        filter.write_where::<A::Database>(&mut w, &mut args, " AND ")?;
        filter.write_tail(&mut w);
        let sql = AssertSqlSafe(w.finish()).into_sql_str();
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        let rows = <A::Database as Backend>::fetch_all(&mut conn, sql, args)
            .await
            .context(|| op.to_string())?;
        let width = target.columns.len();
        rows.iter()
            .map(|row| {
                Ok((
                    T::decode::<A::Database>(row, 0)?,
                    X::decode::<A::Database>(row, width)?,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .context(|| op.to_string())
    }

    /// Writes `data` into the join row of this link (every column but its id and the two
    /// keys); `false` if the row is not linked.
    pub async fn update_link<'c, A, X>(
        &self,
        db: A,
        target_id: T::Id,
        data: &X::New,
    ) -> Result<bool>
    where
        A: Acquire<'c>,
        A::Database: Backend,
        X: Model,
    {
        let op = self.op("update_link");
        let join = X::def();
        let has_data = join.columns.iter().enumerate().any(|(i, c)| {
            i != join.id && c.name != self.rel.owner_key && c.name != self.rel.target_key
        });
        if !has_data {
            return self.exists(db, target_id).await;
        }
        let mut conn = db.acquire().await.context(|| op.to_string())?;
        let updated = retrying!(conn, {
            let (sql, args) = self.update_link_statement::<A::Database, X>(&target_id, data)?;
            <A::Database as Backend>::execute(&mut conn, sql, args)
                .await
                .context(|| op.to_string())
        })?;
        // MySQL counts rows that matched; the others count rows written, which is the same here.
        Ok(updated > 0)
    }

    /// `UPDATE X SET <data columns> = ? WHERE <owner key> = ? AND <target key> = ?`.
    fn update_link_statement<DB: Backend, X: Model>(
        &self,
        target_id: &T::Id,
        data: &X::New,
    ) -> Result<(SqlStr, DB::Arguments)> {
        let join = X::def();
        let mut w = SqlWriter::new(DB::DIALECT);
        let mut args = DB::Arguments::default();
        w.push("UPDATE ").ident(self.rel.join_table).push(" SET ");
        let data_columns = join.columns.iter().enumerate().filter(|(i, c)| {
            *i != join.id && c.name != self.rel.owner_key && c.name != self.rel.target_key
        });
        for (n, (index, column)) in data_columns.enumerate() {
            if n > 0 {
                w.push(", ");
            }
            w.eq_param(column.name);
            X::bind_new_field::<DB>(data, index, &mut args).map_err(encode_error)?;
        }
        w.push(" WHERE ")
            .eq_param(self.rel.owner_key)
            .push(" AND ")
            .eq_param(self.rel.target_key);
        bind::<DB, _>(&mut args, &self.owner_id)?;
        bind::<DB, _>(&mut args, target_id)?;
        Ok((AssertSqlSafe(w.finish()).into_sql_str(), args))
    }
}

/// LoopBack's `include`: the related rows of many owners, in as many statements as the bind
/// limit requires (one for up to 10,000 owners), aligned with `owners`.
///
/// The filter applies to each owner on its own: a limit of 3 gives each owner up to 3 rows
/// (`ROW_NUMBER() OVER (PARTITION BY <owner key> ...)`), not 3 in all.
pub async fn load<'c, O, T, A>(
    rel: &'static RelationDef,
    db: A,
    owners: &[&O::Id],
    filter: &Filter<T>,
) -> Result<Vec<Vec<T>>>
where
    O: Model,
    T: Model,
    A: Acquire<'c>,
    A::Database: Backend,
{
    let op = Op {
        rel,
        method: "load",
    };
    let mut out: Vec<Vec<T>> = owners.iter().map(|_| Vec::new()).collect();
    let mut positions: HashMap<&O::Id, Vec<usize>> = HashMap::with_capacity(owners.len());
    for (i, id) in owners.iter().enumerate() {
        positions.entry(*id).or_default().push(i);
    }
    if positions.is_empty() {
        return Ok(out);
    }
    let distinct: Vec<&O::Id> = distinct(owners.iter().copied());
    let dialect = <A::Database as Backend>::DIALECT;
    let chunk_size = dialect
        .max_binds()
        .saturating_sub(filter.bind_count())
        .clamp(1, MAX_CHUNK_ROWS);
    let mut conn = db.acquire().await.context(|| op.to_string())?;
    for chunk in distinct.chunks(chunk_size) {
        let (sql, args) = load_statement::<O, T, A::Database>(rel, chunk, filter)?;
        let rows = <A::Database as Backend>::fetch_all_once(&mut conn, sql, args)
            .await
            .context(|| op.to_string())?;
        for row in &rows {
            let owner: O::Id = <A::Database as Backend>::get(row, 0).context(|| op.to_string())?;
            for &i in positions.get(&owner).map(Vec::as_slice).unwrap_or_default() {
                out[i].push(T::decode::<A::Database>(row, 1).context(|| op.to_string())?);
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
) -> Result<(SqlStr, DB::Arguments)> {
    let target = T::def();
    let select_list = &target.statements(DB::DIALECT).select_list;
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
        filter.write_order(&mut w);
        w.push(") AS habtm_rank");
    }
    w.push(" FROM ")
        .ident(target.table)
        .push(" AS t INNER JOIN ")
        .ident(rel.join_table);
    w.push(" AS j ON ")
        .qualified("j", rel.target_key)
        .push(" = ")
        .qualified("t", target.id_column().name);
    w.push(" WHERE ")
        .qualified("j", rel.owner_key)
        .push(" IN ")
        .param_list(owners.len());
    for id in owners {
        bind::<DB, _>(&mut args, *id)?;
    }
    filter.write_where::<DB>(&mut w, &mut args, " AND ")?;
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
        filter.write_order(&mut w);
    }
    Ok((AssertSqlSafe(w.finish()).into_sql_str(), args))
}
