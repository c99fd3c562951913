//! Access control in the spirit of LoopBack's ACLs: each request to a model's or a
//! relation's routes is a read (`GET`, `HEAD`) or a write (everything else); models and
//! relations can be read-only, and a hook the application supplies sees the request (its
//! headers) and the action, and allows or denies it. A denial is LoopBack's 401
//! `AUTHORIZATION_REQUIRED` or a 403 `ACCESS_DENIED`.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::retry::BoxFuture;

use super::error::ApiError;

/// Whether a request reads or writes, as LoopBack's `accessType` (`EXECUTE` methods of
/// LoopBack, such as `updateAll`, are writes here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessType {
    /// `GET` and `HEAD`.
    Read,
    /// Every other verb.
    Write,
}

/// What a request asks, for [`Api::access`](super::Api::access) to judge.
#[derive(Debug, Clone)]
pub struct AccessRequest {
    /// The model whose routes it reaches (`Assembly`), the owner for a relation's routes.
    pub model: &'static str,
    /// The relation, for a relation's routes (`parts`).
    pub relation: Option<&'static str>,
    pub access: AccessType,
    pub method: Method,
    /// The path as requested (`/Assemblies/1/parts`).
    pub path: String,
    pub headers: HeaderMap,
}

/// The answer to an [`AccessRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// LoopBack's answer to a caller it does not know: 401 `AUTHORIZATION_REQUIRED`.
    AuthorizationRequired,
    /// A known caller without the right: 403 `ACCESS_DENIED`.
    Denied,
}

type Hook = Arc<dyn Fn(AccessRequest) -> BoxFuture<'static, Decision> + Send + Sync>;

/// The rules of a router, fixed when it is built.
#[derive(Default, Clone)]
pub(super) struct Policy {
    hook: Option<Hook>,
    /// Models (relation `None`) and relations that take no write.
    read_only: HashSet<(&'static str, Option<&'static str>)>,
}

impl Policy {
    pub(super) fn hook<F, Fut>(&mut self, hook: F)
    where
        F: Fn(AccessRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Decision> + Send + 'static,
    {
        self.hook = Some(Arc::new(move |request| Box::pin(hook(request))));
    }

    pub(super) fn read_only(&mut self, model: &'static str, relation: Option<&'static str>) {
        self.read_only.insert((model, relation));
    }
}

/// The policy as the routes reach it: set once, when the router is built.
pub(super) type Shared = Arc<OnceLock<Policy>>;

/// The routes of one model or relation, as a guard sees them.
#[derive(Clone)]
pub(super) struct Guard {
    pub(super) policy: Shared,
    pub(super) model: &'static str,
    pub(super) relation: Option<&'static str>,
}

impl Guard {
    /// Runs the request if the policy allows it.
    pub(super) async fn check(self, request: Request, next: Next) -> Response {
        let Some(policy) = self.policy.get() else {
            return next.run(request).await;
        };
        let access = if matches!(*request.method(), Method::GET | Method::HEAD) {
            AccessType::Read
        } else {
            AccessType::Write
        };
        if access == AccessType::Write && policy.read_only.contains(&(self.model, self.relation)) {
            return denied(Decision::AuthorizationRequired);
        }
        if let Some(hook) = &policy.hook {
            let asked = AccessRequest {
                model: self.model,
                relation: self.relation,
                access,
                method: request.method().clone(),
                path: request.uri().path().to_owned(),
                headers: request.headers().clone(),
            };
            let decision = hook(asked).await;
            if decision != Decision::Allow {
                return denied(decision);
            }
        }
        next.run(request).await
    }
}

/// Asks the policy's hook about a read of `relation` of `model` that a request's `include`
/// makes: the error to answer if it denies it.
pub(super) async fn judge_include(
    policy: &Shared,
    model: &'static str,
    relation: &'static str,
    asker: &Asker,
) -> Result<(), ApiError> {
    let Some(hook) = policy.get().and_then(|p| p.hook.clone()) else {
        return Ok(());
    };
    let asked = AccessRequest {
        model,
        relation: Some(relation),
        access: AccessType::Read,
        method: Method::GET,
        path: asker.path.clone(),
        headers: asker.headers.clone(),
    };
    match hook(asked).await {
        Decision::Allow => Ok(()),
        other => Err(denial(other)),
    }
}

/// Who asks: the request's path and headers, as an `include` passes them on.
#[derive(Debug, Clone, Default)]
pub(super) struct Asker {
    pub(super) path: String,
    pub(super) headers: HeaderMap,
}

fn denied(decision: Decision) -> Response {
    denial(decision).into_response()
}

fn denial(decision: Decision) -> ApiError {
    if decision == Decision::Denied {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "Error",
            "ACCESS_DENIED",
            "Access Denied",
        )
    } else {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Error",
            "AUTHORIZATION_REQUIRED",
            "Authorization Required",
        )
    }
}
