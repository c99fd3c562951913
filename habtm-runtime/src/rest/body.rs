//! Reading requests (ids, filters, bodies) and writing rows as LoopBack's JSON.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde_json::{Map, Value};

use crate::def::JsonModel;
use crate::filter::Filter;
use crate::ops::model::ColumnValues;

use super::access::Asker;
use super::error::ApiError;
use super::include::Include;

/// An id from the path, read as the model's id type: `42`, or a string key as it is.
pub(super) fn parse_id<M: JsonModel>(segment: &str) -> Result<M::Id, ApiError> {
    if segment.contains('\0') {
        return Err(nul("the id"));
    }
    serde_json::from_str::<Value>(segment)
        .map_err(|e| e.to_string())
        .and_then(M::id_from_json)
        .or_else(|_| M::id_from_json(Value::String(segment.to_owned())))
        .map_err(|_| {
            ApiError::bad_request(
                "INVALID_ID",
                format!("`{segment}` is not an id of {}", M::def().name),
            )
        })
}

/// The 400 for a NUL character, which PostgreSQL cannot store in text and no LoopBack
/// client means to send.
pub(super) fn nul(place: &str) -> ApiError {
    ApiError::bad_request(
        "INVALID_CHARACTER",
        format!("{place} holds a NUL character (\\u0000), which is not accepted"),
    )
}

/// Fails with [`nul`] when a string or key anywhere in `value` holds a NUL character.
pub(super) fn refuse_nul(value: &Value, place: &str) -> Result<(), ApiError> {
    let has_nul = |s: &str| s.contains('\0');
    let found = match value {
        Value::String(s) => has_nul(s),
        Value::Array(items) => return items.iter().try_for_each(|v| refuse_nul(v, place)),
        Value::Object(map) => {
            for (key, item) in map {
                if has_nul(key) {
                    return Err(nul(place));
                }
                refuse_nul(item, place)?;
            }
            false
        }
        _ => false,
    };
    if found { Err(nul(place)) } else { Ok(()) }
}

/// A query string's parameters in order, repeated names kept.
pub(super) type QueryPairs = Vec<(String, String)>;

/// The deepest bracket key accepted (`filter[where][and][0][id][inq][0]` is 6 deep).
const MAX_DEPTH: usize = 12;

/// How a query string spelled a parameter: as JSON (`?filter={"limit":1}`), or with
/// brackets (`?filter[limit]=1`), every value a string.
enum Spelled {
    Json(Value),
    Brackets(Value),
}

/// Query parameter `name`, as JSON or with brackets, checked for NUL characters; `None` when
/// it is absent.
fn query_param(query: &QueryPairs, name: &str, what: &str) -> Result<Option<Spelled>, ApiError> {
    let bad = |message: String| ApiError::bad_request("INVALID_FILTER", message);
    let mut json = None;
    let mut tree = Tree::default();
    let mut bracketed = false;
    for (key, text) in query {
        if key == name {
            if json.is_some() {
                return Err(bad(format!("`{name}` is given twice")));
            }
            let value: Value = serde_json::from_str(text)
                .map_err(|e| bad(format!("the {what} is not valid JSON: {e}")))?;
            json = Some(value);
        } else if let Some(rest) = key.strip_prefix(name).filter(|r| r.starts_with('[')) {
            let path = brackets(rest).ok_or_else(|| {
                bad(format!(
                    "`{key}`: expected `{name}[key][key]...`, each key in brackets"
                ))
            })?;
            if path.len() > MAX_DEPTH {
                return Err(bad(format!(
                    "`{key}` is nested {} deep; at most {MAX_DEPTH} levels are accepted",
                    path.len()
                )));
            }
            tree.insert(&path, text.clone());
            bracketed = true;
        }
    }
    let spelled = match (json, bracketed) {
        (Some(_), true) => {
            return Err(bad(format!(
                "`{name}` is given both as JSON and with brackets; use one"
            )));
        }
        (Some(json), false) => Spelled::Json(json),
        (None, true) => Spelled::Brackets(tree.into_json(name).map_err(bad)?),
        (None, false) => return Ok(None),
    };
    let (Spelled::Json(value) | Spelled::Brackets(value)) = &spelled;
    refuse_nul(value, &format!("`{name}`"))?;
    Ok(Some(spelled))
}

/// The keys of `[a][b][]` (an empty one appends); `None` when it is not only bracketed keys.
fn brackets(mut rest: &str) -> Option<Vec<&str>> {
    let mut keys = Vec::new();
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let end = inner.find(']')?;
        keys.push(&inner[..end]);
        rest = &inner[end + 1..];
    }
    Some(keys)
}

/// The values of bracket keys, as `qs` (LoopBack's query parser) reads them: a key given
/// twice is an array, numbered keys (`[0]`, `[1]`, or empty `[]`) are an array in their order.
#[derive(Default)]
struct Tree {
    values: Vec<String>,
    children: Vec<(String, Tree)>,
}

impl Tree {
    fn insert(&mut self, path: &[&str], value: String) {
        let Some((first, rest)) = path.split_first() else {
            self.values.push(value);
            return;
        };
        let index = match self.children.iter().position(|(key, _)| key == first) {
            Some(i) if !first.is_empty() => i,
            _ => {
                self.children.push(((*first).to_owned(), Tree::default()));
                self.children.len() - 1
            }
        };
        self.children[index].1.insert(rest, value);
    }

    fn into_json(self, path: &str) -> Result<Value, String> {
        if !self.values.is_empty() && !self.children.is_empty() {
            return Err(format!(
                "`{path}` is given both as a value and with keys under it"
            ));
        }
        if self.children.is_empty() {
            let mut values = self.values;
            return Ok(if values.len() == 1 {
                Value::String(values.remove(0))
            } else {
                Value::Array(values.into_iter().map(Value::String).collect())
            });
        }
        let numbered = self
            .children
            .iter()
            .all(|(key, _)| key.is_empty() || key.parse::<usize>().is_ok());
        if numbered {
            let mut items: Vec<(usize, usize, Tree)> = self
                .children
                .into_iter()
                .enumerate()
                .map(|(seen, (key, tree))| (key.parse().unwrap_or(usize::MAX), seen, tree))
                .collect();
            items.sort_by_key(|&(index, seen, _)| (index, seen));
            return items
                .into_iter()
                .enumerate()
                .map(|(i, (_, _, tree))| tree.into_json(&format!("{path}[{i}]")))
                .collect::<Result<_, _>>()
                .map(Value::Array);
        }
        let mut map = Map::new();
        for (key, tree) in self.children {
            let value = tree.into_json(&format!("{path}[{key}]"))?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// What a request's `?filter=` asks.
pub(super) struct Asked<M: JsonModel> {
    pub(super) filter: Filter<M>,
    pub(super) include: Option<Include>,
    /// `fields` leaves the id out: the rows are read with it (to include their relations)
    /// and answered without it, as LoopBack answers them.
    pub(super) hide_id: bool,
}

/// `rows` (a JSON array or object of `M`) as answered: without the id where `fields` left
/// it out (`hide_id`).
pub(super) fn shown<M: JsonModel>(mut rows: Value, hide_id: bool) -> Value {
    if hide_id {
        let id = M::def().id_column().json_name;
        match &mut rows {
            Value::Array(items) => items.iter_mut().for_each(|row| {
                if let Value::Object(map) = row {
                    map.remove(id);
                }
            }),
            Value::Object(map) => {
                map.remove(id);
            }
            _ => {}
        }
    }
    rows
}

/// Whether a filter's `fields` leave the id out: a list without it, an object that keeps
/// others but not it, or one that drops it.
pub(super) fn hides_id<M: JsonModel>(filter: &Value) -> bool {
    let id = M::def().id_column();
    let is_id = |name: &str| name == id.json_name || name == id.field;
    let yes = |v: &Value| v == &Value::Bool(true) || v == "true";
    let no = |v: &Value| v == &Value::Bool(false) || v == "false";
    match filter.get("fields") {
        Some(Value::Array(names)) => !names.iter().any(|n| n.as_str().is_some_and(is_id)),
        Some(Value::Object(map)) => {
            let id_value = map.iter().find(|(k, _)| is_id(k)).map(|(_, v)| v);
            (map.values().any(yes) && !id_value.is_some_and(yes)) || id_value.is_some_and(no)
        }
        _ => false,
    }
}

/// A request's `?filter=` as a handler takes it: read, checked, and its `include` judged as
/// the request (its path and headers) asks it.
pub(super) struct Asking<M: JsonModel>(pub(super) Asked<M>);

impl<M: JsonModel, S: Send + Sync> FromRequestParts<S> for Asking<M> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(query) = Query::<QueryPairs>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request("INVALID_FILTER", e.body_text()))?;
        let mut asked = filter_of::<M>(&query)?;
        asked.include = asked
            .include
            .map(|include| include.asked_by(parts.uri.path(), &parts.headers));
        Ok(Asking(asked))
    }
}

/// `?filter=` (JSON, or with brackets) as a [`Filter`], or every row; and what it includes.
fn filter_of<M: JsonModel>(query: &QueryPairs) -> Result<Asked<M>, ApiError> {
    let (filter, include, hide_id) = parts_of::<M>(query)?;
    Ok(Asked {
        filter,
        include,
        hide_id,
    })
}

fn parts_of<M: JsonModel>(
    query: &QueryPairs,
) -> Result<(Filter<M>, Option<Include>, bool), ApiError> {
    let take_include = |json: &mut Value, strings: bool| {
        json.as_object_mut()
            .and_then(|map| map.remove("include"))
            .map(|spec| Include {
                spec,
                strings,
                asker: Asker::default(),
            })
    };
    match query_param(query, "filter", "filter")? {
        Some(Spelled::Json(mut json)) => {
            let include = take_include(&mut json, false);
            let hide_id = hides_id::<M>(&json);
            Ok((Filter::from_json_value(&json)?, include, hide_id))
        }
        Some(Spelled::Brackets(mut json)) => {
            let include = take_include(&mut json, true);
            let hide_id = hides_id::<M>(&json);
            Ok((Filter::from_query_value(&json)?, include, hide_id))
        }
        None => Ok((Filter::new(), None, false)),
    }
}

/// `?where=` (JSON, or with brackets) as a [`Filter`], or every row.
pub(super) fn where_of<M: JsonModel>(query: &QueryPairs) -> Result<Filter<M>, ApiError> {
    match query_param(query, "where", "condition")? {
        Some(Spelled::Json(json)) => Ok(Filter::from_json_where_value(&json)?),
        Some(Spelled::Brackets(json)) => Ok(Filter::from_query_where_value(&json)?),
        None => Ok(Filter::new()),
    }
}

/// The body as JSON: an object, or (where `many`) an array of objects.
pub(super) fn body_json(body: &Bytes) -> Result<Value, ApiError> {
    let value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("INVALID_JSON", format!("the body is not valid JSON: {e}"))
    })?;
    refuse_nul(&value, "the body")?;
    Ok(value)
}

/// A row as LoopBack JSON; a field whose `Serialize` fails is a 500 that names it.
pub(super) fn json_of<M: JsonModel>(row: &M) -> Result<Map<String, Value>, ApiError> {
    row.to_json().map_err(unserializable::<M>)
}

pub(super) fn unserializable<M: JsonModel>(message: String) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Error",
        "SERIALIZATION_FAILED",
        format!("{}: {message}", M::def().name),
    )
}

/// An id of `M` as JSON, as property `name`.
pub(super) fn key_json<M: JsonModel>(key: &M::Id, name: &str) -> Result<Value, ApiError> {
    M::id_to_json(key).map_err(|message| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error",
            "SERIALIZATION_FAILED",
            format!("`{name}` cannot be written as JSON: {message}"),
        )
    })
}

pub(super) fn object(value: Value) -> Result<Map<String, Value>, ApiError> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::invalid("the body must be a JSON object")),
    }
}

/// The values of a new row from a body object; the id is left to the database when it
/// generates ids.
pub(super) fn new_of<M: JsonModel>(mut body: Map<String, Value>) -> Result<M::New, ApiError> {
    let def = M::def();
    if def.id_generated {
        let id = def.id_column();
        body.remove(id.json_name);
        body.remove(id.field);
    }
    M::new_from_json(body).map_err(|message| ApiError::invalid(format!("{}: {message}", def.name)))
}

/// A stored row with `patch` laid over it, as the values of a row (LoopBack's partial
/// update); the id cannot change.
pub(super) fn patched<M: JsonModel>(
    row: &M,
    patch: Map<String, Value>,
) -> Result<M::New, ApiError> {
    let def = M::def();
    let id = def.id_column();
    if patch.contains_key(id.json_name) || patch.contains_key(id.field) {
        let same = patch.get(id.json_name).or_else(|| patch.get(id.field))
            == Some(&key_json::<M>(row.id(), id.json_name)?);
        if !same {
            return Err(ApiError::invalid(format!(
                "{}: `{}` cannot change",
                def.name, id.json_name
            )));
        }
    }
    let mut merged = json_of(row)?;
    for (key, value) in patch {
        let key = def
            .columns
            .iter()
            .find(|c| c.field == key)
            .map_or(key, |c| c.json_name.to_owned());
        merged.insert(key, value);
    }
    if def.id_generated {
        merged.remove(id.json_name);
    }
    M::new_from_json(merged)
        .map_err(|message| ApiError::invalid(format!("{}: {message}", def.name)))
}

/// A patch's properties as column values (by index), each read as its column's type: what
/// `updateAll` sets. The id cannot be set; an unknown property or a value that does not fit
/// is a 422 naming it.
pub(super) fn column_values<M: JsonModel>(
    patch: &Map<String, Value>,
) -> Result<ColumnValues, ApiError> {
    let def = M::def();
    let parsers = M::json_columns();
    patch
        .iter()
        .map(|(key, value)| {
            let index = def
                .columns
                .iter()
                .position(|c| c.json_name == key || c.field == key)
                .ok_or_else(|| {
                    let names: Vec<&str> = def.columns.iter().map(|c| c.json_name).collect();
                    ApiError::invalid(format!(
                        "{}: `{key}` is not a property; the properties are {}",
                        def.name,
                        names.join(", ")
                    ))
                })?;
            if index == def.id {
                return Err(ApiError::invalid(format!(
                    "{}: `{key}` cannot change",
                    def.name
                )));
            }
            let parsed = (parsers[index].parse)(value)
                .map_err(|e| ApiError::invalid(format!("{}: `{key}`: {e}", def.name)))?;
            Ok((index, parsed))
        })
        .collect()
}

/// Rows read with `fields`: only the properties that were read.
pub(super) fn partials<M: JsonModel>(rows: &[M::Partial]) -> Result<Value, ApiError> {
    rows.iter()
        .map(|row| {
            M::partial_to_json(row)
                .map(Value::Object)
                .map_err(unserializable::<M>)
        })
        .collect()
}

pub(super) fn rows<M: JsonModel>(rows: &[M]) -> Result<Value, ApiError> {
    rows.iter()
        .map(|row| json_of(row).map(Value::Object))
        .collect()
}

/// A key column's LoopBack name: `assembly_id` -> `assemblyId`.
pub(super) fn json_key(column: &str) -> String {
    let mut out = String::with_capacity(column.len());
    let mut upper = false;
    for c in column.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
