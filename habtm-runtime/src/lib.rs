//! Runtime support for `habtm`: the [`Model`] trait, relation operations, filters, schema
//! and errors. Use it through the `habtm` crate, which re-exports everything here.

mod backend;
mod db;
mod error;
mod filter;
mod json;
mod model;
mod relation;
#[cfg(feature = "rest")]
pub mod rest;
mod retry;
mod run;
mod schema;
mod sql;
mod value;

pub use backend::{Backend, Dialect};
pub use db::Db;
pub use error::{Error, Result, Retryable};
pub use filter::{Column, Condition, Filter, Order, RelationRef};
pub use json::JsonParser;
pub use model::{ColumnDef, Model, ModelDef, ModelStatements};
pub use relation::{Link, Related, Relation, RelationDef, RelationStatements, Unsaved};
pub use retry::{BoxFuture, RetryPolicy, transaction};
pub use schema::Schema;
pub use sql::StatementCache;
pub use value::{DynList, DynValue, SqlType};

/// What generated code calls; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::backend::Backend;
    pub use crate::json::JsonColumn;
    #[cfg(feature = "json")]
    pub use crate::json::convert as json;
    pub use crate::model::{
        count, create, create_many, delete_by_id, exists, find, find_by_id, save, select, update,
    };
    pub use crate::relation::load;
    #[cfg(feature = "json")]
    pub use serde_json;
    pub use sqlx;
    pub use sqlx::error::BoxDynError;
    pub use sqlx::{Acquire, Database};

    /// The driver's type name for `T` on `dialect`, for DDL.
    pub fn sql_type<T: crate::SqlType>(dialect: crate::Dialect) -> String {
        match dialect {
            #[cfg(feature = "sqlite")]
            crate::Dialect::Sqlite => <sqlx::Sqlite as Backend>::type_name::<T>(),
            #[cfg(feature = "postgres")]
            crate::Dialect::Postgres => <sqlx::Postgres as Backend>::type_name::<T>(),
            #[cfg(feature = "mysql")]
            crate::Dialect::MySql => <sqlx::MySql as Backend>::type_name::<T>(),
            #[allow(unreachable_patterns)]
            _ => String::new(),
        }
    }

    /// Converts a generated id; `None` when it does not fit.
    pub fn id_from_i64<T: TryFrom<i64>>(value: i64) -> Option<T> {
        T::try_from(value).ok()
    }
}
