//! `has_and_belongs_to_many`: the description of a join table, and the related rows of one
//! owner with every operation on them.
//!
//! Reads are in `read`, writes of one link in `write`, writes of many links in `batch`, the
//! join model's data in `through`, eager loading in `load`. `statements` builds a relation's
//! fixed SQL once per dialect, and `shape` learns whether its join table has a unique key.
//!
//! Every write locks in one order: model rows (the owner, then targets in ascending id)
//! before join-table rows.

mod batch;
mod load;
mod read;
mod shape;
mod statements;
mod through;
mod write;

use std::collections::HashSet;
use std::fmt;

use crate::backend::{Backend, Dialect};
use crate::db::Db;
use crate::error::{Op, Result};
use crate::model::{Model, ModelDef, args_of, bind};
use crate::sql::StatementCache;

pub use load::load;
pub use statements::RelationStatements;

/// A `has_and_belongs_to_many` relation as a type: `#[derive(Model)]` writes a marker type
/// for each `#[relation(...)]` (`__AssemblyParts` for `Assembly`'s `parts`) and this impl.
/// Every relation method exists once, on [`Related<R>`], generic over it.
pub trait Relation: Copy + Send + Sync + 'static {
    /// The declaring model (`Assembly`).
    type Owner: Model;
    /// The related model (`Part`).
    type Target: Model;
    /// The join model of a relation `through` one (`KitComponent`), else `()`.
    type Link: Link;

    /// The relation's description: names, keys and statements.
    fn def() -> &'static RelationDef;
}

/// What a relation's join rows are: `()` for a plain join table, or the join model.
pub trait Link: Send + Sync + 'static {
    /// The join model's description, if there is one.
    #[doc(hidden)]
    const MODEL: Option<fn() -> &'static ModelDef>;
}

impl Link for () {
    const MODEL: Option<fn() -> &'static ModelDef> = None;
}

impl<X: Model> Link for X {
    const MODEL: Option<fn() -> &'static ModelDef> = Some(X::def);
}

/// The static description of one `has_and_belongs_to_many` relation, written by
/// `#[derive(Model)]` for each `#[relation(...)]` with [`RelationDef::of`].
#[derive(Debug)]
pub struct RelationDef {
    /// The accessor name (`parts`).
    pub name: &'static str,
    /// The declaring model.
    pub owner: fn() -> &'static ModelDef,
    /// The related model.
    pub target: fn() -> &'static ModelDef,
    /// The join table as declared (`AssemblyPart`); see [`table`](Self::table).
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
    /// The description of relation `R` named `name` (its accessor), on the join table
    /// `join_table` as declared, whose column `owner_key` holds the owner's id and
    /// `target_key` the target's.
    pub const fn of<R: Relation>(
        name: &'static str,
        join_table: &'static str,
        owner_key: &'static str,
        target_key: &'static str,
    ) -> Self {
        RelationDef {
            name,
            owner: <R::Owner as Model>::def,
            target: <R::Target as Model>::def,
            join_table,
            owner_key,
            target_key,
            through: <R::Link as Link>::MODEL,
            statements: StatementCache::new(),
        }
    }

    /// The join table as the database knows it: the join model's own table
    /// (`#[model(table = "...")]`) for a relation `through` a model, else `join_table`.
    pub fn table(&self) -> &'static str {
        self.through
            .map_or(self.join_table, |through| through().table)
    }

    pub(crate) fn statements(&self, dialect: Dialect) -> &RelationStatements {
        self.statements
            .get(dialect, || RelationStatements::build(self, dialect))
    }

    /// Names an operation of this relation in errors: `Assembly.parts.add`.
    fn op(&self, method: &'static str) -> Op {
        Op::relation((self.owner)().name, self.name, method)
    }
}

/// Most rows one batch statement writes, whatever the bind limit allows: past this, bigger
/// statements cost more to parse than the round trips they save.
const MAX_CHUNK_ROWS: usize = 10_000;

fn chunk_rows(dialect: Dialect, binds_per_row: usize) -> usize {
    (dialect.max_binds() / binds_per_row).min(MAX_CHUNK_ROWS)
}

/// Binds `ids` into an `IN` list of `places` parameters (see
/// [`Dialect::padded`](crate::Dialect)), repeating the last id in the places beyond them.
fn bind_padded<DB: Backend, I: crate::value::SqlType>(
    args: &mut DB::Arguments,
    ids: &[impl std::borrow::Borrow<I>],
    places: usize,
) -> Result<()> {
    let extra = std::iter::repeat_n(ids.last(), places - ids.len()).flatten();
    for id in ids.iter().chain(extra) {
        bind::<DB, I>(args, id.borrow())?;
    }
    Ok(())
}

/// Ids without repeats, in first-seen order.
fn distinct<I: Clone + Eq + std::hash::Hash>(ids: impl IntoIterator<Item = I>) -> Vec<I> {
    let mut seen = HashSet::new();
    ids.into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

/// The related rows of one owner: what `assembly.parts()` returns (`AssemblyParts` is
/// `Related<__AssemblyParts>`). Its methods are LoopBack's, and each says what SQL it runs.
pub struct Related<R: Relation> {
    owner_id: <R::Owner as Model>::Id,
    relation: std::marker::PhantomData<fn() -> R>,
}

impl<R: Relation> Clone for Related<R> {
    fn clone(&self) -> Self {
        Related::new(self.owner_id.clone())
    }
}

impl<R: Relation> fmt::Debug for Related<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Related")
            .field("relation", &R::def().name)
            .field("owner_id", &self.owner_id)
            .finish()
    }
}

/// A related row built but not yet written: `save` inserts and links it.
pub struct Unsaved<R: Relation> {
    related: Related<R>,
    /// The values that `save` will insert.
    pub data: <R::Target as Model>::New,
}

impl<R: Relation> Unsaved<R> {
    /// Inserts the row and links it to the owner in one transaction, like `create`.
    pub async fn save<A: Db>(self, db: A) -> Result<R::Target> {
        self.related.create(db, self.data).await
    }
}

impl<R: Relation> Related<R> {
    /// The related rows of the owner with id `owner_id`.
    pub fn new(owner_id: <R::Owner as Model>::Id) -> Self {
        Related {
            owner_id,
            relation: std::marker::PhantomData,
        }
    }

    /// The owner's id.
    pub fn owner_id(&self) -> &<R::Owner as Model>::Id {
        &self.owner_id
    }
}

impl<R, O, T> Related<R>
where
    R: Relation<Owner = O, Target = T>,
    O: Model,
    T: Model,
{
    fn rel(&self) -> &'static RelationDef {
        R::def()
    }

    fn op(&self, method: &'static str) -> Op {
        self.rel().op(method)
    }

    fn statements<DB: Backend>(&self) -> &'static RelationStatements {
        self.rel().statements(DB::DIALECT)
    }

    fn owner_args<DB: Backend>(&self) -> Result<DB::Arguments> {
        args_of::<DB, _>(&self.owner_id)
    }

    /// Arguments holding the owner's id, then `target_id`.
    fn pair_args<DB: Backend>(&self, target_id: &T::Id) -> Result<DB::Arguments> {
        let mut args = self.owner_args::<DB>()?;
        bind::<DB, _>(&mut args, target_id)?;
        Ok(args)
    }
}
