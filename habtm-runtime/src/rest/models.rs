//! The routes of a model itself, under its plural (`/Assemblies`), as named handlers whose
//! state is the pool.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde_json::{Value, json};
use sqlx::Pool;

use crate::backend::Backend;
use crate::def::JsonModel;
use crate::ops::model;

use super::body::{
    QueryPairs, body_json, filter_of, json_of, key_json, new_of, object, parse_id, partials,
    patched, rows, where_of,
};
use super::error::{ApiError, Reply, ok};
use super::openapi::Document;

type Params = Query<QueryPairs>;

/// Adds the routes of `M` to `router` and documents them: list (`?filter=`), create, count
/// (`?where=`), find by id, exists, replace (PUT), update (PATCH) and delete.
pub(super) fn routes<DB: Backend, M: JsonModel>(
    router: Router<Pool<DB>>,
    document: &mut Document,
) -> Router<Pool<DB>> {
    let def = M::def();
    document.schema::<DB>(def);
    let base = format!("/{}", def.plural);
    let (name, list) = (def.name, format!("{}List", def.name));
    document.route(
        &base,
        &[
            ("get", "Find all instances matching the filter", &list),
            ("post", "Create an instance (or an array of them)", name),
        ],
    );
    document.route(
        &format!("{base}/count"),
        &[("get", "Count instances matching the where", "Count")],
    );
    document.route(
        &format!("{base}/{{id}}"),
        &[
            ("get", "Find an instance by id", name),
            ("put", "Replace the attributes of an instance", name),
            ("patch", "Update some attributes of an instance", name),
            ("delete", "Delete an instance by id", "Count"),
        ],
    );
    document.route(
        &format!("{base}/{{id}}/exists"),
        &[("get", "Whether an instance exists", "Exists")],
    );
    router
        .route(&base, get(find::<DB, M>).post(create::<DB, M>))
        .route(&format!("{base}/count"), get(count::<DB, M>))
        .route(
            &format!("{base}/{{id}}"),
            get(find_by_id::<DB, M>)
                .put(replace::<DB, M>)
                .patch(update::<DB, M>)
                .delete(delete::<DB, M>),
        )
        .route(&format!("{base}/{{id}}/exists"), get(exists::<DB, M>))
}

/// The 404 of a missing row.
fn unknown<M: JsonModel>(id: &M::Id) -> ApiError {
    ApiError::not_found(format!("Unknown \"{}\" id {id:?}.", M::def().name))
}

/// `GET /Assemblies?filter=`: the rows matching the filter, only its `fields` if it names any.
async fn find<DB: Backend, M: JsonModel>(State(pool): State<Pool<DB>>, Query(q): Params) -> Reply {
    let filter = filter_of::<M>(&q)?;
    if filter.has_fields() {
        return ok(partials::<M>(
            &model::select::<M, _>(&pool, &filter).await?,
        )?);
    }
    ok(rows(&model::find::<M, _>(&pool, &filter).await?)?)
}

/// `POST /Assemblies`: creates the row of an object, or the rows of an array (all or none).
async fn create<DB: Backend, M: JsonModel>(State(pool): State<Pool<DB>>, body: Bytes) -> Reply {
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
async fn count<DB: Backend, M: JsonModel>(State(pool): State<Pool<DB>>, Query(q): Params) -> Reply {
    let filter = where_of::<M>(&q)?;
    ok(json!({"count": model::count::<M, _>(&pool, &filter).await?}))
}

/// `GET /Assemblies/{id}`.
async fn find_by_id<DB: Backend, M: JsonModel>(
    State(pool): State<Pool<DB>>,
    Path(id): Path<String>,
) -> Reply {
    let id = parse_id::<M>(&id)?;
    match model::find_by_id::<M, _>(&pool, &id).await? {
        Some(row) => ok(Value::Object(json_of(&row)?)),
        None => Err(unknown::<M>(&id)),
    }
}

/// `PUT /Assemblies/{id}`: replaces every property; the id is the path's.
async fn replace<DB: Backend, M: JsonModel>(
    State(pool): State<Pool<DB>>,
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
    State(pool): State<Pool<DB>>,
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
    State(pool): State<Pool<DB>>,
    Path(id): Path<String>,
) -> Reply {
    let id = parse_id::<M>(&id)?;
    let deleted = model::delete_by_id::<M, _>(&pool, &id).await?;
    ok(json!({"count": u64::from(deleted)}))
}

/// `GET /Assemblies/{id}/exists`: `{"exists": bool}`.
async fn exists<DB: Backend, M: JsonModel>(
    State(pool): State<Pool<DB>>,
    Path(id): Path<String>,
) -> Reply {
    let id = parse_id::<M>(&id)?;
    ok(json!({"exists": model::exists::<M, _>(&pool, &id).await?}))
}
