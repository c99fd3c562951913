//! Runtime support for `habtm`: the [`Model`] trait, relation operations, filters, schema
//! and errors. Use it through the `habtm` crate, which re-exports everything here.

// On docs.rs, each item shows the features it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

// The modules in layers: each imports only from the layers above it (`tests/layers.rs`
// checks this).

// Words of SQL: dialects, value types, errors.
mod dialect;
mod value;

mod error;

// Drivers and connections.
mod backend;
#[cfg(feature = "json")]
mod json;

mod sql;

mod db;
mod replicas;
mod retry;
mod run;

// What models and relations are, and their fixed statements.
mod def;
mod trace;

mod statement;

// Filters, then the operations on models and relations.
mod filter;

mod ops;

// What sits on top: schema and REST.
mod schema;

#[cfg(feature = "rest")]
pub mod rest;

pub use backend::Backend;
pub use db::Db;
#[cfg(feature = "json")]
pub use def::JsonModel;
pub use def::{JoinModel, Link, Model, Relation};
pub use dialect::Dialect;
pub use error::{Error, Result, Retryable};
pub use filter::{AllFields, Column, Condition, Filter, OnlyForSelect, Order, RelationRef};
pub use ops::relation::{Include, IncludeWith, Loader, Related, Unsaved};
pub use replicas::{ReadYourWrites, Replicated};
pub use retry::{BoxFuture, RetryPolicy, transaction};
pub use schema::Schema;
pub use value::SqlType;

/// What generated code calls, and the descriptions it writes; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::backend::Backend;
    pub use crate::def::{
        ColumnDef, ModelDef, ModelStatements, RelationDef, RelationStatements, StatementCache,
    };
    #[cfg(feature = "json")]
    pub use crate::json::{JsonColumn, JsonParser, convert as json};
    pub use crate::ops::model::{
        count, create, create_many, delete_by_id, delete_where, exists, find, find_by_id, find_one,
        save, select, stream, update,
    };
    pub use crate::ops::relation::load;
    pub use crate::value::{DynList, DynValue};
    pub use futures_core::stream::BoxStream;
    #[cfg(feature = "json")]
    pub use serde_json;
    pub use sqlx;
    pub use sqlx::error::BoxDynError;
    pub use sqlx::{Acquire, Database};

    /// The driver's type name for `T` on `dialect`, for DDL.
    pub fn sql_type<T: crate::SqlType>(dialect: crate::Dialect) -> String {
        match dialect {
            #[cfg(feature = "sqlite")]
            crate::dialect::Dialect::Sqlite => <sqlx::Sqlite as Backend>::type_name::<T>(),
            #[cfg(feature = "postgres")]
            crate::dialect::Dialect::Postgres => <sqlx::Postgres as Backend>::type_name::<T>(),
            #[cfg(feature = "mysql")]
            crate::dialect::Dialect::MySql => <sqlx::MySql as Backend>::type_name::<T>(),
            #[allow(unreachable_patterns)]
            _ => String::new(),
        }
    }

    /// Converts a generated id; `None` when it does not fit.
    pub fn id_from_i64<T: TryFrom<i64>>(value: i64) -> Option<T> {
        T::try_from(value).ok()
    }
}
