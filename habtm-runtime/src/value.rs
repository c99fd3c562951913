//! Which Rust types can be model columns: those every enabled backend can encode and decode.

use std::fmt::Debug;

use crate::dialect::Dialect;

/// `Supported`: the types one driver encodes, decodes and names; every type when its
/// feature is off.
macro_rules! supported {
    ($feature:literal, $module:ident, $db:ty) => {
        /// Marker for types the driver behind this feature encodes, decodes and names.
        pub mod $module {
            #[cfg(feature = $feature)]
            /// Implemented for every type the driver can encode, decode and name.
            pub trait Supported:
                for<'q> sqlx::Encode<'q, $db> + for<'r> sqlx::Decode<'r, $db> + sqlx::Type<$db>
            {
            }
            #[cfg(feature = $feature)]
            impl<T> Supported for T where
                T: ?Sized
                    + for<'q> sqlx::Encode<'q, $db>
                    + for<'r> sqlx::Decode<'r, $db>
                    + sqlx::Type<$db>
            {
            }
            #[cfg(not(feature = $feature))]
            /// This backend is not built in: every type qualifies.
            pub trait Supported {}
            #[cfg(not(feature = $feature))]
            impl<T: ?Sized> Supported for T {}
        }
    };
}

supported!("sqlite", sqlite, sqlx::Sqlite);
supported!("postgres", postgres, sqlx::Postgres);
supported!("mysql", mysql, sqlx::MySql);

/// A Rust type usable as a column value on every backend habtm was built with.
///
/// It is implemented for every type that sqlx can encode, decode and name on each enabled
/// backend (`i64`, `String`, `bool`, `Option<T>`, `uuid::Uuid` with sqlx's `uuid` feature,
/// newtypes deriving `sqlx::Type`, ...). A model field of another type is a compile error on
/// that field.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a column: sqlx cannot encode, decode and name it on every enabled backend",
    label = "not a column type",
    note = "use a type sqlx supports (integers, String, bool, f64, Option<T>, ...), or derive `sqlx::Type` for it",
    note = "a column type implements `sqlx::Type`, `sqlx::Encode` and `sqlx::Decode` for each backend whose feature is on (sqlite, postgres, mysql)"
)]
pub trait SqlType:
    Send + Sync + 'static + sqlite::Supported + postgres::Supported + mysql::Supported
{
}

// Errors name the missing `SqlType` itself, not the nine driver traits behind it.
#[diagnostic::do_not_recommend]
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

    /// The value as a JSON scalar, for the integer and text types ids are made of; `None` for
    /// any other type. A list of such values travels to SQLite as one JSON text.
    #[doc(hidden)]
    fn json(&self) -> Option<String>;
}

impl<T: SqlType + Debug> DynValue for T {
    fn json(&self) -> Option<String> {
        let any = self as &dyn std::any::Any;
        macro_rules! integers {
            ($($ty:ty),*) => {$(
                if let Some(value) = any.downcast_ref::<$ty>() {
                    return Some(value.to_string());
                }
            )*};
        }
        integers!(i64, i32, i16, i8, u32, u16, u8);
        any.downcast_ref::<String>().map(|text| json_string(text))
    }

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

/// `text` as a JSON string: quoted, with quotes, backslashes and control characters escaped.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a list of values like `sample` (the first; `None` for an empty list) travels to
/// `dialect` as one JSON text: on SQLite those with a JSON form, integers and text; on MySQL
/// integers only, since `JSON_TABLE`'s text column has its own collation, which an index of
/// another cannot be probed with. (PostgreSQL takes arrays.)
pub(crate) fn json_list(dialect: Dialect, sample: Option<&dyn DynValue>) -> bool {
    let json = sample.map(DynValue::json);
    match dialect {
        Dialect::Sqlite => json.is_none_or(|json| json.is_some()),
        Dialect::MySql => json.is_none_or(|json| json.is_some_and(|j| !j.starts_with('"'))),
        Dialect::Postgres => false,
    }
}

/// The values of `list` as one JSON array, when every one has a JSON form
/// ([`DynValue::json`]).
#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) fn json_array(list: &dyn DynList) -> Option<String> {
    let mut out = String::with_capacity(list.len() * 8 + 2);
    out.push('[');
    for i in 0..list.len() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&list.item(i).json()?);
    }
    out.push(']');
    Some(out)
}

/// Values of one [`SqlType`] for `IN` and `NOT IN`, kept by a filter until it is bound: as
/// one parameter each, as one PostgreSQL array, or in a temporary table when the list is
/// longer than a statement may carry parameters.
pub trait DynList: Debug + Send + Sync {
    /// How many values there are.
    fn len(&self) -> usize;

    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `index`.
    #[doc(hidden)]
    fn item(&self, index: usize) -> &dyn DynValue;

    /// Binds every value as one PostgreSQL array parameter of undeclared type: the statement
    /// casts it (`$1::INT8[]`).
    #[cfg(feature = "postgres")]
    #[doc(hidden)]
    fn bind_postgres_array(
        &self,
        args: &mut sqlx::postgres::PgArguments,
    ) -> Result<(), sqlx::error::BoxDynError>;
}

impl<T: SqlType + Debug> DynList for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn item(&self, index: usize) -> &dyn DynValue {
        &self[index]
    }

    #[cfg(feature = "postgres")]
    fn bind_postgres_array(
        &self,
        args: &mut sqlx::postgres::PgArguments,
    ) -> Result<(), sqlx::error::BoxDynError> {
        sqlx::Arguments::add(args, postgres_array::PgArray(self.as_slice()))
    }
}

/// A borrowed list, bound without copying it.
impl<T: SqlType + Debug> DynList for &[T] {
    fn len(&self) -> usize {
        <[T]>::len(self)
    }

    fn item(&self, index: usize) -> &dyn DynValue {
        &self[index]
    }

    #[cfg(feature = "postgres")]
    fn bind_postgres_array(
        &self,
        args: &mut sqlx::postgres::PgArguments,
    ) -> Result<(), sqlx::error::BoxDynError> {
        sqlx::Arguments::add(args, postgres_array::PgArray(self))
    }
}

#[cfg(feature = "postgres")]
mod postgres_array {
    use sqlx::Postgres;
    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::postgres::types::Oid;
    use sqlx::postgres::{PgArgumentBuffer, PgBindIterExt, PgTypeInfo};

    use super::SqlType;

    /// A slice encoded as a PostgreSQL array whose type the statement gives with a cast, so
    /// that element types without a declared array type (`PgHasArrayType`) work too.
    pub(super) struct PgArray<'a, T>(pub(super) &'a [T]);

    impl<T: SqlType> sqlx::Encode<'_, Postgres> for PgArray<'_, T> {
        fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
            sqlx::Encode::<Postgres>::encode(self.0.iter().bind_iter(), buf)
        }
    }

    impl<T> sqlx::Type<Postgres> for PgArray<'_, T> {
        /// Unspecified: PostgreSQL takes the type from the cast in the statement.
        fn type_info() -> PgTypeInfo {
            PgTypeInfo::with_oid(Oid(0))
        }
    }
}
