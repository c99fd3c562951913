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
mod through;
mod write;

use std::collections::HashSet;
use std::fmt;

use crate::backend::Backend;
use crate::backend::{args_of, bind};
use crate::db::Db;
use crate::def::{Model, Relation, RelationDef, RelationStatements};
use crate::dialect::Dialect;
use crate::error::{Op, Result};
use crate::statement;

pub use load::load;
#[cfg(feature = "rest")]
pub(crate) use load::load_ids;
pub(crate) use read::count_of;

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
        statement::relation(self.rel(), DB::DIALECT)
    }

    fn owner_args<DB: Backend>(&self) -> Result<DB::Arguments> {
        args_of::<DB, _>(&self.owner_id)
    }
}
