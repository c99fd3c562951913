//! The ten routes of a relation, under its owner (`/Assemblies/{id}/parts`), as named
//! handlers whose state is the pool.

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::middleware::from_fn;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, put};
use serde_json::{Map, Value, json};

use crate::backend::Backend;
use crate::def::{JsonModel, Model, Relation};
use crate::filter::Filter;
use crate::ops::model;
use crate::ops::relation::Related;

use super::access::Guard;
use super::body::{
    Asked, Asking, QueryPairs, body_json, json_key, json_of, key_json, new_of, object, parse_id,
    partials, patched, rows, shown, where_of,
};
use super::error::{ApiError, Reply, no_content, ok};
use super::include::with_includes;
use super::openapi::{Answer, Body, Document, Operation, Query as In};
use super::{Includes, Pools, Reads, Writes};
use crate::replicas::Replicated;

type Params = Query<QueryPairs>;
type Pair = Path<(String, String)>;

/// Adds the routes of relation `R` to `router` and documents them: list, create, delete all,
/// count, find/update/destroy by `fk`, and link/unlink/exists under `rel/{fk}`.
pub(super) fn routes<DB, R, O, T>(
    router: Router<Pools<DB>>,
    document: &mut Document,
    guard: Guard,
) -> Router<Pools<DB>>
where
    DB: Backend,
    R: Relation<Owner = O, Target = T>,
    R::Link: LinkRoute<DB>,
    O: JsonModel,
    T: JsonModel,
{
    let (owner, target) = (O::def(), T::def());
    document.schema::<DB>(target);
    let base = format!("/{}/{{id}}/{}", owner.plural, R::def().name);
    let (t, list) = (target.name, format!("{}List", target.name));
    let rel = R::def().name;
    let params = [
        ("id", Document::id_schema::<DB>(owner)),
        ("fk", Document::id_schema::<DB>(target)),
    ];
    let names: Vec<String> = [
        "get",
        "create",
        "delete",
        "count",
        "findById",
        "updateById",
        "destroyById",
        "link",
        "unlink",
        "exists",
    ]
    .iter()
    .map(|verb| format!("prototype.__{verb}__{rel}"))
    .collect();
    let op = |method, i: usize, summary, query, body, answer| Operation {
        method,
        name: &names[i],
        summary,
        query,
        body,
        answer,
    };
    let (tag, row) = (owner.name, Answer::Json(t));
    document.route(
        tag,
        &base,
        &params,
        &[
            op(
                "get",
                0,
                "Find the related instances",
                In::Filter,
                Body::None,
                Answer::Json(&list),
            ),
            op(
                "post",
                1,
                "Create and link related instances (an object or an array, all or none)",
                In::None,
                Body::Rows(t),
                row,
            ),
            op(
                "delete",
                2,
                "Unlink every related instance",
                In::None,
                Body::None,
                Answer::NoContent,
            ),
        ],
    );
    document.route(
        tag,
        &format!("{base}/count"),
        &params,
        &[op(
            "get",
            3,
            "Count the related instances",
            In::Where,
            Body::None,
            Answer::Json("Count"),
        )],
    );
    document.route(
        tag,
        &format!("{base}/{{fk}}"),
        &params,
        &[
            op(
                "get",
                4,
                "Find a related instance by id (the filter's fields and include)",
                In::Filter,
                Body::None,
                row,
            ),
            op(
                "put",
                5,
                "Patch a related instance by id",
                In::None,
                Body::Patch(t),
                row,
            ),
            op(
                "delete",
                6,
                "Unlink and delete a related instance",
                In::None,
                Body::None,
                Answer::NoContent,
            ),
        ],
    );
    document.route(
        tag,
        &format!("{base}/rel/{{fk}}"),
        &params,
        &[
            op(
                "put",
                7,
                "Link an instance (a join model's data in the body); answers the link",
                In::None,
                Body::Object,
                Answer::Object,
            ),
            op(
                "delete",
                8,
                "Unlink an instance",
                In::None,
                Body::None,
                Answer::NoContent,
            ),
            op(
                "head",
                9,
                "Whether an instance is linked (200 or 404)",
                In::None,
                Body::None,
                Answer::Empty,
            ),
        ],
    );
    let link = <R::Link as LinkRoute<DB>>::link_route::<R>();
    let own = Router::new()
        .route(
            &base,
            get(find::<DB, R>)
                .post(create::<DB, R>)
                .delete(clear::<DB, R>),
        )
        .route(&format!("{base}/count"), get(count::<DB, R>))
        .route(
            &format!("{base}/{{fk}}"),
            get(find_by_id::<DB, R>)
                .put(update_by_id::<DB, R>)
                .delete(destroy::<DB, R>),
        )
        .route(
            &format!("{base}/rel/{{fk}}"),
            link.delete(unlink::<DB, R>).head(linked::<DB, R>),
        );
    router.merge(own.route_layer(from_fn(move |request, next| {
        guard.clone().check(request, next)
    })))
}

/// The related rows of the owner with id `id`, which must exist (else a 404).
async fn owner<DB: Backend, R: JsonRelation>(
    pool: &Replicated<DB>,
    id: &str,
) -> Result<Related<R>, ApiError> {
    let id = parse_id::<R::Owner>(id)?;
    if !model::exists::<R::Owner, _>(pool, &id).await? {
        return Err(ApiError::unknown_id(<R::Owner as Model>::def().name, &id));
    }
    Ok(Related::new(id))
}

/// The owner's related rows and the `fk` of the path.
async fn pair<DB: Backend, R: JsonRelation>(
    pool: &Replicated<DB>,
    (id, fk): (String, String),
) -> Result<(Related<R>, <R::Target as Model>::Id), ApiError> {
    let fk = parse_id::<R::Target>(&fk)?;
    Ok((owner::<DB, R>(pool, &id).await?, fk))
}

/// The 404 of a row that is not linked.
/// LoopBack's words: `No relation found in AssemblyPart for (Assembly.1,Part.2)`.
fn unlinked<R: JsonRelation>(
    id: &<R::Owner as Model>::Id,
    fk: &<R::Target as Model>::Id,
) -> ApiError {
    let plain = |value: &dyn std::fmt::Debug| format!("{value:?}").trim_matches('"').to_owned();
    ApiError::new(
        StatusCode::NOT_FOUND,
        "Error",
        "",
        format!(
            "No relation found in {} for ({}.{},{}.{})",
            R::def().table(),
            <R::Owner as Model>::def().name,
            plain(id),
            <R::Target as Model>::def().name,
            plain(fk)
        ),
    )
}

/// `GET /Assemblies/{id}/parts?filter=`, with what the filter includes of each part.
async fn find<DB: Backend, R: JsonRelation>(
    State(Reads(pool)): State<Reads<DB>>,
    Extension(includes): Extension<Includes<DB>>,
    Path(id): Path<String>,
    Asking(Asked {
        filter,
        include,
        hide_id,
    }): Asking<R::Target>,
) -> Reply {
    let related = owner::<DB, R>(&pool, &id).await?;
    let filter = includes.page(filter);
    let found = if filter.has_fields() {
        partials::<R::Target>(&related.select(&pool, filter).await?)?
    } else {
        rows(&related.find(&pool, filter).await?)?
    };
    let found = with_includes::<DB, R::Target>(&includes, &pool, found, include.as_ref()).await?;
    ok(shown::<R::Target>(found, hide_id))
}

/// `POST /Assemblies/{id}/parts`: creates and links the part of an object, or the parts of an
/// array (all or none).
async fn create<DB: Backend, R: JsonRelation>(
    State(Writes(pool)): State<Writes<DB>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let related = owner::<DB, R>(&pool, &id).await?;
    match body_json(&body)? {
        Value::Array(items) => {
            let news = items
                .into_iter()
                .map(|i| object(i).and_then(new_of::<R::Target>))
                .collect::<Result<Vec<_>, _>>()?;
            ok(rows(&related.create_many(&pool, &news).await?)?)
        }
        single => {
            let new = new_of::<R::Target>(object(single)?)?;
            ok(Value::Object(json_of(&related.create(&pool, new).await?)?))
        }
    }
}

/// `DELETE /Assemblies/{id}/parts`: unlinks every part.
async fn clear<DB: Backend, R: JsonRelation>(
    State(Writes(pool)): State<Writes<DB>>,
    Path(id): Path<String>,
) -> Reply {
    owner::<DB, R>(&pool, &id).await?.clear(&pool).await?;
    no_content()
}

/// `GET /Assemblies/{id}/parts/count?where=`.
async fn count<DB: Backend, R: JsonRelation>(
    State(Reads(pool)): State<Reads<DB>>,
    Path(id): Path<String>,
    Query(q): Params,
) -> Reply {
    let related = owner::<DB, R>(&pool, &id).await?;
    let filter = where_of::<R::Target>(&q)?;
    ok(json!({"count": related.count_where(&pool, filter).await?}))
}

/// `GET /Assemblies/{id}/parts/{fk}`: the part, if linked.
async fn find_by_id<DB: Backend, R: JsonRelation>(
    State(Reads(pool)): State<Reads<DB>>,
    Extension(includes): Extension<Includes<DB>>,
    Path(p): Pair,
    Asking(Asked {
        filter,
        include,
        hide_id,
    }): Asking<R::Target>,
) -> Reply {
    let (related, fk) = pair::<DB, R>(&pool, p).await?;
    let filter = filter.with_id(&fk);
    let found = if filter.has_fields() {
        partials::<R::Target>(&related.select(&pool, filter).await?)?
    } else {
        rows(&related.find(&pool, filter).await?)?
    };
    let found = with_includes::<DB, R::Target>(&includes, &pool, found, include.as_ref()).await?;
    match shown::<R::Target>(found, hide_id) {
        Value::Array(mut rows) if !rows.is_empty() => ok(rows.remove(0)),
        _ => Err(unlinked::<R>(related.owner_id(), &fk)),
    }
}

/// `PUT /Assemblies/{id}/parts/{fk}`: the linked part with the body's properties laid over it.
async fn update_by_id<DB: Backend, R: JsonRelation>(
    State(Writes(pool)): State<Writes<DB>>,
    Path(p): Pair,
    body: Bytes,
) -> Reply {
    let (related, fk) = pair::<DB, R>(&pool, p).await?;
    let patch = object(body_json(&body)?)?;
    let Some(row) = related.find_by_id(&pool, fk.clone()).await? else {
        return Err(unlinked::<R>(related.owner_id(), &fk));
    };
    let new = patched(&row, patch)?;
    match related.update_by_id(&pool, fk.clone(), new).await? {
        Some(row) => ok(Value::Object(json_of(&row)?)),
        None => Err(unlinked::<R>(related.owner_id(), &fk)),
    }
}

/// `DELETE /Assemblies/{id}/parts/{fk}`: deletes the linked part and its links.
async fn destroy<DB: Backend, R: JsonRelation>(
    State(Writes(pool)): State<Writes<DB>>,
    Path(p): Pair,
) -> Reply {
    let (related, fk) = pair::<DB, R>(&pool, p).await?;
    if related.destroy(&pool, fk.clone()).await? {
        no_content()
    } else {
        Err(unlinked::<R>(related.owner_id(), &fk))
    }
}

/// `DELETE /Assemblies/{id}/parts/rel/{fk}`: unlinks, linked or not.
async fn unlink<DB: Backend, R: JsonRelation>(
    State(Writes(pool)): State<Writes<DB>>,
    Path(p): Pair,
) -> Reply {
    let (related, fk) = pair::<DB, R>(&pool, p).await?;
    related.remove(&pool, fk).await?;
    no_content()
}

/// `HEAD /Assemblies/{id}/parts/rel/{fk}`: 200 if linked, 404 if not.
async fn linked<DB: Backend, R: JsonRelation>(
    State(Reads(pool)): State<Reads<DB>>,
    Path(p): Pair,
) -> Reply {
    let (related, fk) = pair::<DB, R>(&pool, p).await?;
    if related.exists(&pool, fk.clone()).await? {
        Ok(StatusCode::OK.into_response())
    } else {
        Err(unlinked::<R>(related.owner_id(), &fk))
    }
}

/// A relation whose owner and target have a JSON form: one the REST API can serve.
#[doc(hidden)]
pub trait JsonRelation: Relation<Owner: JsonModel, Target: JsonModel> {}

impl<R: Relation<Owner: JsonModel, Target: JsonModel>> JsonRelation for R {}

/// How a relation's `PUT .../rel/{fk}` links, by its join model: a plain join table links
/// the pair and answers with its keys; a join model `X` takes the join row's data from the
/// body and answers with the join row.
#[doc(hidden)]
pub trait LinkRoute<DB: Backend>: Sized {
    /// The handler of `PUT .../rel/{fk}` for relation `R`.
    fn link_route<R: JsonRelation<Link = Self>>() -> MethodRouter<Pools<DB>>;
}

impl<DB: Backend> LinkRoute<DB> for () {
    fn link_route<R: JsonRelation<Link = Self>>() -> MethodRouter<Pools<DB>> {
        put(link::<DB, R>)
    }
}

impl<DB: Backend, X: JsonModel> LinkRoute<DB> for X {
    fn link_route<R: JsonRelation<Link = Self>>() -> MethodRouter<Pools<DB>> {
        put(link_with::<DB, R, X>)
    }
}

/// `PUT /Assemblies/{id}/parts/rel/{fk}` on a plain join table: links, and answers with the
/// pair's keys.
async fn link<DB: Backend, R: JsonRelation>(
    State(Writes(pool)): State<Writes<DB>>,
    Path(p): Pair,
) -> Reply {
    let (related, fk) = pair::<DB, R>(&pool, p).await?;
    related.add(&pool, fk.clone()).await?;
    let rel = R::def();
    let mut link = Map::new();
    link.insert(
        json_key(rel.owner_key),
        key_json::<R::Owner>(related.owner_id(), rel.owner_key)?,
    );
    link.insert(
        json_key(rel.target_key),
        key_json::<R::Target>(&fk, rel.target_key)?,
    );
    ok(Value::Object(link))
}

/// `PUT /Kits/{id}/components/rel/{fk}` with a join model `X`: links with the body as the
/// join row's data (its keys may be left out), and answers with the join row.
async fn link_with<DB, R, X>(
    State(Writes(pool)): State<Writes<DB>>,
    Path(p): Pair,
    body: Bytes,
) -> Reply
where
    DB: Backend,
    R: JsonRelation<Link = X>,
    X: JsonModel,
{
    let (related, fk) = pair::<DB, R>(&pool, p).await?;
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
    data.insert(
        owner_key,
        key_json::<R::Owner>(related.owner_id(), rel.owner_key)?,
    );
    let fk_json = key_json::<R::Target>(&fk, rel.target_key)?;
    data.insert(target_key.clone(), fk_json.clone());
    let new = new_of::<X>(data)?;
    related.add_with(&pool, fk.clone(), new).await?;
    let this_link = json!({"where": {target_key: fk_json}});
    let links = related
        .find_with_links(&pool, Filter::from_json_value(&this_link)?)
        .await?;
    match links.first() {
        Some((_, link)) => ok(Value::Object(json_of(link)?)),
        None => Err(unlinked::<R>(related.owner_id(), &fk)),
    }
}
