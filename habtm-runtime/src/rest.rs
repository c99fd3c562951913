//! LoopBack 3's REST API for models and their relations, as an [axum] router.
//!
//! ```text
//! let app = Api::new(pool)
//!     .model::<Assembly>()
//!     .model::<Part>()
//!     .relation(Assembly::PARTS)
//!     .relation(Part::ASSEMBLIES)
//!     .router();
//! axum::serve(listener, app).await?;
//! ```
//!
//! Paths, verbs, status codes and the error body are LoopBack's: `GET /Assemblies?filter=`,
//! `POST /Assemblies`, `GET /Assemblies/{id}/parts`, `PUT /Assemblies/{id}/parts/rel/{fk}`,
//! and so on; a missing parent or an unlinked `fk` is a 404, a bad filter a 400, a body
//! that does not fit the model a 422 naming the property. The OpenAPI document of the
//! routes is served at `/explorer/openapi.json`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query};
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use sqlx::Pool;

use crate::backend::Backend;
use crate::def::{Model, ModelDef, Relation};
use crate::error::Error;
use crate::filter::{Filter, RelationRef};
use crate::ops::model;
use crate::ops::relation::Related;

/// The largest request body accepted, unless [`Api::body_limit`] says otherwise.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// An error as LoopBack sends it: `{"error": {"statusCode", "name", "message", "code"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    name: &'static str,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(
        status: StatusCode,
        name: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            name,
            code,
            message: message.into(),
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "Error", "MODEL_NOT_FOUND", message)
    }

    fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "Error", code, message)
    }

    fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ValidationError",
            "VALIDATION_FAILED",
            message,
        )
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::NotFound { model, id } => {
                ApiError::not_found(format!("Unknown \"{model}\" id {id}."))
            }
            Error::InvalidFilter { message } => ApiError::bad_request("INVALID_FILTER", message),
            // Concurrent work outlasted the retry budget: the same request can succeed later.
            Error::Conflict { operation, .. } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Error",
                "TRANSACTION_CONFLICT",
                format!("{operation} conflicted with concurrent requests; try again"),
            ),
            // The driver's text stays on the server: it can hold SQL.
            other => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Error",
                "INTERNAL_ERROR",
                match &other {
                    Error::Database { operation, .. } => format!("{operation} failed"),
                    _ => "Internal Server Error".to_owned(),
                },
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "statusCode": self.status.as_u16(),
            "name": self.name,
            "message": self.message,
            "code": self.code,
        }});
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            return (self.status, [(RETRY_AFTER, "1")], Json(body)).into_response();
        }
        (self.status, Json(body)).into_response()
    }
}

type Reply = Result<Response, ApiError>;

fn ok(value: Value) -> Reply {
    Ok((StatusCode::OK, Json(value)).into_response())
}

fn no_content() -> Reply {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// An id from the path, read as the model's id type: `42`, or a string key as it is.
fn parse_id<M: Model>(segment: &str) -> Result<M::Id, ApiError> {
    if segment.contains('\0') {
        return Err(nul("the id"));
    }
    serde_json::from_str::<M::Id>(segment)
        .or_else(|_| serde_json::from_value::<M::Id>(Value::String(segment.to_owned())))
        .map_err(|_| {
            ApiError::bad_request(
                "INVALID_ID",
                format!("`{segment}` is not an id of {}", M::def().name),
            )
        })
}

/// The 400 for a NUL character, which PostgreSQL cannot store in text and no LoopBack
/// client means to send.
fn nul(place: &str) -> ApiError {
    ApiError::bad_request(
        "INVALID_CHARACTER",
        format!("{place} holds a NUL character (\\u0000), which is not accepted"),
    )
}

/// Fails with [`nul`] when a string or key anywhere in `value` holds a NUL character.
fn refuse_nul(value: &Value, place: &str) -> Result<(), ApiError> {
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

/// A query parameter's JSON, checked for NUL characters; `None` when it is absent.
fn query_json(
    query: &HashMap<String, String>,
    name: &str,
    what: &str,
) -> Result<Option<Value>, ApiError> {
    let Some(text) = query.get(name) else {
        return Ok(None);
    };
    let value: Value = serde_json::from_str(text).map_err(|e| {
        ApiError::bad_request(
            "INVALID_FILTER",
            format!("the {what} is not valid JSON: {e}"),
        )
    })?;
    refuse_nul(&value, &format!("`{name}`"))?;
    Ok(Some(value))
}

/// `?filter=` as a [`Filter`], or every row.
fn filter_of<M: Model>(query: &HashMap<String, String>) -> Result<Filter<M>, ApiError> {
    match query_json(query, "filter", "filter")? {
        Some(json) => Ok(Filter::from_json_value(&json)?),
        None => Ok(Filter::new()),
    }
}

/// `?where=` as a [`Filter`], or every row.
fn where_of<M: Model>(query: &HashMap<String, String>) -> Result<Filter<M>, ApiError> {
    match query_json(query, "where", "condition")? {
        Some(json) => Ok(Filter::from_json_where_value(&json)?),
        None => Ok(Filter::new()),
    }
}

/// The body as JSON: an object, or (where `many`) an array of objects.
fn body_json(body: &Bytes) -> Result<Value, ApiError> {
    let value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("INVALID_JSON", format!("the body is not valid JSON: {e}"))
    })?;
    refuse_nul(&value, "the body")?;
    Ok(value)
}

/// A row as LoopBack JSON; a field whose `Serialize` fails is a 500 that names it.
fn json_of<M: Model>(row: &M) -> Result<Map<String, Value>, ApiError> {
    row.to_json().map_err(unserializable::<M>)
}

fn unserializable<M: Model>(message: String) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Error",
        "SERIALIZATION_FAILED",
        format!("{}: {message}", M::def().name),
    )
}

/// A key as JSON (`to_value` of the model's id type).
fn key_json<T: crate::__private::JsonColumn>(key: &T, name: &str) -> Result<Value, ApiError> {
    crate::__private::json::to_value(key, name).map_err(|message| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error",
            "SERIALIZATION_FAILED",
            message,
        )
    })
}

fn object(value: Value) -> Result<Map<String, Value>, ApiError> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::invalid("the body must be a JSON object")),
    }
}

/// The values of a new row from a body object; the id is left to the database when it
/// generates ids.
fn new_of<M: Model>(mut body: Map<String, Value>) -> Result<M::New, ApiError> {
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
fn patched<M: Model>(row: &M, patch: Map<String, Value>) -> Result<M::New, ApiError> {
    let def = M::def();
    let id = def.id_column();
    if patch.contains_key(id.json_name) || patch.contains_key(id.field) {
        let same = patch.get(id.json_name).or_else(|| patch.get(id.field))
            == Some(&key_json(row.id(), id.json_name)?);
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

/// Rows read with `fields`: only the properties that were read.
fn partials<M: Model>(rows: &[M::Partial]) -> Result<Value, ApiError> {
    rows.iter()
        .map(|row| {
            M::partial_to_json(row)
                .map(Value::Object)
                .map_err(unserializable::<M>)
        })
        .collect()
}

fn rows<M: Model>(rows: &[M]) -> Result<Value, ApiError> {
    rows.iter()
        .map(|row| json_of(row).map(Value::Object))
        .collect()
}

/// Builds the router of a set of models and relations.
pub struct Api<DB: Backend> {
    pool: Pool<DB>,
    router: Router,
    paths: Map<String, Value>,
    schemas: Map<String, Value>,
    body_limit: usize,
}

impl<DB: Backend> Api<DB> {
    /// No routes yet; every route will run on `pool`.
    pub fn new(pool: Pool<DB>) -> Self {
        Api {
            pool,
            router: Router::new(),
            paths: Map::new(),
            schemas: Map::new(),
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// Accepts request bodies up to `bytes` long (larger ones are a 413).
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    fn route(&mut self, path: &str, methods: MethodRouter, docs: &[(&str, &str, &str)]) {
        let router = std::mem::take(&mut self.router);
        self.router = router.route(path, methods);
        let entry = self
            .paths
            .entry(path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        for (method, summary, response) in docs {
            let parameters: Vec<Value> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
                .collect();
            let responses = match *response {
                "" => {
                    json!({"204": {"description": "No Content"}, "404": {"description": "Not Found"}})
                }
                schema => json!({
                    "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}},
                    "400": {"description": "Bad Request"},
                    "404": {"description": "Not Found"},
                    "422": {"description": "Validation Error"}
                }),
            };
            entry[*method] =
                json!({"summary": summary, "parameters": parameters, "responses": responses});
        }
    }

    fn schema(&mut self, def: &ModelDef) {
        let properties: Map<String, Value> = def
            .columns
            .iter()
            .map(|c| {
                let name = (c.sql_type)(DB::DIALECT).to_ascii_uppercase();
                let kind = if name.contains("INT") {
                    "integer"
                } else if ["FLOAT", "REAL", "DOUBLE", "NUMERIC", "DECIMAL"]
                    .iter()
                    .any(|k| name.contains(k))
                {
                    "number"
                } else if name.contains("BOOL") {
                    "boolean"
                } else {
                    "string"
                };
                (
                    c.json_name.to_owned(),
                    json!({"type": kind, "nullable": c.nullable}),
                )
            })
            .collect();
        let required: Vec<&str> = def
            .columns
            .iter()
            .filter(|c| !c.nullable)
            .map(|c| c.json_name)
            .collect();
        self.schemas.insert(
            def.name.to_owned(),
            json!({"type": "object", "properties": properties, "required": required}),
        );
        self.schemas.insert(format!("{}List", def.name), json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{}", def.name)}}));
        self.schemas.insert(
            "Count".to_owned(),
            json!({"type": "object", "properties": {"count": {"type": "integer"}}}),
        );
        self.schemas.insert(
            "Exists".to_owned(),
            json!({"type": "object", "properties": {"exists": {"type": "boolean"}}}),
        );
    }

    /// The routes of `M` itself, under its plural (`/Assemblies`): list (`?filter=`),
    /// create, count (`?where=`), find by id, exists, replace (PUT), update (PATCH) and
    /// delete.
    #[must_use]
    pub fn model<M: Model>(mut self) -> Self {
        let def = M::def();
        self.schema(def);
        let base = format!("/{}", def.plural);
        let pool = self.pool.clone();
        let name = def.name;
        let list_name = format!("{name}List");

        let p = pool.clone();
        let list = get(move |Query(q): Query<HashMap<String, String>>| {
            let p = p.clone();
            async move {
                let filter = filter_of::<M>(&q)?;
                if filter.has_fields() {
                    return ok(partials::<M>(&model::select::<M, _>(&p, &filter).await?)?);
                }
                ok(rows(&model::find::<M, _>(&p, &filter).await?)?)
            }
        });
        let p = pool.clone();
        let list = list.post(move |body: Bytes| {
            let p = p.clone();
            async move {
                match body_json(&body)? {
                    Value::Array(items) => {
                        let news = items
                            .into_iter()
                            .map(|i| object(i).and_then(new_of::<M>))
                            .collect::<Result<Vec<_>, _>>()?;
                        ok(rows(&model::create_many::<M, _>(&p, &news).await?)?)
                    }
                    single => {
                        let new = new_of::<M>(object(single)?)?;
                        ok(Value::Object(json_of(
                            &model::create::<M, _>(&p, new).await?,
                        )?))
                    }
                }
            }
        });
        self.route(
            &base,
            list,
            &[
                ("get", "Find all instances matching the filter", &list_name),
                ("post", "Create an instance (or an array of them)", name),
            ],
        );

        let p = pool.clone();
        let count = get(move |Query(q): Query<HashMap<String, String>>| {
            let p = p.clone();
            async move {
                let filter = where_of::<M>(&q)?;
                ok(json!({"count": model::count::<M, _>(&p, &filter).await?}))
            }
        });
        self.route(
            &format!("{base}/count"),
            count,
            &[("get", "Count instances matching the where", "Count")],
        );

        let p = pool.clone();
        let one = get(move |Path(id): Path<String>| {
            let p = p.clone();
            async move {
                let id = parse_id::<M>(&id)?;
                match model::find_by_id::<M, _>(&p, &id).await? {
                    Some(row) => ok(Value::Object(json_of(&row)?)),
                    None => Err(ApiError::not_found(format!(
                        "Unknown \"{name}\" id {id:?}."
                    ))),
                }
            }
        });
        let p = pool.clone();
        let one = one.put(move |Path(id): Path<String>, body: Bytes| {
            let p = p.clone();
            async move {
                let id = parse_id::<M>(&id)?;
                let mut body = object(body_json(&body)?)?;
                let key = M::def().id_column();
                body.remove(key.json_name);
                body.remove(key.field);
                if !M::def().id_generated {
                    body.insert(key.json_name.to_owned(), key_json(&id, key.json_name)?);
                }
                let new = new_of::<M>(body)?;
                match model::update::<M, _>(&p, &id, &new).await? {
                    Some(row) => ok(Value::Object(json_of(&row)?)),
                    None => Err(ApiError::not_found(format!(
                        "Unknown \"{name}\" id {id:?}."
                    ))),
                }
            }
        });
        let p = pool.clone();
        let one = one.patch(move |Path(id): Path<String>, body: Bytes| {
            let p = p.clone();
            async move {
                let id = parse_id::<M>(&id)?;
                let patch = object(body_json(&body)?)?;
                let Some(row) = model::find_by_id::<M, _>(&p, &id).await? else {
                    return Err(ApiError::not_found(format!(
                        "Unknown \"{name}\" id {id:?}."
                    )));
                };
                let new = patched(&row, patch)?;
                match model::update::<M, _>(&p, &id, &new).await? {
                    Some(row) => ok(Value::Object(json_of(&row)?)),
                    None => Err(ApiError::not_found(format!(
                        "Unknown \"{name}\" id {id:?}."
                    ))),
                }
            }
        });
        let p = pool.clone();
        let one = one.delete(move |Path(id): Path<String>| {
            let p = p.clone();
            async move {
                let id = parse_id::<M>(&id)?;
                let deleted = model::delete_by_id::<M, _>(&p, &id).await?;
                ok(json!({"count": u64::from(deleted)}))
            }
        });
        self.route(
            &format!("{base}/{{id}}"),
            one,
            &[
                ("get", "Find an instance by id", name),
                ("put", "Replace the attributes of an instance", name),
                ("patch", "Update some attributes of an instance", name),
                ("delete", "Delete an instance by id", "Count"),
            ],
        );

        let p = pool;
        let exists = get(move |Path(id): Path<String>| {
            let p = p.clone();
            async move {
                let id = parse_id::<M>(&id)?;
                ok(json!({"exists": model::exists::<M, _>(&p, &id).await?}))
            }
        });
        self.route(
            &format!("{base}/{{id}}/exists"),
            exists,
            &[("get", "Whether an instance exists", "Exists")],
        );
        self
    }

    /// The ten routes of a relation, under its owner (`/Assemblies/{id}/parts`): list,
    /// create, delete all, count, find/update/destroy by `fk`, and link/unlink/exists under
    /// `rel/{fk}`. For a relation with a join model (`through = "X"`), `PUT .../rel/{fk}`
    /// takes the join row's data as its body (its keys may be left out) and answers with the
    /// join row.
    #[must_use]
    pub fn relation<R>(self, relation: RelationRef<R>) -> Self
    where
        R: Relation,
        R::Link: LinkRoute<DB>,
    {
        let _ = relation;
        let link = <R::Link as LinkRoute<DB>>::link_route::<R>(self.pool.clone());
        self.relation_with_link::<R, _, _>(link)
    }

    fn relation_with_link<R, O, T>(mut self, put_link: MethodRouter) -> Self
    where
        R: Relation<Owner = O, Target = T>,
        O: Model,
        T: Model,
    {
        let rel = R::def();
        let (owner, target) = (O::def(), T::def());
        self.schema(target);
        let base = format!("/{}/{{id}}/{}", owner.plural, rel.name);
        let ctx = RelationContext::<DB, R>::new(self.pool.clone());
        let (t, list_name) = (target.name, format!("{}List", target.name));

        let c = ctx.clone();
        let list = get(
            move |Path(id): Path<String>, Query(q): Query<HashMap<String, String>>| {
                let c = c.clone();
                async move {
                    let related = c.owner(&id).await?;
                    let filter = filter_of::<T>(&q)?;
                    if filter.has_fields() {
                        return ok(partials::<T>(&related.select(&c.pool, filter).await?)?);
                    }
                    ok(rows(&related.find(&c.pool, filter).await?)?)
                }
            },
        );
        let c = ctx.clone();
        let list = list.post(move |Path(id): Path<String>, body: Bytes| {
            let c = c.clone();
            async move {
                let related = c.owner(&id).await?;
                match body_json(&body)? {
                    Value::Array(items) => {
                        let news = items
                            .into_iter()
                            .map(|i| object(i).and_then(new_of::<T>))
                            .collect::<Result<Vec<_>, _>>()?;
                        ok(rows(&related.create_many(&c.pool, &news).await?)?)
                    }
                    single => {
                        let new = new_of::<T>(object(single)?)?;
                        ok(Value::Object(json_of(
                            &related.create(&c.pool, new).await?,
                        )?))
                    }
                }
            }
        });
        let c = ctx.clone();
        let list = list.delete(move |Path(id): Path<String>| {
            let c = c.clone();
            async move {
                c.owner(&id).await?.clear(&c.pool).await?;
                no_content()
            }
        });
        self.route(
            &base,
            list,
            &[
                ("get", "Find the related instances", &list_name),
                ("post", "Create related instances", t),
                ("delete", "Unlink every related instance", ""),
            ],
        );

        let c = ctx.clone();
        let count = get(
            move |Path(id): Path<String>, Query(q): Query<HashMap<String, String>>| {
                let c = c.clone();
                async move {
                    let related = c.owner(&id).await?;
                    let filter = where_of::<T>(&q)?;
                    ok(json!({"count": related.count_where(&c.pool, filter).await?}))
                }
            },
        );
        self.route(
            &format!("{base}/count"),
            count,
            &[("get", "Count the related instances", "Count")],
        );

        let c = ctx.clone();
        let one = get(move |Path((id, fk)): Path<(String, String)>| {
            let c = c.clone();
            async move {
                let (related, fk) = c.pair(&id, &fk).await?;
                match related.find_by_id(&c.pool, fk.clone()).await? {
                    Some(row) => ok(Value::Object(json_of(&row)?)),
                    None => Err(c.unlinked(&fk)),
                }
            }
        });
        let c = ctx.clone();
        let one = one.put(move |Path((id, fk)): Path<(String, String)>, body: Bytes| {
            let c = c.clone();
            async move {
                let (related, fk) = c.pair(&id, &fk).await?;
                let patch = object(body_json(&body)?)?;
                let Some(row) = related.find_by_id(&c.pool, fk.clone()).await? else {
                    return Err(c.unlinked(&fk));
                };
                let new = patched(&row, patch)?;
                match related.update_by_id(&c.pool, fk.clone(), new).await? {
                    Some(row) => ok(Value::Object(json_of(&row)?)),
                    None => Err(c.unlinked(&fk)),
                }
            }
        });
        let c = ctx.clone();
        let one = one.delete(move |Path((id, fk)): Path<(String, String)>| {
            let c = c.clone();
            async move {
                let (related, fk) = c.pair(&id, &fk).await?;
                if related.destroy(&c.pool, fk.clone()).await? {
                    no_content()
                } else {
                    Err(c.unlinked(&fk))
                }
            }
        });
        self.route(
            &format!("{base}/{{fk}}"),
            one,
            &[
                ("get", "Find a related instance by id", t),
                ("put", "Update a related instance by id", t),
                ("delete", "Delete a related instance by id", ""),
            ],
        );

        let link = put_link;
        let c = ctx.clone();
        let link = link.delete(move |Path((id, fk)): Path<(String, String)>| {
            let c = c.clone();
            async move {
                let (related, fk) = c.pair(&id, &fk).await?;
                related.remove(&c.pool, fk).await?;
                no_content()
            }
        });
        let c = ctx;
        let link = link.head(move |Path((id, fk)): Path<(String, String)>| {
            let c = c.clone();
            async move {
                let (related, fk) = c.pair(&id, &fk).await?;
                if related.exists(&c.pool, fk.clone()).await? {
                    Ok(StatusCode::OK.into_response())
                } else {
                    Err(c.unlinked(&fk))
                }
            }
        });
        self.route(
            &format!("{base}/rel/{{fk}}"),
            link,
            &[
                ("put", "Link an instance", t),
                ("delete", "Unlink an instance", ""),
                ("head", "Whether an instance is linked", ""),
            ],
        );
        self
    }

    /// The router, with the OpenAPI document at `/explorer/openapi.json` and the body limit.
    pub fn router(mut self) -> Router {
        let document = json!({
            "openapi": "3.0.3",
            "info": {"title": "habtm", "version": env!("CARGO_PKG_VERSION")},
            "paths": self.paths,
            "components": {"schemas": self.schemas},
        });
        self.router = self.router.route(
            "/explorer/openapi.json",
            get(move || async move { Json(document) }),
        );
        self.router.layer(DefaultBodyLimit::max(self.body_limit))
    }
}

/// A key column's LoopBack name: `assembly_id` -> `assemblyId`.
fn json_key(column: &str) -> String {
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

/// How a relation's `PUT .../rel/{fk}` links, by its join model: a plain join table links
/// the pair and answers with its keys; a join model `X` takes the join row's data from the
/// body and answers with the join row.
#[doc(hidden)]
pub trait LinkRoute<DB: Backend>: Sized {
    /// The handler of `PUT .../rel/{fk}` for relation `R`.
    fn link_route<R: Relation<Link = Self>>(pool: Pool<DB>) -> MethodRouter;
}

impl<DB: Backend> LinkRoute<DB> for () {
    fn link_route<R: Relation<Link = Self>>(pool: Pool<DB>) -> MethodRouter {
        let ctx = RelationContext::<DB, R>::new(pool);
        axum::routing::put(move |Path((id, fk)): Path<(String, String)>| {
            let c = ctx.clone();
            async move {
                let (related, fk) = c.pair(&id, &fk).await?;
                related.add(&c.pool, fk.clone()).await?;
                let rel = R::def();
                let mut link = Map::new();
                link.insert(
                    json_key(rel.owner_key),
                    key_json(related.owner_id(), rel.owner_key)?,
                );
                link.insert(json_key(rel.target_key), key_json(&fk, rel.target_key)?);
                ok(Value::Object(link))
            }
        })
    }
}

impl<DB: Backend, X: Model> LinkRoute<DB> for X {
    fn link_route<R: Relation<Link = Self>>(pool: Pool<DB>) -> MethodRouter {
        let ctx = RelationContext::<DB, R>::new(pool);
        axum::routing::put(move |Path((id, fk)): Path<(String, String)>, body: Bytes| {
            let c = ctx.clone();
            async move {
                let (related, fk) = c.pair(&id, &fk).await?;
                let mut data = if body.is_empty() {
                    Map::new()
                } else {
                    object(body_json(&body)?)?
                };
                let (rel, join) = (R::def(), X::def());
                let key = |column: &str| {
                    join.columns
                        .iter()
                        .find(|c| c.name == column)
                        .map_or_else(|| json_key(column), |c| c.json_name.to_owned())
                };
                let (owner_key, target_key) = (key(rel.owner_key), key(rel.target_key));
                data.insert(owner_key, key_json(related.owner_id(), rel.owner_key)?);
                let fk_json = key_json(&fk, rel.target_key)?;
                data.insert(target_key.clone(), fk_json.clone());
                let new = new_of::<X>(data)?;
                related.add_with(&c.pool, fk.clone(), new).await?;
                let this_link = json!({"where": {target_key: fk_json}});
                let links = related
                    .find_with_links(&c.pool, Filter::from_json_value(&this_link)?)
                    .await?;
                match links.first() {
                    Some((_, link)) => ok(Value::Object(json_of(link)?)),
                    None => Err(c.unlinked(&fk)),
                }
            }
        })
    }
}

/// What the handlers of relation `R` share: the pool.
struct RelationContext<DB: Backend, R> {
    pool: Pool<DB>,
    relation: std::marker::PhantomData<fn() -> R>,
}

impl<DB, R, O, T> RelationContext<DB, R>
where
    DB: Backend,
    R: Relation<Owner = O, Target = T>,
    O: Model,
    T: Model,
{
    fn new(pool: Pool<DB>) -> Arc<Self> {
        Arc::new(RelationContext {
            pool,
            relation: std::marker::PhantomData,
        })
    }

    /// The relation of the owner with this id, which must exist.
    async fn owner(&self, id: &str) -> Result<Related<R>, ApiError> {
        let id = parse_id::<O>(id)?;
        if !model::exists::<O, _>(&self.pool, &id).await? {
            return Err(ApiError::not_found(format!(
                "Unknown \"{}\" id {id:?}.",
                O::def().name
            )));
        }
        Ok(Related::new(id))
    }

    async fn pair(&self, id: &str, fk: &str) -> Result<(Related<R>, T::Id), ApiError> {
        let fk = parse_id::<T>(fk)?;
        Ok((self.owner(id).await?, fk))
    }

    fn unlinked(&self, fk: &T::Id) -> ApiError {
        ApiError::not_found(format!(
            "No \"{}\" with id {fk:?} is linked by \"{}\".",
            T::def().name,
            R::def().name
        ))
    }
}
