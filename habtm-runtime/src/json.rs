//! Column values from and to JSON (the `json` feature): the parser a column's JSON filter
//! values go through, and the conversions the generated JSON forms call.

use std::fmt::Debug;

use crate::value::{DynList, DynValue, SqlType};

/// Reads the items of a JSON array into a list of a column's Rust type; the error says which
/// item did not fit.
type ListParser = fn(&[serde_json::Value]) -> Result<Box<dyn DynList>, (usize, serde_json::Error)>;

/// Reads a JSON value into a column's Rust type.
#[derive(Clone, Copy)]
pub struct JsonParser {
    pub(crate) parse: fn(&serde_json::Value) -> Result<Box<dyn DynValue>, serde_json::Error>,
    /// Reads every item of an array; an error says which.
    pub(crate) parse_list: ListParser,
}

impl Debug for JsonParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsonParser")
    }
}

/// A column type with a JSON form: one that implements `serde::Serialize`,
/// `serde::Deserialize` and `Debug`. A model has a JSON form where all its columns have one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no JSON form, so neither has a model with a field of this type",
    label = "needs Serialize, Deserialize and Debug",
    note = "the JSON filter and the REST API read and write every field of a model as JSON: derive `serde::Serialize` and `serde::Deserialize` for this type"
)]
pub trait JsonColumn: SqlType + Debug + serde::Serialize + serde::de::DeserializeOwned {}
impl<T: SqlType + Debug + serde::Serialize + serde::de::DeserializeOwned> JsonColumn for T {}

/// Helpers the generated JSON conversions call.
#[doc(hidden)]
pub mod convert {
    use serde_json::{Map, Value};

    use super::JsonColumn;

    /// A value of `T` from JSON; the message says why it does not fit.
    pub fn from_value<T: JsonColumn>(value: Value) -> Result<T, String> {
        T::deserialize(value).map_err(|e| e.to_string())
    }

    /// Property `name` as a JSON value; the message names it when its `Serialize` fails.
    pub fn to_value<T: JsonColumn>(value: &T, name: &str) -> Result<Value, String> {
        serde_json::to_value(value).map_err(|e| format!("`{name}` cannot be written as JSON: {e}"))
    }

    /// Takes property `name` (or the Rust name `field`) out of `object` and reads it as `T`;
    /// a missing property is `null`, which only an `Option` field accepts.
    pub fn take<T: JsonColumn>(
        object: &mut Map<String, Value>,
        name: &str,
        field: &str,
    ) -> Result<T, String> {
        let value = object.remove(name).or_else(|| object.remove(field));
        let missing = value.is_none();
        T::deserialize(value.unwrap_or(Value::Null)).map_err(|e| {
            if missing {
                format!("`{name}` is required")
            } else {
                format!("`{name}`: {e}")
            }
        })
    }

    /// Fails on the first property no field took.
    pub fn no_more(object: &Map<String, Value>, names: &[&str]) -> Result<(), String> {
        match object.keys().next() {
            None => Ok(()),
            Some(key) => Err(format!(
                "`{key}` is not a property; the properties are {}",
                names.join(", ")
            )),
        }
    }
}

impl JsonParser {
    /// The parser for columns of type `T`.
    pub const fn of<T: JsonColumn>() -> Self {
        JsonParser {
            parse: parse_as::<T>,
            parse_list: parse_list_as::<T>,
        }
    }
}

fn parse_as<T: JsonColumn>(
    value: &serde_json::Value,
) -> Result<Box<dyn DynValue>, serde_json::Error> {
    Ok(Box::new(T::deserialize(value)?))
}

fn parse_list_as<T: JsonColumn>(
    items: &[serde_json::Value],
) -> Result<Box<dyn DynList>, (usize, serde_json::Error)> {
    let values = items
        .iter()
        .enumerate()
        .map(|(i, item)| T::deserialize(item).map_err(|e| (i, e)))
        .collect::<Result<Vec<T>, _>>()?;
    Ok(Box::new(values))
}
