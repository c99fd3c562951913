//! Which Rust types can be model columns: those every enabled backend can encode and decode.

use std::fmt::Debug;

use crate::backend::{mysql, postgres, sqlite};

/// A Rust type usable as a column value on every backend habtm was built with.
///
/// It is implemented for every type that sqlx can encode, decode and name on each enabled
/// backend (`i64`, `String`, `bool`, `Option<T>`, `uuid::Uuid` with sqlx's `uuid` feature,
/// newtypes deriving `sqlx::Type`, ...). A model field of another type is a compile error on
/// that field.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a column: sqlx cannot encode, decode and name it on every enabled backend",
    label = "not a column type",
    note = "use a type sqlx supports (integers, String, bool, f64, Option<T>, ...), or derive `sqlx::Type` for it"
)]
pub trait SqlType:
    Send + Sync + 'static + sqlite::Supported + postgres::Supported + mysql::Supported
{
}

impl<T> SqlType for T where
    T: Send + Sync + 'static + sqlite::Supported + postgres::Supported + mysql::Supported
{
}

/// A value of some [`SqlType`], kept by a filter until it is bound to a statement.
pub trait DynValue: Debug + Send + Sync {
    #[cfg(feature = "sqlite")]
    #[doc(hidden)]
    fn bind_sqlite(
        &self,
        args: &mut sqlx::sqlite::SqliteArguments,
    ) -> Result<(), sqlx::error::BoxDynError>;
    #[cfg(feature = "postgres")]
    #[doc(hidden)]
    fn bind_postgres(
        &self,
        args: &mut sqlx::postgres::PgArguments,
    ) -> Result<(), sqlx::error::BoxDynError>;
    #[cfg(feature = "mysql")]
    #[doc(hidden)]
    fn bind_mysql(
        &self,
        args: &mut sqlx::mysql::MySqlArguments,
    ) -> Result<(), sqlx::error::BoxDynError>;
}

impl<T: SqlType + Debug> DynValue for T {
    #[cfg(feature = "sqlite")]
    fn bind_sqlite(
        &self,
        args: &mut sqlx::sqlite::SqliteArguments,
    ) -> Result<(), sqlx::error::BoxDynError> {
        sqlx::Arguments::add(args, self)
    }
    #[cfg(feature = "postgres")]
    fn bind_postgres(
        &self,
        args: &mut sqlx::postgres::PgArguments,
    ) -> Result<(), sqlx::error::BoxDynError> {
        sqlx::Arguments::add(args, self)
    }
    #[cfg(feature = "mysql")]
    fn bind_mysql(
        &self,
        args: &mut sqlx::mysql::MySqlArguments,
    ) -> Result<(), sqlx::error::BoxDynError> {
        sqlx::Arguments::add(args, self)
    }
}
