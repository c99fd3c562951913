//! The routes of a model itself, under its plural (`/Assemblies`), as named handlers whose
//! state is the pool.

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::middleware::from_fn;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::backend::Backend;
use crate::def::{JsonModel, ModelDef};
use crate::filter::Filter;
use crate::ops::model;

use super::access::Guard;
use super::body::{
    Asked, Asking, QueryPairs, body_json, column_values, json_of, key_json, new_of, object,
    parse_id, partials, patched, rows, shown, where_of,
};
use super::error::{ApiError, Reply, ok};
use super::include::{Include, with_includes};
use super::openapi::{Answer, Body, Document, Operation, Query as In};
use super::{Includes, Pools, Reads, Writes};
use crate::replicas::Replicated;

type Params = Query<QueryPairs>;

/// Adds the routes of `M` to `router` and documents them: LoopBack's find (`?filter=`),
/// create, replaceOrCreate (PUT `/`, POST `/replaceOrCreate`), patchOrCreate (PATCH `/`),
/// upsertWithWhere, findOne, count (`?where=`), updateAll (POST `/update?where=`), findById
/// (`?filter=` with `fields`), exists (and HEAD), replaceById (PUT, POST `/{id}/replace`),
/// patchAttributes (PATCH) and deleteById.
pub(super) fn routes<DB: Backend, M: JsonModel>(
    router: Router<Pools<DB>>,
    document: &mut Document,
    guard: Guard,
) -> Router<Pools<DB>> {
    let def = M::def();
    document.schema::<DB>(def);
    let base = format!("/{}", def.plural);
    document_routes::<DB>(document, def, &base);
    let own = Router::new()
        .route(
            &base,
            get(find::<DB, M>)
                .post(create::<DB, M>)
                .put(replace_or_create::<DB, M>)
                .patch(patch_or_create::<DB, M>),
        )
        .route(
            &format!("{base}/replaceOrCreate"),
            post(replace_or_create::<DB, M>),
        )
        .route(
            &format!("{base}/upsertWithWhere"),
            post(upsert_with_where::<DB, M>),
        )
        .route(&format!("{base}/findOne"), get(find_one::<DB, M>))
        .route(&format!("{base}/update"), post(update_all::<DB, M>))
        .route(&format!("{base}/{{id}}/replace"), post(replace::<DB, M>))
        .route(&format!("{base}/count"), get(count::<DB, M>))
        .route(
            &format!("{base}/{{id}}"),
            get(find_by_id::<DB, M>)
                .put(replace::<DB, M>)
                .patch(update::<DB, M>)
                .delete(delete::<DB, M>),
        )
        .route(&format!("{base}/{{id}}/exists"), get(exists::<DB, M>));
    router.merge(own.route_layer(from_fn(move |request, next| {
        guard.clone().check(request, next)
    })))
}

/// Documents the routes of model `def` under `base`.
fn document_routes<DB: Backend>(document: &mut Document, def: &ModelDef, base: &str) {
    let (name, list) = (def.name, format!("{}List", def.name));
    let params = [("id", Document::id_schema::<DB>(def))];
    let op = |method, lb_name, summary, query, body, answer| Operation {
        method,
        name: lb_name,
        summary,
        query,
        body,
        answer,
    };
    let row = Answer::Json(name);
    document.route(
        name,
        base,
        &params,
        &[
            op(
                "get",
                "find",
                "Find all instances matching the filter",
                In::Filter,
                Body::None,
                Answer::Json(&list),
            ),
            op(
                "post",
                "create",
                "Create an instance (or an array of them, all or none)",
                In::None,
                Body::Rows(name),
                row,
            ),
            op(
                "put",
                "replaceOrCreate",
                "Replace the instance with the body's id, or create it",
                In::None,
                Body::Row(name),
                row,
            ),
            op(
                "patch",
                "patchOrCreate",
                "Patch the instance with the body's id, or create it",
                In::None,
                Body::Patch(name),
                row,
            ),
        ],
    );
    let more: [(&str, Operation<'_>); 5] = [
        (
            "replaceOrCreate",
            op(
                "post",
                "replaceOrCreate__post",
                "Replace the instance with the body's id, or create it",
                In::None,
                Body::Row(name),
                row,
            ),
        ),
        (
            "upsertWithWhere",
            op(
                "post",
                "upsertWithWhere",
                "Patch the one instance matching the where, or create it",
                In::Where,
                Body::Patch(name),
                row,
            ),
        ),
        (
            "findOne",
            op(
                "get",
                "findOne",
                "Find the first instance matching the filter",
                In::Filter,
                Body::None,
                row,
            ),
        ),
        (
            "count",
            op(
                "get",
                "count",
                "Count the instances matching the where",
                In::Where,
                Body::None,
                Answer::Json("Count"),
            ),
        ),
        (
            "update",
            op(
                "post",
                "updateAll",
                "Patch every instance matching the where",
                In::Where,
                Body::Patch(name),
                Answer::Json("Count"),
            ),
        ),
    ];
    for (path, operation) in more {
        document.route(name, &format!("{base}/{path}"), &params, &[operation]);
    }
    document.route(
        name,
        &format!("{base}/{{id}}"),
        &params,
        &[
            op(
                "get",
                "findById",
                "Find an instance by id (the filter's fields and include)",
                In::Filter,
                Body::None,
                row,
            ),
            op(
                "head",
                "exists__head",
                "Whether an instance exists (200 or 404)",
                In::None,
                Body::None,
                Answer::Empty,
            ),
            op(
                "put",
                "replaceById",
                "Replace the attributes of an instance",
                In::None,
                Body::Row(name),
                row,
            ),
            op(
                "patch",
                "prototype.patchAttributes",
                "Patch some attributes of an instance",
                In::None,
                Body::Patch(name),
                row,
            ),
            op(
                "delete",
                "deleteById",
                "Delete an instance by id",
                In::None,
                Body::None,
                Answer::Json("Count"),
            ),
        ],
    );
    document.route(
        name,
        &format!("{base}/{{id}}/replace"),
        &params,
        &[op(
            "post",
            "replaceById__post",
            "Replace the attributes of an instance",
            In::None,
            Body::Row(name),
            row,
        )],
    );
    document.route(
        name,
        &format!("{base}/{{id}}/exists"),
        &params,
        &[op(
            "get",
            "exists",
            "Whether an instance exists",
            In::None,
            Body::None,
            Answer::Json("Exists"),
        )],
    );
}

/// The 404 of a missing row.
fn unknown<M: JsonModel>(id: &M::Id) -> ApiError {
    ApiError::unknown_id(M::def().name, id)
}

/// The rows `filter` finds (only its `fields` if it names any) as a JSON array, with what
/// `include` names added to each.
async fn found<DB: Backend, M: JsonModel>(
    pool: &Replicated<DB>,
    includes: &Includes<DB>,
    filter: &Filter<M>,
    include: Option<&Include>,
    hide_id: bool,
) -> Result<Value, ApiError> {
    let found = if filter.has_fields() {
        partials::<M>(&model::select::<M, _, _>(pool, filter).await?)?
    } else {
        rows(&model::find::<M, _>(pool, filter).await?)?
    };
    let found = with_includes::<DB, M>(includes, pool, found, include).await?;
    Ok(shown::<M>(found, hide_id))
}

/// The first of a JSON array, if any.
fn first(found: Value) -> Option<Value> {
    match found {
        Value::Array(mut rows) if !rows.is_empty() => Some(rows.remove(0)),
        _ => None,
    }
}

/// `GET /Assemblies?filter=`: the rows matching the filter, only its `fields` if it names any,
/// with what it includes.
async fn find<DB: Backend, M: JsonModel>(
    State(Reads(pool)): State<Reads<DB>>,
    Extension(includes): Extension<Includes<DB>>,
    Asking(Asked {
        filter,
        include,
        hide_id,
    }): Asking<M>,
) -> Reply {
    let filter = includes.page(filter);
    ok(found::<DB, M>(&pool, &includes, &filter, include.as_ref(), hide_id).await?)
}

/// `POST /Assemblies`: creates the row of an object, or the rows of an array (all or none).
async fn create<DB: Backend, M: JsonModel>(
    State(Writes(pool)): State<Writes<DB>>,
    body: Bytes,
) -> Reply {
    match body_json(&body)? {
        Value::Array(items) => {
            let news = items
                .into_iter()
                .map(|i| object(i).and_then(new_of::<M>))
                .collect::<Result<Vec<_>, _>>()?;
            ok(rows(&model::create_many::<M, _>(&pool, &news).await?)?)
        }
        single => {
            let new = new_of::<M>(object(single)?)?;
            ok(Value::Object(json_of(
                &model::create::<M, _>(&pool, new).await?,
            )?))
        }
    }
}

/// `GET /Assemblies/count?where=`: `{"count": n}`.
async fn count<DB: Backend, M: JsonModel>(
    State(Reads(pool)): State<Reads<DB>>,
    Query(q): Params,
) -> Reply {
    let filter = where_of::<M>(&q)?;
    ok(json!({"count": model::count::<M, _>(&pool, &filter).await?}))
}

/// `GET /Assemblies/{id}?filter=`: the row, only the filter's `fields` if it names any, with
/// what it includes.
async fn find_by_id<DB: Backend, M: JsonModel>(
    State(Reads(pool)): State<Reads<DB>>,
    Extension(includes): Extension<Includes<DB>>,
    Path(id): Path<String>,
    Asking(Asked {
        filter,
        include,
        hide_id,
    }): Asking<M>,
) -> Reply {
    let id = parse_id::<M>(&id)?;
    let filter = filter.with_id(&id);
    match first(found::<DB, M>(&pool, &includes, &filter, include.as_ref(), hide_id).await?) {
        Some(row) => ok(row),
        None => Err(unknown::<M>(&id)),
    }
}

/// `GET /Assemblies/findOne?filter=`: the first row matching, or a 404.
async fn find_one<DB: Backend, M: JsonModel>(
    State(Reads(pool)): State<Reads<DB>>,
    Extension(includes): Extension<Includes<DB>>,
    Asking(Asked {
        filter,
        include,
        hide_id,
    }): Asking<M>,
) -> Reply {
    let filter = filter.limit(1);
    match first(found::<DB, M>(&pool, &includes, &filter, include.as_ref(), hide_id).await?) {
        Some(row) => ok(row),
        // LoopBack's words when nothing matches.
        None => Err(ApiError::unknown_id(M::def().name, &"undefined")),
    }
}

/// The id a body names, if it names one that parses.
fn body_id<M: JsonModel>(body: &serde_json::Map<String, Value>) -> Result<Option<M::Id>, ApiError> {
    let key = M::def().id_column();
    match body.get(key.json_name).or_else(|| body.get(key.field)) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => M::id_from_json(value.clone())
            .map(Some)
            .map_err(|e| ApiError::invalid(format!("{}: `{}`: {e}", M::def().name, key.json_name))),
    }
}

/// Whether `error` is a unique key's: a row with that id was created meanwhile.
fn is_unique_violation(error: &crate::error::Error) -> bool {
    matches!(
        error,
        crate::error::Error::Database { source: sqlx::Error::Database(db), .. }
            if db.is_unique_violation()
    )
}

/// Runs `write` (the update of an upsert, `None` when there is no row to update) and creates
/// the row when it answers `None`. When another request created a row with that id in
/// between (a unique violation), the update runs once more, and finds it.
async fn upsert<DB, M, W, F>(pool: &Replicated<DB>, body: &Map<String, Value>, write: W) -> Reply
where
    DB: Backend,
    M: JsonModel,
    W: Fn() -> F,
    F: std::future::Future<Output = Result<Option<M>, ApiError>>,
{
    if let Some(row) = write().await? {
        return ok(Value::Object(json_of(&row)?));
    }
    let new = new_of::<M>(body.clone())?;
    match model::create::<M, _>(pool, new).await {
        Ok(row) => ok(Value::Object(json_of(&row)?)),
        Err(error) if is_unique_violation(&error) => match write().await? {
            Some(row) => ok(Value::Object(json_of(&row)?)),
            None => Err(error.into()),
        },
        Err(error) => Err(error.into()),
    }
}

/// `PUT /Assemblies`, `POST /Assemblies/replaceOrCreate`: replaces the row whose id the body
/// names, or creates one (with the body's id, where ids are not generated).
async fn replace_or_create<DB: Backend, M: JsonModel>(
    State(Writes(pool)): State<Writes<DB>>,
    body: Bytes,
) -> Reply {
    let body = object(body_json(&body)?)?;
    let id = body_id::<M>(&body)?;
    let replacement = match &id {
        Some(id) => {
            let mut replacement = body.clone();
            let key = M::def().id_column();
            replacement.remove(key.field);
            if M::def().id_generated {
                replacement.remove(key.json_name);
            } else {
                replacement.insert(key.json_name.to_owned(), key_json::<M>(id, key.json_name)?);
            }
            Some(new_of::<M>(replacement)?)
        }
        None => None,
    };
    upsert::<DB, M, _, _>(&pool, &body, || async {
        match (&id, &replacement) {
            (Some(id), Some(new)) => Ok(model::update::<M, _>(&pool, id, new).await?),
            _ => Ok(None),
        }
    })
    .await
}

/// `PATCH /Assemblies`: patches the row whose id the body names, or creates one.
async fn patch_or_create<DB: Backend, M: JsonModel>(
    State(Writes(pool)): State<Writes<DB>>,
    body: Bytes,
) -> Reply {
    let body = object(body_json(&body)?)?;
    let id = body_id::<M>(&body)?;
    upsert::<DB, M, _, _>(&pool, &body, || async {
        let Some(id) = &id else {
            return Ok(None);
        };
        let Some(row) = model::find_by_id::<M, _>(&pool, id).await? else {
            return Ok(None);
        };
        let new = patched(&row, body.clone())?;
        Ok(model::update::<M, _>(&pool, id, &new).await?)
    })
    .await
}

/// `POST /Assemblies/upsertWithWhere?where=`: patches the one row matching, creates one when
/// none does; a 400 when more than one does.
async fn upsert_with_where<DB: Backend, M: JsonModel>(
    State(Writes(pool)): State<Writes<DB>>,
    Query(q): Params,
    body: Bytes,
) -> Reply {
    let filter = where_of::<M>(&q)?.limit(2);
    let body = object(body_json(&body)?)?;
    let mut tx = pool
        .primary()
        .begin()
        .await
        .map_err(crate::error::Error::from)?;
    let mut found = model::find::<M, _>(&mut tx, &filter).await?;
    let row = match found.len() {
        0 => model::create::<M, _>(&mut tx, new_of::<M>(body)?).await?,
        1 => {
            let row = found.remove(0);
            let new = patched(&row, body)?;
            match model::update::<M, _>(&mut tx, row.id(), &new).await? {
                Some(row) => row,
                None => return Err(unknown::<M>(row.id())),
            }
        }
        _ => {
            return Err(ApiError::bad_request(
                "MULTIPLE_INSTANCES",
                format!(
                    "more than one {} matches the where; upsertWithWhere changes one",
                    M::def().name
                ),
            ));
        }
    };
    tx.commit().await.map_err(crate::error::Error::from)?;
    ok(Value::Object(json_of(&row)?))
}

/// `POST /Assemblies/update?where=`: sets the body's properties on every row matching, in
/// one `UPDATE`: `{"count": n}`.
async fn update_all<DB: Backend, M: JsonModel>(
    State(Writes(pool)): State<Writes<DB>>,
    Query(q): Params,
    body: Bytes,
) -> Reply {
    let filter = where_of::<M>(&q)?;
    let values = column_values::<M>(&object(body_json(&body)?)?)?;
    let count = if values.is_empty() {
        model::count::<M, _>(&pool, &filter).await?
    } else {
        model::update_where::<M, _>(&pool, &filter, &values).await?
    };
    ok(json!({ "count": count }))
}

/// `PUT /Assemblies/{id}`: replaces every property; the id is the path's.
async fn replace<DB: Backend, M: JsonModel>(
    State(Writes(pool)): State<Writes<DB>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let id = parse_id::<M>(&id)?;
    let mut body = object(body_json(&body)?)?;
    let key = M::def().id_column();
    body.remove(key.json_name);
    body.remove(key.field);
    if !M::def().id_generated {
        body.insert(key.json_name.to_owned(), key_json::<M>(&id, key.json_name)?);
    }
    let new = new_of::<M>(body)?;
    match model::update::<M, _>(&pool, &id, &new).await? {
        Some(row) => ok(Value::Object(json_of(&row)?)),
        None => Err(unknown::<M>(&id)),
    }
}

/// `PATCH /Assemblies/{id}`: the stored row with the body's properties laid over it.
async fn update<DB: Backend, M: JsonModel>(
    State(Writes(pool)): State<Writes<DB>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let id = parse_id::<M>(&id)?;
    let patch = object(body_json(&body)?)?;
    let Some(row) = model::find_by_id::<M, _>(&pool, &id).await? else {
        return Err(unknown::<M>(&id));
    };
    let new = patched(&row, patch)?;
    match model::update::<M, _>(&pool, &id, &new).await? {
        Some(row) => ok(Value::Object(json_of(&row)?)),
        None => Err(unknown::<M>(&id)),
    }
}

/// `DELETE /Assemblies/{id}`: `{"count": 0 or 1}`.
async fn delete<DB: Backend, M: JsonModel>(
    State(Writes(pool)): State<Writes<DB>>,
    Path(id): Path<String>,
) -> Reply {
    let id = parse_id::<M>(&id)?;
    let deleted = model::delete_by_id::<M, _>(&pool, &id).await?;
    ok(json!({"count": u64::from(deleted)}))
}

/// `GET /Assemblies/{id}/exists`: `{"exists": bool}`.
async fn exists<DB: Backend, M: JsonModel>(
    State(Reads(pool)): State<Reads<DB>>,
    Path(id): Path<String>,
) -> Reply {
    let id = parse_id::<M>(&id)?;
    ok(json!({"exists": model::exists::<M, _>(&pool, &id).await?}))
}
