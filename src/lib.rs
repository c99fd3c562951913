//! # habtm
//!
//! LoopBack's `hasAndBelongsToMany` relation for Rust: annotate two structs, and
//! `#[derive(Model)]` writes a typed accessor whose methods run SQL through sqlx against a
//! join table named automatically, on SQLite (the default), PostgreSQL and MySQL/MariaDB.
//!
//! ```
//! use habtm::sqlx::sqlite::SqlitePoolOptions;
//! use habtm::{Filter, Model, Schema};
//!
//! #[derive(Debug, Clone, PartialEq, Model)]
//! #[model(plural = "Assemblies")]
//! #[relation(has_and_belongs_to_many, model = "Part")]
//! pub struct Assembly {
//!     pub id: i64,
//!     pub name: String,
//! }
//!
//! #[derive(Debug, Clone, PartialEq, Model)]
//! #[relation(has_and_belongs_to_many, model = "Assembly")]
//! pub struct Part {
//!     pub id: i64,
//!     pub part_number: String,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> habtm::Result<()> {
//! let pool = SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await?;
//! Schema::new().model::<Assembly>().model::<Part>().create_all(&pool).await?;
//!
//! let engine = Assembly::create(&pool, NewAssembly { name: "engine".into() }).await?;
//! let bolt = engine.parts().create(&pool, NewPart { part_number: "B-1".into() }).await?;
//! let nut = Part::create(&pool, NewPart { part_number: "N-2".into() }).await?;
//! engine.parts().add(&pool, nut.id).await?;
//!
//! assert!(engine.parts().exists(&pool, bolt.id).await?);
//! assert_eq!(nut.assemblies().all(&pool).await?, vec![engine.clone()]);
//! let filter = Filter::new().filter(Part::PART_NUMBER.like("N-%"));
//! assert_eq!(engine.parts().find(&pool, filter).await?, vec![nut]);
//! # Ok(())
//! # }
//! ```
//!
//! ## Attributes
//!
//! - `#[model(table = "...", plural = "...")]` on the struct: the table (default: the
//!   struct name) and the plural of the name.
//! - `#[model(id)]` marks the id field (default: the field named `id`);
//!   `#[model(generated = false)]` on it makes the caller supply integer ids (other id types
//!   are always supplied); `#[model(column = "...")]` names a field's column.
//! - `#[relation(has_and_belongs_to_many, model = "Part", name = "parts",
//!   through_table = "...", foreign_key = "...", key_through = "...")]`, repeatable:
//!   the accessor `name` defaults to the snake_case plural of the model; the join table to
//!   both model names in byte order (`AssemblyPart`); its columns to `assembly_id` and
//!   `part_id`. A relation of a model to itself (`name = "subparts"`) defaults to the join
//!   table `PartSubparts` with columns `part_id` and `subpart_id`.
//!
//! ## Generated items, for `Assembly` with relation `parts`
//!
//! - `impl habtm::Model for Assembly`;
//! - `pub struct NewAssembly`: every field but a generated id;
//! - `Assembly::create`, `find_by_id`, `find`, `save`, `delete_by_id`, and the filter
//!   columns `Assembly::ID`, `Assembly::NAME`;
//! - `assembly.parts()` and `Assembly::parts_of(id)`, returning `AssemblyParts`, whose
//!   methods are `find`, `all`, `build`, `create`, `add`, `remove`, `find_by_id`,
//!   `update_by_id`, `destroy`, `exists`, `count`, `count_where`, `clear`, `ids`, `set`,
//!   `add_many` and `remove_many`.
//!
//! Every method takes `db`: a `&Pool`, a `&mut PoolConnection`, a `&mut` connection, or a
//! transaction as `&mut *tx` (anything that implements [`Db`]). Methods that run several
//! statements open their own transaction on it (a savepoint inside the caller's).
//!
//! ## Conflicts and transactions
//!
//! An operation that meets a deadlock, a serialization failure or a busy database runs again,
//! with jittered exponential backoff, within the [`RetryPolicy`]'s time budget; after that, or
//! inside your transaction, it fails with [`Error::Conflict`] ([`Error::is_retryable`]).
//! [`transaction()`] runs a closure in a transaction and runs it again after a conflict:
//!
//! ```
//! # use habtm::sqlx::sqlite::SqlitePoolOptions;
//! # use habtm::{Model, Schema};
//! # #[derive(Debug, Clone, PartialEq, Model)]
//! # #[model(plural = "Assemblies")]
//! # #[relation(has_and_belongs_to_many, model = "Part")]
//! # pub struct Assembly { pub id: i64, pub name: String }
//! # #[derive(Debug, Clone, PartialEq, Model)]
//! # #[relation(has_and_belongs_to_many, model = "Assembly")]
//! # pub struct Part { pub id: i64, pub part_number: String }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> habtm::Result<()> {
//! # let pool = SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await?;
//! # Schema::new().model::<Assembly>().model::<Part>().create_all(&pool).await?;
//! use std::time::Duration;
//!
//! habtm::RetryPolicy { budget: Duration::from_secs(30), ..Default::default() }.install();
//!
//! let bolt = Part::create(&pool, NewPart { part_number: "B-1".into() }).await?;
//! let engine = habtm::transaction(&pool, |tx| {
//!     let bolt = bolt.clone();
//!     Box::pin(async move {
//!         let engine = Assembly::create(&mut **tx, NewAssembly { name: "engine".into() }).await?;
//!         engine.parts().add(&mut **tx, bolt.id).await?;
//!         Ok::<_, habtm::Error>(engine)
//!     })
//! })
//! .await?;
//! assert_eq!(engine.parts().ids(&pool).await?, vec![bolt.id]);
//! # Ok(())
//! # }
//! ```

// On docs.rs, each item shows the features it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use habtm_derive::Model;
pub use habtm_runtime::*;

/// The sqlx this crate was built with.
pub use habtm_runtime::__private::sqlx;

/// Expands to its input when habtm is built with the `json` feature, to nothing otherwise:
/// the derive wraps its JSON conversions in it.
#[cfg(feature = "json")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_json {
    ($($item:tt)*) => { $($item)* };
}

/// Expands to its input when habtm is built with the `json` feature, to nothing otherwise:
/// the derive wraps its JSON conversions in it.
#[cfg(not(feature = "json"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_json {
    ($($item:tt)*) => {};
}
