//! `has_and_belongs_to_many`: the description of a join table, and the related rows of one
//! owner with every operation on them.
//!
//! Reads are in `read`, writes of one link in `write`, writes of many links in `batch`, the
//! join model's data in `through`, eager loading in `load`. `statements` builds a relation's
//! fixed SQL once per dialect, and `shape` learns whether its join table has a unique key.
//!
//! Every write locks in one order: model rows (the owner, then targets in ascending id)
//! before join-table rows.

/// Runs `$body`, a write of `$related`'s links on the connection `$c`, and for a symmetric
/// relation the same write of its mirror, in one transaction: `a.friends().add(b)` also
/// links `b` to `a`. The answer is the first write's. A symmetric write first locks the
/// owner and `$ids` (the rows it names) for update: two writes of one pair then take turns,
/// since a write that inserts a pair names both of its rows, and one that deletes it is
/// owned by one of them; otherwise one transaction's two statements could each see a
/// different moment of the other's work, and leave a link without its mirror.
macro_rules! both_ways {
    ($DB:ty, $related:expr, $conn:expr, $op:expr, $ids:expr, |$this:ident, $c:ident| $body:expr) => {{
        let related = $related;
        match related.mirror() {
            None => {
                let $this = related;
                let $c: &mut <$DB as sqlx::Database>::Connection = $conn;
                $body
            }
            Some(mirror) => {
                let mut tx = crate::retry::begin::<$DB>($conn).await.at($op)?;
                related.lock_ends::<$DB>(&mut tx, $ids, $op).await?;
                let answer = {
                    let $this = related;
                    let $c: &mut <$DB as sqlx::Database>::Connection = &mut tx;
                    $body
                }?;
                {
                    let $this = &mirror;
                    let $c: &mut <$DB as sqlx::Database>::Connection = &mut tx;
                    $body
                }?;
                tx.commit().await.at($op)?;
                Ok(answer)
            }
        }
    }};
}

mod batch;
mod eager;
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
use crate::def::{Model, Relation, RelationDef, RelationStatements, ThroughStatements};
use crate::dialect::Dialect;
use crate::error::{Error, Op, Result};
use crate::statement;

pub use eager::{Include, IncludeWith, Loader};
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
    /// `R::def()`, or for the mirror of a symmetric relation, its mirror.
    def: &'static RelationDef,
    relation: std::marker::PhantomData<fn() -> R>,
}

impl<R: Relation> Clone for Related<R> {
    fn clone(&self) -> Self {
        Related {
            owner_id: self.owner_id.clone(),
            def: self.def,
            relation: std::marker::PhantomData,
        }
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
            def: R::def(),
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
        self.def
    }

    /// For a symmetric relation, the same owner's links read from the other end: written
    /// with the same ids, it writes the mirror of each link this one writes.
    fn mirror(&self) -> Option<Self> {
        self.def.mirror.map(|mirror| Related {
            owner_id: self.owner_id.clone(),
            def: mirror(),
            relation: std::marker::PhantomData,
        })
    }

    /// The owner and `ids`, rows of one model in a symmetric relation, locked for update in
    /// ascending id order (see [`both_ways`]).
    async fn lock_ends<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        ids: &[T::Id],
        op: Op,
    ) -> Result<()> {
        let owner: &dyn std::any::Any = &self.owner_id;
        let ends = distinct(ids.iter().chain(owner.downcast_ref::<T::Id>()).cloned());
        self.lock_rows::<DB>(conn, &ends, crate::dialect::Lock::Update, op)
            .await
            .map(drop)
    }

    /// A symmetric relation links a row to others only: linking it to itself would be one
    /// link that is its own mirror, which a `remove` of either direction could not keep in
    /// step. [`Error::SelfLink`] before anything is written.
    fn refuse_self_link<'i>(&self, ids: impl IntoIterator<Item = &'i T::Id>, op: Op) -> Result<()> {
        if self.def.mirror.is_none() {
            return Ok(());
        }
        let owner: &dyn std::any::Any = &self.owner_id;
        match owner.downcast_ref::<T::Id>() {
            Some(owner) if ids.into_iter().any(|id| id == owner) => Err(Error::SelfLink {
                operation: op.to_string().into(),
                model: T::def().name,
                id: format!("{owner:?}"),
            }),
            _ => Ok(()),
        }
    }

    fn op(&self, method: &'static str) -> Op {
        self.rel().op(method)
    }

    fn statements<DB: Backend>(&self) -> &'static RelationStatements {
        statement::relation(self.rel(), DB::DIALECT)
    }

    /// The statements that write the join model's columns, which the relation's description
    /// must name.
    fn through_statements<DB: Backend>(&self, op: Op) -> Result<&'static ThroughStatements> {
        self.statements::<DB>()
            .through
            .as_ref()
            .ok_or_else(|| Error::Unsupported {
                operation: op.to_string().into(),
                message: "the relation's description names no join model to write data into"
                    .to_owned(),
            })
    }

    fn owner_args<DB: Backend>(&self) -> Result<DB::Arguments> {
        args_of::<DB, _>(&self.owner_id)
    }
}
