//! Typed eager loading of several relations and levels in one call: a plan built from the
//! relation constants, run level by level, one statement per relation and level (per chunk
//! of owners where the backend binds them one by one).
//!
//! ```text
//! let plan = (
//!     Assembly::PARTS
//!         .include(Filter::new().order_by(Part::PART_NUMBER))
//!         .with(Part::SUBPARTS.include(Filter::new().limit(3))),
//!     Assembly::TAGS.include(Filter::new()),
//! );
//! for (assembly, (parts, tags)) in assemblies.iter().zip(plan.load(db, &assemblies).await?) {
//!     for (part, subparts) in parts { ... }
//! }
//! ```

use std::future::Future;

use crate::backend::Backend;
use crate::db::Db;
use crate::def::{Model, Relation};
use crate::error::{Context, Error, Result};
use crate::filter::{Filter, RelationRef};

use super::load::load_on;

/// What to load with each of a list of owners of type `O`: an [`Include`] of one relation,
/// an [`IncludeWith`] that goes on into the related rows, or a tuple of up to six of them,
/// each loaded for the same owners.
pub trait Loader<O: Model>: Send + Sync {
    /// What each owner gets: the related rows (`Vec<Part>`), each with what was loaded for
    /// it (`Vec<(Part, Vec<Part>)>`), or a tuple of these.
    type Output: Send;

    /// Loads for `owners`, in their order: one entry per owner, in one statement per
    /// relation and level on one connection.
    fn load<A: Db>(
        &self,
        db: A,
        owners: &[O],
    ) -> impl Future<Output = Result<Vec<Self::Output>>> + Send {
        let op = crate::error::Op::model(O::def().name, "include");
        crate::trace::traced::<A::Database, _>(op, async move {
            let mut conn = db.read_connection().await.at(op)?;
            let ids = owners.iter().map(Model::id).collect();
            self.load_on::<A::Database>(&mut conn, ids).await
        })
    }

    /// Loads for the owners with these ids on `conn`, one entry per id.
    #[doc(hidden)]
    fn load_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        owners: Vec<&O::Id>,
    ) -> impl Future<Output = Result<Vec<Self::Output>>> + Send;
}

/// The rows of relation `R` for each owner, read with a filter that applies to each owner on
/// its own (a limit of 3 is up to 3 per owner): `Assembly::PARTS.include(filter)`.
pub struct Include<R: Relation> {
    filter: Filter<R::Target>,
}

impl<R: Relation> Include<R> {
    /// Goes on into the related rows: `nested` is loaded for every row this level loads, in
    /// one statement for all of them.
    pub fn with<N: Loader<R::Target>>(self, nested: N) -> IncludeWith<R, N> {
        IncludeWith {
            include: self,
            nested,
        }
    }
}

impl<R: Relation> std::fmt::Debug for Include<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Include")
            .field("relation", &R::def().name)
            .finish_non_exhaustive()
    }
}

impl<R: Relation> RelationRef<R> {
    /// Eager loading of this relation, for a [`Loader`] plan:
    /// `Assembly::PARTS.include(Filter::new()).load(db, &assemblies)`.
    pub fn include(self, filter: Filter<R::Target>) -> Include<R> {
        Include { filter }
    }
}

impl<R: Relation> Loader<R::Owner> for Include<R> {
    type Output = Vec<R::Target>;

    async fn load_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        owners: Vec<&<R::Owner as Model>::Id>,
    ) -> Result<Vec<Vec<R::Target>>> {
        load_on::<R, R::Owner, R::Target, DB>(conn, owners, &self.filter).await
    }
}

/// An [`Include`] and what to load with each of its rows: each owner gets its related rows
/// in pairs with their own loads, `Vec<(Part, Vec<Part>)>`.
pub struct IncludeWith<R: Relation, N> {
    include: Include<R>,
    nested: N,
}

impl<R: Relation, N> std::fmt::Debug for IncludeWith<R, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncludeWith")
            .field("include", &self.include)
            .finish_non_exhaustive()
    }
}

impl<R: Relation, N: Loader<R::Target>> Loader<R::Owner> for IncludeWith<R, N> {
    type Output = Vec<(R::Target, N::Output)>;

    async fn load_on<DB: Backend>(
        &self,
        conn: &mut DB::Connection,
        owners: Vec<&<R::Owner as Model>::Id>,
    ) -> Result<Vec<Self::Output>> {
        let per_owner = self.include.load_on::<DB>(conn, owners).await?;
        let counts: Vec<usize> = per_owner.iter().map(Vec::len).collect();
        let rows: Vec<R::Target> = per_owner.into_iter().flatten().collect();
        // A row under several owners is read once by the next level, and given to each.
        let nested = self
            .nested
            .load_on::<DB>(conn, rows.iter().map(Model::id).collect())
            .await?;
        let mut pairs = rows.into_iter().zip(nested);
        Ok(counts
            .into_iter()
            .map(|n| pairs.by_ref().take(n).collect())
            .collect())
    }
}

/// One owner's entry was missing from a level's answer: a mistake in habtm itself.
fn misaligned() -> Error {
    Error::Unsupported {
        operation: "eager loading".into(),
        message: "a level answered fewer entries than it had owners".to_owned(),
    }
}

/// Several loads for the same owners, each entry the tuple of theirs.
macro_rules! tuple_loader {
    ($($loader:ident $index:tt),+) => {
        impl<O: Model, $($loader: Loader<O>),+> Loader<O> for ($($loader,)+) {
            type Output = ($($loader::Output,)+);

            async fn load_on<DB: Backend>(
                &self,
                conn: &mut DB::Connection,
                owners: Vec<&O::Id>,
            ) -> Result<Vec<Self::Output>> {
                let len = owners.len();
                let mut each = ($(self.$index.load_on::<DB>(conn, owners.clone()).await?.into_iter(),)+);
                (0..len)
                    .map(|_| Some(($(each.$index.next()?,)+)))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(misaligned)
            }
        }
    };
}

tuple_loader!(A 0, B 1);
tuple_loader!(A 0, B 1, C 2);
tuple_loader!(A 0, B 1, C 2, D 3);
tuple_loader!(A 0, B 1, C 2, D 3, E 4);
tuple_loader!(A 0, B 1, C 2, D 3, E 4, F 5);
