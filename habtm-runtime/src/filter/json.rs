//! LoopBack's JSON filter syntax, validated against the model's columns and their types.
//!
//! `{"where": {"partNumber": {"like": "X%"}}, "order": "partNumber DESC", "limit": 10}`
//! becomes the same [`Filter`] the typed API builds; every value is parsed into the
//! column's Rust type and bound as a parameter.

use std::borrow::Cow;

use serde_json::Value;

use super::{CompareOp, Direction, Filter, Node};
use crate::error::{Error, Result};
use std::sync::Arc;

use crate::def::{ColumnDef, JsonModel, ModelDef};
use crate::json::JsonParser;
use crate::value::{DynList, DynValue};

fn invalid(message: String) -> Error {
    Error::InvalidFilter { message }
}

const FILTER_KEYS: &str = "where, order, limit, skip, offset, fields";
const OPERATORS: &str = "eq, neq, gt, gte, lt, lte, between, inq, nin, like, nlike";

/// The JSON type of a value, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A model's columns with the parsers of their JSON values.
#[derive(Clone, Copy)]
struct Columns {
    def: &'static ModelDef,
    parsers: &'static [JsonParser],
    /// Whether values came from a query string's brackets (`?filter[where][id]=1`), where
    /// every value is a string: one that does not fit its column is read as the JSON it
    /// spells (`1`, `true`, `null`), as LoopBack coerces it to the property's type.
    strings: bool,
}

/// `value` as its column takes it: under [`Columns::strings`], a string the column does not
/// take as it is becomes the JSON it spells, if it spells one the column takes.
fn coerced<'v>(model: Columns, column: &Property, value: &'v Value) -> Cow<'v, Value> {
    let Value::String(text) = value else {
        return Cow::Borrowed(value);
    };
    if !model.strings || (column.parser.parse)(value).is_ok() {
        return Cow::Borrowed(value);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(spelled) if !spelled.is_string() && (column.parser.parse)(&spelled).is_ok() => {
            Cow::Owned(spelled)
        }
        _ => Cow::Borrowed(value),
    }
}

/// A column with the parser of its JSON values.
struct Property<'d> {
    def: &'d ColumnDef,
    parser: JsonParser,
}

/// The column a JSON property names: its LoopBack (camelCase) or Rust (snake_case) name.
fn column(model: Columns, path: &str, name: &str) -> Result<(usize, Property<'static>)> {
    let def = model.def;
    def.columns
        .iter()
        .enumerate()
        .find(|(_, c)| c.json_name == name || c.field == name)
        .map(|(i, c)| {
            let parser = model.parsers[i];
            (i, Property { def: c, parser })
        })
        .ok_or_else(|| {
            let names: Vec<&str> = def.columns.iter().map(|c| c.json_name).collect();
            invalid(format!(
                "{path}: `{name}` is not a property of {}; the properties are {}",
                def.name,
                names.join(", ")
            ))
        })
}

/// Text values may not hold a NUL character: PostgreSQL cannot store one, and no
/// LoopBack client means to send one.
fn refuse_nul(path: &str, value: &Value) -> Result<()> {
    let found = match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items
            .iter()
            .any(|v| v.as_str().is_some_and(|s| s.contains('\0'))),
        _ => false,
    };
    if found {
        return Err(invalid(format!(
            "{path}: a NUL character (\\u0000) is not accepted in a value"
        )));
    }
    Ok(())
}

fn value(column: &Property, path: &str, value: &Value) -> Result<Box<dyn DynValue>> {
    refuse_nul(path, value)?;
    (column.parser.parse)(value).map_err(|e| {
        invalid(format!(
            "{path}: {} does not fit `{}`: {e}",
            kind(value),
            column.def.json_name
        ))
    })
}

fn values(model: Columns, column: &Property, path: &str, list: &Value) -> Result<Arc<dyn DynList>> {
    let Value::Array(items) = list else {
        return Err(invalid(format!(
            "{path}: expected an array, found {}",
            kind(list)
        )));
    };
    if model.strings {
        let items: Vec<Value> = items
            .iter()
            .map(|item| coerced(model, column, item).into_owned())
            .collect();
        let model = Columns {
            strings: false,
            ..model
        };
        return values(model, column, path, &Value::Array(items));
    }
    refuse_nul(path, list)?;
    (column.parser.parse_list)(items)
        .map(Arc::from)
        .map_err(|(i, e)| {
            invalid(format!(
                "{path}[{i}]: {} does not fit `{}`: {e}",
                kind(&items[i]),
                column.def.json_name
            ))
        })
}

fn pattern(path: &str, value: &Value) -> Result<String> {
    refuse_nul(path, value)?;
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(invalid(format!(
            "{path}: a pattern is a string, found {}",
            kind(other)
        ))),
    }
}

/// One `where` object: properties and `and`/`or`, all of which must hold.
fn condition(model: Columns, path: &str, json: &Value) -> Result<Node> {
    let Value::Object(map) = json else {
        return Err(invalid(format!(
            "{path}: expected an object, found {}",
            kind(json)
        )));
    };
    let mut all = Vec::with_capacity(map.len());
    for (key, item) in map {
        let path = format!("{path}.{key}");
        all.push(match key.as_str() {
            "and" | "or" => {
                let Value::Array(items) = item else {
                    return Err(invalid(format!(
                        "{path}: expected an array of conditions, found {}",
                        kind(item)
                    )));
                };
                let nodes = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| condition(model, &format!("{path}[{i}]"), item))
                    .collect::<Result<Vec<_>>>()?;
                if key == "and" {
                    Node::All(nodes)
                } else {
                    Node::Any(nodes)
                }
            }
            name => {
                let (index, column) = column(model, &path, name)?;
                property(model, index, &column, &path, item)?
            }
        });
    }
    Ok(if all.len() == 1 {
        all.remove(0)
    } else {
        Node::All(all)
    })
}

/// `{"prop": value}` or `{"prop": {"op": value, ...}}`.
fn property(
    model: Columns,
    index: usize,
    column: &Property,
    path: &str,
    json: &Value,
) -> Result<Node> {
    let Value::Object(operators) = json else {
        return compare(model, index, column, path, "eq", json);
    };
    if operators.is_empty() {
        return Err(invalid(format!(
            "{path}: an empty object; use one of the operators {OPERATORS}"
        )));
    }
    let mut all = operators
        .iter()
        .map(|(op, operand)| compare(model, index, column, &format!("{path}.{op}"), op, operand))
        .collect::<Result<Vec<_>>>()?;
    Ok(if all.len() == 1 {
        all.remove(0)
    } else {
        Node::All(all)
    })
}

fn compare(
    model: Columns,
    index: usize,
    column: &Property,
    path: &str,
    op: &str,
    operand: &Value,
) -> Result<Node> {
    let operand = &*coerced(model, column, operand);
    let cmp = |op: CompareOp| -> Result<Node> {
        Ok(Node::Compare {
            column: index,
            op,
            value: value(column, path, operand)?,
        })
    };
    match (op, operand) {
        ("eq", Value::Null) => Ok(Node::Null {
            column: index,
            negated: false,
        }),
        ("neq", Value::Null) => Ok(Node::Null {
            column: index,
            negated: true,
        }),
        ("eq", _) => cmp(CompareOp::Eq),
        ("neq", _) => cmp(CompareOp::Ne),
        ("gt", _) => cmp(CompareOp::Gt),
        ("gte", _) => cmp(CompareOp::Ge),
        ("lt", _) => cmp(CompareOp::Lt),
        ("lte", _) => cmp(CompareOp::Le),
        ("inq" | "nin", list) => Ok(Node::In {
            column: index,
            negated: op == "nin",
            values: values(model, column, path, list)?,
        }),
        ("between", Value::Array(bounds)) if bounds.len() == 2 => Ok(Node::All(vec![
            Node::Compare {
                column: index,
                op: CompareOp::Ge,
                value: value(
                    column,
                    &format!("{path}[0]"),
                    &coerced(model, column, &bounds[0]),
                )?,
            },
            Node::Compare {
                column: index,
                op: CompareOp::Le,
                value: value(
                    column,
                    &format!("{path}[1]"),
                    &coerced(model, column, &bounds[1]),
                )?,
            },
        ])),
        ("between", other) => Err(invalid(format!(
            "{path}: expected an array of two bounds, found {}",
            kind(other)
        ))),
        ("like" | "nlike", pattern_value) => Ok(Node::Like {
            column: index,
            negated: op == "nlike",
            pattern: pattern(path, pattern_value)?,
        }),
        (unknown, _) => Err(invalid(format!(
            "{path}: unknown operator `{unknown}`; the operators are {OPERATORS}"
        ))),
    }
}

/// `"name DESC"` or `["name DESC", "id"]`.
fn order(model: Columns, json: &Value) -> Result<Vec<(usize, Direction)>> {
    let keys: Vec<(String, &str)> = match json {
        Value::String(s) => s.split(',').map(|k| ("order".to_owned(), k)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok((format!("order[{i}]"), s.as_str())),
                other => Err(invalid(format!(
                    "order[{i}]: expected \"property [ASC|DESC]\", found {}",
                    kind(other)
                ))),
            })
            .collect::<Result<_>>()?,
        other => Err(invalid(format!(
            "order: expected \"property [ASC|DESC]\" or an array of them, found {}",
            kind(other)
        )))?,
    };
    keys.into_iter()
        .map(|(path, key)| {
            let mut words = key.split_whitespace();
            let name = words
                .next()
                .ok_or_else(|| invalid(format!("{path}: an empty sort key")))?;
            let (index, _) = column(model, &path, name)?;
            let direction = match words.next().map(str::to_ascii_uppercase).as_deref() {
                None | Some("ASC") => Direction::Asc,
                Some("DESC") => Direction::Desc,
                Some(other) => {
                    return Err(invalid(format!(
                        "{path}: `{other}` is not a direction; use ASC or DESC"
                    )));
                }
            };
            if let Some(extra) = words.next() {
                return Err(invalid(format!(
                    "{path}: unexpected `{extra}` after the direction"
                )));
            }
            Ok((index, direction))
        })
        .collect()
}

/// A count: a non-negative whole number (`10`, `1e3`), or one in a string (as query
/// strings send it), at most `i64::MAX`, the largest row count a database takes.
fn count(path: &str, json: &Value) -> Result<u64> {
    const MAX: u64 = i64::MAX.unsigned_abs();
    let number = match json {
        Value::Number(n) => n.as_u64().or_else(|| whole(n.as_f64()?)),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    match number {
        Some(n) if n <= MAX => Ok(n),
        Some(_) => Err(invalid(format!(
            "{path}: {json} is larger than {MAX}, the largest {path} a database takes"
        ))),
        None if json.as_f64().is_some_and(|f| f >= MAX as f64) => Err(invalid(format!(
            "{path}: {json} is larger than {MAX}, the largest {path} a database takes"
        ))),
        None => Err(invalid(format!(
            "{path}: expected a non-negative whole number, found {json}"
        ))),
    }
}

/// `f` as a `u64` when it is a whole number in range.
fn whole(f: f64) -> Option<u64> {
    (f >= 0.0 && f.fract() == 0.0 && f < u64::MAX as f64).then_some(f as u64)
}

/// `["a", "b"]` or `{"a": true, "b": false}`; the id is always kept.
fn fields(model: Columns, json: &Value) -> Result<Vec<usize>> {
    let def = model.def;
    let mut chosen = vec![def.id];
    let mut pick = |path: &str, name: &str, keep: bool| -> Result<()> {
        let (index, _) = column(model, path, name)?;
        if keep && !chosen.contains(&index) {
            chosen.push(index);
        }
        Ok(())
    };
    match json {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let Value::String(name) = item else {
                    return Err(invalid(format!(
                        "fields[{i}]: expected a property name, found {}",
                        kind(item)
                    )));
                };
                pick(&format!("fields[{i}]"), name, true)?;
            }
        }
        Value::Object(map) => {
            let any_true = map
                .values()
                .any(|v| v == &Value::Bool(true) || (model.strings && v == "true"));
            for (name, keep) in map {
                let keep = match keep {
                    Value::String(text) if model.strings && (text == "true" || text == "false") => {
                        &Value::Bool(text == "true")
                    }
                    other => other,
                };
                let Value::Bool(keep) = keep else {
                    return Err(invalid(format!(
                        "fields.{name}: expected true or false, found {}",
                        kind(keep)
                    )));
                };
                pick(&format!("fields.{name}"), name, *keep)?;
            }
            if !any_true {
                // Only exclusions: every column but those set to false.
                let excluded: Vec<&str> = map.keys().map(String::as_str).collect();
                chosen = (0..def.columns.len())
                    .filter(|&i| {
                        i == def.id
                            || !excluded.iter().any(|n| {
                                def.columns[i].json_name == *n || def.columns[i].field == *n
                            })
                    })
                    .collect();
            }
        }
        other => {
            return Err(invalid(format!(
                "fields: expected an array or an object, found {}",
                kind(other)
            )));
        }
    }
    chosen.sort_unstable();
    Ok(chosen)
}

impl<M: JsonModel> Filter<M> {
    /// Parses a LoopBack filter: `{"where": {...}, "order": "...", "limit": n, "skip": n,
    /// "fields": [...]}`. Malformed JSON, unknown keys, properties and operators, and
    /// values of the wrong type are [`Error::InvalidFilter`] naming the offending key and
    /// the valid choices.
    pub fn from_json(text: &str) -> Result<Self> {
        let json: Value = serde_json::from_str(text)
            .map_err(|e| invalid(format!("the filter is not valid JSON: {e}")))?;
        Self::from_json_value(&json)
    }

    /// [`from_json`](Self::from_json) from a parsed value.
    pub fn from_json_value(json: &Value) -> Result<Self> {
        Self::from_json_in(Self::columns(false), json)
    }

    /// A filter a query string spelled with brackets (`?filter[where][id]=1`), every value a
    /// string: LoopBack's filter with its values coerced to the properties' types.
    #[cfg(feature = "rest")]
    pub(crate) fn from_query_value(json: &Value) -> Result<Self> {
        Self::from_json_in(Self::columns(true), json)
    }

    /// A `where` a query string spelled with brackets (`?where[id]=1`).
    #[cfg(feature = "rest")]
    pub(crate) fn from_query_where_value(json: &Value) -> Result<Self> {
        Ok(Filter::new().with_node(condition(Self::columns(true), "where", json)?))
    }

    fn from_json_in(model: Columns, json: &Value) -> Result<Self> {
        let Value::Object(map) = json else {
            return Err(invalid(format!(
                "a filter is an object with the keys {FILTER_KEYS}, found {}",
                kind(json)
            )));
        };
        let mut filter = Filter::new();
        for (key, item) in map {
            match key.as_str() {
                "where" => filter = filter.with_node(condition(model, "where", item)?),
                "order" => filter.set_order(order(model, item)?),
                "limit" => filter = filter.limit(count("limit", item)?),
                "skip" | "offset" => filter = filter.skip(count(key, item)?),
                "fields" => filter.set_fields(fields(model, item)?),
                other => {
                    return Err(invalid(format!(
                        "unknown filter key `{other}`; the keys are {FILTER_KEYS}"
                    )));
                }
            }
        }
        Ok(filter)
    }

    /// Parses a LoopBack `where` object alone, as `?where=` and `count` take it.
    pub fn from_json_where(text: &str) -> Result<Self> {
        let json: Value = serde_json::from_str(text)
            .map_err(|e| invalid(format!("the condition is not valid JSON: {e}")))?;
        Self::from_json_where_value(&json)
    }

    /// [`from_json_where`](Self::from_json_where) from a parsed value.
    pub fn from_json_where_value(json: &Value) -> Result<Self> {
        Ok(Filter::new().with_node(condition(Self::columns(false), "where", json)?))
    }

    fn columns(strings: bool) -> Columns {
        Columns {
            def: M::def(),
            parsers: M::json_columns(),
            strings,
        }
    }
}
