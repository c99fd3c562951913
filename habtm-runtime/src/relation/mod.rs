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
    pub async fn save<A: Db>(self, db: A) -> Result<T> {
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
        self.rel.op(method)
    }

    fn statements<DB: Backend>(&self) -> &'static RelationStatements {
        self.rel.statements(DB::DIALECT)
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
