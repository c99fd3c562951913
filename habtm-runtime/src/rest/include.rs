//! LoopBack's `include`: the related rows of the rows a filter found, under the relation's
//! name, one statement per relation and level whatever the number of parents (eager
//! loading). A relation name, a list of them, nested (`{"parts": "subparts"}`) or scoped
//! (`{"relation": "parts", "scope": {"where": ..., "limit": 2, "include": ...}}`, the scope
//! applying to each parent's rows on its own).

use std::collections::HashMap;

use crate::replicas::Replicated;
use std::marker::PhantomData;
use std::sync::Arc;

use axum::http::HeaderMap;
use serde_json::{Map, Value};

use crate::backend::Backend;
use crate::def::{JsonModel, Model, Relation};
use crate::filter::Filter;
use crate::ops::relation::load_ids;
use crate::retry::BoxFuture;

use super::access::{Asker, Shared, judge_include};
use super::body::{hides_id, json_of};
use super::error::ApiError;

/// How deep includes may nest (`{"a": {"b": {"c": ...}}}` is 3).
const MAX_DEPTH: usize = 5;

/// What a request asks to include, and how its values were spelled.
#[derive(Debug, Clone)]
pub(super) struct Include {
    pub(super) spec: Value,
    /// From a query string's brackets: every value a string, coerced as the filter's are.
    pub(super) strings: bool,
    /// The request, whose every included relation the access hook judges as a read.
    pub(super) asker: Asker,
}

/// Each parent's related rows, as JSON objects, in the parents' order.
type Related = Vec<Vec<Map<String, Value>>>;

impl Include {
    /// This include as the request at `path` with `headers` asks it, for the access hook.
    pub(super) fn asked_by(mut self, path: &str, headers: &HeaderMap) -> Self {
        self.asker = Asker {
            path: path.to_owned(),
            headers: headers.clone(),
        };
        self
    }
}

/// One relation that can be included, type-erased: it loads, for the ids of parents, each
/// parent's related rows as JSON objects.
trait Loader<DB: Backend>: Send + Sync {
    fn load<'a>(
        &'a self,
        pool: &'a Replicated<DB>,
        parents: &'a [Value],
        scope: Option<&'a Value>,
        asked: &'a Include,
        registry: &'a Registry<DB>,
        depth: usize,
    ) -> BoxFuture<'a, Result<Related, ApiError>>;
}

/// Relation `R`'s loader.
struct RelationLoader<R>(PhantomData<fn() -> R>);

impl<DB, R> Loader<DB> for RelationLoader<R>
where
    DB: Backend,
    R: Relation<Owner: JsonModel, Target: JsonModel>,
{
    fn load<'a>(
        &'a self,
        pool: &'a Replicated<DB>,
        parents: &'a [Value],
        scope: Option<&'a Value>,
        asked: &'a Include,
        registry: &'a Registry<DB>,
        depth: usize,
    ) -> BoxFuture<'a, Result<Related, ApiError>> {
        Box::pin(async move {
            let ids = parents
                .iter()
                .map(|id| R::Owner::id_from_json(id.clone()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ApiError::internal(format!("an id read back: {e}")))?;
            let (filter, nested) = scoped::<R::Target>(scope, asked.strings)?;
            let filter = registry.page(filter);
            let mask = filter.field_mask();
            // The rows are read whole; the scope's fields choose what their JSON shows.
            let filter = filter.without_fields();
            let loaded =
                load_ids::<R, R::Owner, R::Target, _>(pool, ids.iter().collect(), filter).await?;
            let target = R::Target::def();
            let mut out = Vec::with_capacity(loaded.len());
            for rows in loaded {
                let mut objects = Vec::with_capacity(rows.len());
                for row in &rows {
                    let mut object = json_of(row)?;
                    for (column, keep) in target.columns.iter().zip(&mask) {
                        if !keep {
                            object.remove(column.json_name);
                        }
                    }
                    objects.push(object);
                }
                out.push(objects);
            }
            if let Some(mut nested) = nested {
                nested.asker = asked.asker.clone();
                let mut flat: Vec<&mut Map<String, Value>> = out.iter_mut().flatten().collect();
                include_in(registry, pool, target.name, &mut flat, &nested, depth + 1).await?;
            }
            if scope.is_some_and(hides_id::<R::Target>) {
                // Read with the id (to include what it links), answered without it.
                let id = target.id_column().json_name;
                out.iter_mut().flatten().for_each(|object| {
                    object.remove(id);
                });
            }
            Ok(out)
        })
    }
}

/// A scope's filter for the related model, and what it includes in turn.
fn scoped<T: JsonModel>(
    scope: Option<&Value>,
    strings: bool,
) -> Result<(Filter<T>, Option<Include>), ApiError> {
    let Some(scope) = scope else {
        return Ok((Filter::new(), None));
    };
    let Value::Object(map) = scope else {
        return Err(bad(format!(
            "include: a scope is a filter object, found {scope}"
        )));
    };
    let mut map = map.clone();
    let nested = map.remove("include").map(|spec| Include {
        spec,
        strings,
        asker: Asker::default(),
    });
    let filter = if strings {
        Filter::from_query_value(&Value::Object(map))?
    } else {
        Filter::from_json_value(&Value::Object(map))?
    };
    Ok((filter, nested))
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request("INVALID_FILTER", message)
}

/// What a filter may ask of a router: the relations it serves, by owner model and relation
/// name, and the most rows a list answers.
pub(super) struct Registry<DB: Backend> {
    loaders: HashMap<(&'static str, &'static str), Arc<dyn Loader<DB>>>,
    /// Each model's id property (its JSON name), by model name.
    ids: HashMap<&'static str, &'static str>,
    /// The largest `limit` of a list (an included relation's: per parent); `None`, no bound.
    pub(super) max_page: Option<u64>,
    /// The access policy, which judges every included relation.
    pub(super) policy: Shared,
}

impl<DB: Backend> Default for Registry<DB> {
    fn default() -> Self {
        Registry {
            loaders: HashMap::new(),
            ids: HashMap::new(),
            max_page: None,
            policy: Shared::default(),
        }
    }
}

impl<DB: Backend> Registry<DB> {
    /// `filter` with its limit no larger than the page size.
    pub(super) fn page<M: JsonModel>(&self, filter: Filter<M>) -> Filter<M> {
        match self.max_page {
            Some(max) if filter.limit_value().is_none_or(|limit| limit > max) => filter.limit(max),
            _ => filter,
        }
    }

    /// Makes relation `R` includable from its owner.
    pub(super) fn add<R>(&mut self)
    where
        R: Relation<Owner: JsonModel, Target: JsonModel>,
    {
        let owner = R::Owner::def();
        self.ids.insert(owner.name, owner.id_column().json_name);
        let target = R::Target::def();
        self.ids.insert(target.name, target.id_column().json_name);
        self.loaders.insert(
            (owner.name, R::def().name),
            Arc::new(RelationLoader::<R>(PhantomData)),
        );
    }

    fn relations_of(&self, model: &str) -> String {
        let mut names: Vec<&str> = self
            .loaders
            .keys()
            .filter(|(owner, _)| *owner == model)
            .map(|(_, name)| *name)
            .collect();
        names.sort_unstable();
        if names.is_empty() {
            format!("{model} has no relation served here")
        } else {
            format!("the relations of {model} are {}", names.join(", "))
        }
    }
}

/// One relation to include: its name, its scope, and (for the nested form) what it includes.
struct Wanted {
    name: String,
    scope: Option<Value>,
}

/// The relations `spec` names: `"parts"`, `["parts", ...]`, `{"parts": <nested>}` or
/// `{"relation": "parts", "scope": {...}}`.
fn wanted(spec: &Value, out: &mut Vec<Wanted>) -> Result<(), ApiError> {
    match spec {
        Value::String(name) => out.push(Wanted {
            name: name.clone(),
            scope: None,
        }),
        Value::Array(items) => {
            for item in items {
                wanted(item, out)?;
            }
        }
        Value::Object(map) if map.contains_key("relation") => {
            let Some(Value::String(name)) = map.get("relation") else {
                return Err(bad("include: `relation` names a relation".to_owned()));
            };
            if let Some(key) = map.keys().find(|k| *k != "relation" && *k != "scope") {
                return Err(bad(format!(
                    "include: unknown key `{key}` beside `relation`; the keys are relation, scope"
                )));
            }
            out.push(Wanted {
                name: name.clone(),
                scope: map.get("scope").cloned(),
            });
        }
        Value::Object(map) => {
            for (name, nested) in map {
                let mut scope = Map::new();
                scope.insert("include".to_owned(), nested.clone());
                out.push(Wanted {
                    name: name.clone(),
                    scope: Some(Value::Object(scope)),
                });
            }
        }
        other => {
            return Err(bad(format!(
                "include: expected a relation name, a list, or an object, found {other}"
            )));
        }
    }
    Ok(())
}

/// Adds to each of `rows` (of `model`) the relations `include` names, one statement per
/// relation for all the rows.
pub(super) async fn include_in<DB: Backend>(
    registry: &Registry<DB>,
    pool: &Replicated<DB>,
    model: &'static str,
    rows: &mut [&mut Map<String, Value>],
    include: &Include,
    depth: usize,
) -> Result<(), ApiError> {
    if depth > MAX_DEPTH {
        return Err(bad(format!(
            "include: nested more than {MAX_DEPTH} levels deep"
        )));
    }
    let mut relations = Vec::new();
    wanted(&include.spec, &mut relations)?;
    let id_key = registry.ids.get(model).copied().unwrap_or("id");
    for relation in relations {
        let Some(((_, name), loader)) = registry
            .loaders
            .iter()
            .find(|((owner, name), _)| *owner == model && *name == relation.name)
        else {
            return Err(bad(format!(
                "include: `{}` is not a relation of {model}; {}",
                relation.name,
                registry.relations_of(model)
            )));
        };
        judge_include(&registry.policy, model, name, &include.asker).await?;
        let parents: Vec<Value> = rows
            .iter()
            .map(|row| row.get(id_key).cloned().unwrap_or(Value::Null))
            .collect();
        let loaded = loader
            .load(
                pool,
                &parents,
                relation.scope.as_ref(),
                include,
                registry,
                depth,
            )
            .await?;
        for (row, related) in rows.iter_mut().zip(loaded) {
            row.insert(
                relation.name.clone(),
                Value::Array(related.into_iter().map(Value::Object).collect()),
            );
        }
    }
    Ok(())
}

/// `rows` (a JSON array of `M`'s objects) with `include`'s relations added to each.
pub(super) async fn with_includes<DB: Backend, M: JsonModel>(
    registry: &Registry<DB>,
    pool: &Replicated<DB>,
    mut rows: Value,
    include: Option<&Include>,
) -> Result<Value, ApiError> {
    let Some(include) = include else {
        return Ok(rows);
    };
    if let Value::Array(items) = &mut rows {
        let mut objects: Vec<&mut Map<String, Value>> =
            items.iter_mut().filter_map(Value::as_object_mut).collect();
        include_in(registry, pool, M::def().name, &mut objects, include, 1).await?;
    }
    Ok(rows)
}
