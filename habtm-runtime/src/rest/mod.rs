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

//! The handlers are named functions over the pool as axum state: `models` for a model's
//! own routes, `relations` for a relation's; `body` reads requests and writes rows, `error`
//! is LoopBack's error body, `openapi` the document.

mod access;
mod body;
mod error;
mod include;
mod models;
mod openapi;
mod relations;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use sqlx::Pool;
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin};

use crate::backend::Backend;
use crate::def::{JsonModel, Relation};
use crate::filter::RelationRef;
use crate::replicas::Replicated;

pub use access::{AccessRequest, AccessType, Decision};
pub use error::ApiError;

/// What a filter's `include` can name, as the handlers reach it.
type Includes<DB> = std::sync::Arc<include::Registry<DB>>;
pub use relations::{JsonRelation, LinkRoute};
/// The CORS policy [`Api::cors`] takes (tower-http's).
pub use tower_http::cors::CorsLayer;

/// The largest request body accepted, unless [`Api::body_limit`] says otherwise.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// What the handlers run on: reads (`GET`, `HEAD`) on the replicas, if any, in turn; writes,
/// and every read of a request that writes, on the primary.
#[derive(Debug)]
#[doc(hidden)]
pub struct Pools<DB: Backend> {
    reads: Replicated<DB>,
    writes: Replicated<DB>,
}

impl<DB: Backend> Clone for Pools<DB> {
    fn clone(&self) -> Self {
        Pools {
            reads: self.reads.clone(),
            writes: self.writes.clone(),
        }
    }
}

/// The state of a handler that reads only.
pub(crate) struct Reads<DB: Backend>(pub(crate) Replicated<DB>);

/// The state of a handler that writes: the primary alone.
pub(crate) struct Writes<DB: Backend>(pub(crate) Replicated<DB>);

impl<DB: Backend> FromRef<Pools<DB>> for Reads<DB> {
    fn from_ref(pools: &Pools<DB>) -> Self {
        Reads(pools.reads.clone())
    }
}

impl<DB: Backend> FromRef<Pools<DB>> for Writes<DB> {
    fn from_ref(pools: &Pools<DB>) -> Self {
        Writes(pools.writes.clone())
    }
}

/// Builds the router of a set of models and relations.
pub struct Api<DB: Backend> {
    pools: Pools<DB>,
    router: Router<Pools<DB>>,
    document: openapi::Document,
    body_limit: usize,
    cors: Option<CorsLayer>,
    includes: include::Registry<DB>,
    policy: access::Policy,
    shared: access::Shared,
}

/// LoopBack's default CORS policy: any origin (the request's, echoed), with credentials,
/// every method and header the preflight asks for.
pub fn loopback_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_credentials(true)
        .allow_methods(AllowMethods::mirror_request())
        .allow_headers(AllowHeaders::mirror_request())
}

impl<DB: Backend> Api<DB> {
    /// No routes yet; every route will run on `pool`.
    pub fn new(pool: Pool<DB>) -> Self {
        Self::replicated(Replicated::new(pool, Vec::new()))
    }

    /// No routes yet; `GET` and `HEAD` requests will read on `db`'s replicas, in turn, and
    /// every other request will run on its primary (its reads included).
    pub fn replicated(db: Replicated<DB>) -> Self {
        let writes = Replicated::new(db.primary().clone(), Vec::new());
        Api {
            pools: Pools { reads: db, writes },
            router: Router::new(),
            document: openapi::Document::default(),
            body_limit: DEFAULT_BODY_LIMIT,
            cors: Some(loopback_cors()),
            includes: include::Registry::default(),
            policy: access::Policy::default(),
            shared: access::Shared::default(),
        }
    }

    /// Asks `hook` about every request to a model's or a relation's routes: it sees the
    /// model, the relation, whether the request reads or writes, and the request itself
    /// (method, path, headers), and allows it, or answers LoopBack's 401
    /// (`Decision::AuthorizationRequired`) or a 403 (`Decision::Denied`).
    ///
    /// ```text
    /// Api::new(pool).model::<Part>().access(|request: AccessRequest| async move {
    ///     let signed_in = request.headers.contains_key("authorization");
    ///     if request.access == AccessType::Read || signed_in {
    ///         Decision::Allow
    ///     } else {
    ///         Decision::AuthorizationRequired
    ///     }
    /// })
    /// ```
    #[must_use]
    pub fn access<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(AccessRequest) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Decision> + Send + 'static,
    {
        self.policy.hook(hook);
        self
    }

    /// `M`'s own routes take no write: LoopBack's 401 for every other verb than `GET` and
    /// `HEAD`.
    #[must_use]
    pub fn read_only<M: JsonModel>(mut self) -> Self {
        self.policy.read_only(M::def().name, None);
        self
    }

    /// A relation's routes take no write (linking, unlinking, creating through it).
    #[must_use]
    pub fn read_only_relation<R: Relation>(mut self, relation: RelationRef<R>) -> Self {
        let _ = relation;
        self.policy.read_only(
            <R::Owner as crate::def::Model>::def().name,
            Some(R::def().name),
        );
        self
    }

    /// The guard of the routes of `model` (and `relation`).
    fn guard(&self, model: &'static str, relation: Option<&'static str>) -> access::Guard {
        access::Guard {
            policy: self.shared.clone(),
            model,
            relation,
        }
    }

    /// Lists answer at most `rows` rows: a filter's larger `limit`, or none, becomes `rows`
    /// (an included relation's: per parent). Without it a list has no bound, as LoopBack's.
    #[must_use]
    pub fn max_page_size(mut self, rows: u64) -> Self {
        self.includes.max_page = Some(rows);
        self
    }

    /// Answers cross-origin requests and preflights by `cors` instead of LoopBack's default
    /// ([`loopback_cors`]: any origin, with credentials).
    #[must_use]
    pub fn cors(mut self, cors: CorsLayer) -> Self {
        self.cors = Some(cors);
        self
    }

    /// No CORS headers at all: browsers then refuse cross-origin calls.
    #[must_use]
    pub fn without_cors(mut self) -> Self {
        self.cors = None;
        self
    }

    /// Accepts request bodies up to `bytes` long (larger ones are a 413).
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The routes of `M` itself, under its plural (`/Assemblies`): list (`?filter=`),
    /// create, count (`?where=`), find by id, exists, replace (PUT), update (PATCH) and
    /// delete.
    #[must_use]
    pub fn model<M: JsonModel>(mut self) -> Self {
        let guard = self.guard(M::def().name, None);
        self.router = models::routes::<DB, M>(self.router, &mut self.document, guard);
        self
    }

    /// The ten routes of a relation, under its owner (`/Assemblies/{id}/parts`): list,
    /// create, delete all, count, find/update/destroy by `fk`, and link/unlink/exists under
    /// `rel/{fk}`. For a relation with a join model (`through = "X"`), `PUT .../rel/{fk}`
    /// takes the join row's data as its body (its keys may be left out) and answers with the
    /// join row.
    #[must_use]
    pub fn relation<R>(mut self, relation: RelationRef<R>) -> Self
    where
        R: Relation<Owner: JsonModel, Target: JsonModel>,
        R::Link: LinkRoute<DB>,
    {
        let _ = relation;
        let guard = self.guard(
            <R::Owner as crate::def::Model>::def().name,
            Some(R::def().name),
        );
        self.router = relations::routes::<DB, R, _, _>(self.router, &mut self.document, guard);
        self.includes.add::<R>();
        self
    }

    /// The router, with the API explorer at `/explorer/` and its OpenAPI document at
    /// `/explorer/openapi.json`, the body limit,
    /// CORS, and LoopBack's error body for every error, unknown routes included (`404
    /// Cannot GET /path`).
    pub fn router(self) -> Router {
        let document = self.document.into_json();
        // Every guard, and every include, reads the policy from here on.
        let _ = self.shared.set(self.policy);
        let mut includes = self.includes;
        includes.policy = self.shared.clone();
        // The explorer at `/explorer/` lists and runs every operation of the document it
        // serves at `/explorer/openapi.json`; its assets are built in.
        let explorer: Router<Pools<DB>> = utoipa_swagger_ui::SwaggerUi::new("/explorer")
            .external_url_unchecked("/explorer/openapi.json", document)
            .into();
        // `/explorer` moves to `/explorer/` for good, as LoopBack answers it (a 301).
        let explorer = explorer.layer(axum::middleware::map_response(
            |mut response: axum::response::Response| async move {
                if response.status() == axum::http::StatusCode::SEE_OTHER {
                    *response.status_mut() = axum::http::StatusCode::MOVED_PERMANENTLY;
                }
                response
            },
        ));
        let router = self
            .router
            .merge(explorer)
            .fallback(error::no_route)
            .method_not_allowed_fallback(error::no_route)
            .layer(axum::Extension(Includes::new(includes)))
            .layer(axum::middleware::map_response(error::loopback_body))
            .layer(DefaultBodyLimit::max(self.body_limit))
            .with_state(self.pools);
        match self.cors {
            Some(cors) => router.layer(cors),
            None => router,
        }
    }
}
