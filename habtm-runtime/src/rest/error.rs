//! Errors as LoopBack sends them, and the replies of the handlers.

use axum::Json;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::Error;

/// An error as LoopBack sends it: `{"error": {"statusCode", "name", "message", "code"}}`
/// (no `code` where LoopBack gives none, as for an unknown route).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    name: &'static str,
    code: &'static str,
    message: String,
    /// A validation failure's `{context, codes, messages}`, per property.
    details: Option<Value>,
}

impl ApiError {
    pub(super) fn new(
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
            details: None,
        }
    }

    pub(super) fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "Error", "MODEL_NOT_FOUND", message)
    }

    /// LoopBack's 404 of a missing row: `Unknown "Part" id "999".`, the id quoted as the
    /// path gave it.
    pub(super) fn unknown_id(model: &str, id: &dyn std::fmt::Debug) -> Self {
        let id = format!("{id:?}");
        let id = id
            .strip_prefix('"')
            .and_then(|i| i.strip_suffix('"'))
            .unwrap_or(&id);
        ApiError::not_found(format!("Unknown \"{model}\" id \"{id}\"."))
    }

    pub(super) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "Error", code, message)
    }

    /// A 500 whose message stays generic on the wire; `detail` is for the server's log.
    pub(super) fn internal(detail: impl Into<String>) -> Self {
        tracing::error!(detail = %detail.into(), "REST request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error",
            "INTERNAL_ERROR",
            "Internal Server Error",
        )
    }

    /// A 422 `ValidationError`. A message of the form ``Part: `partNumber` is required``
    /// also gets LoopBack's `details`: `{"context": "Part", "codes": {"partNumber":
    /// ["presence"]}, "messages": {"partNumber": ["is required"]}}`.
    pub(super) fn invalid(message: impl Into<String>) -> Self {
        let mut message = message.into();
        let details = validation_details(&message);
        if let Some(details) = &details
            && let Some((property, texts)) = details["messages"]
                .as_object()
                .and_then(|m| m.iter().next())
            && details["codes"][property][0] != "invalid"
        {
            // LoopBack's own words for a missing or unknown property.
            message = format!(
                "The `{}` instance is not valid. Details: `{property}` {} (value: undefined).",
                details["context"].as_str().unwrap_or_default(),
                texts[0].as_str().unwrap_or_default()
            );
        }
        // LoopBack's ValidationError has no `code`; other 422s keep habtm's.
        let code = if message.starts_with("The `") {
            ""
        } else {
            "VALIDATION_FAILED"
        };
        let mut error = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ValidationError",
            code,
            message,
        );
        error.details = details;
        error
    }
}

/// LoopBack's `details` of a validation message ``Context: `property` what``: the code is
/// `presence` for a missing property, `unknown-property` for one the model lacks,
/// `immutable` for the id, `invalid` otherwise.
fn validation_details(message: &str) -> Option<Value> {
    let (context, rest) = message.split_once(": `")?;
    let (property, what) = rest.split_once('`')?;
    let what = what.trim_start_matches(':').trim();
    let (code, what) = if what.starts_with("is required") {
        ("presence", "can't be blank")
    } else if what.starts_with("is not a property") {
        ("unknown-property", "is not defined in the model")
    } else if what.starts_with("cannot change") {
        ("immutable", what)
    } else {
        ("invalid", what)
    };
    Some(json!({
        "context": context,
        "codes": { property: [code] },
        "messages": { property: [what] },
    }))
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::NotFound { model, id } => ApiError::unknown_id(model, &format_args!("{id}")),
            Error::InvalidFilter { message } => ApiError::bad_request("INVALID_FILTER", message),
            Error::SelfLink { model, id, .. } => ApiError::bad_request(
                "SELF_LINK",
                format!("a symmetric relation cannot link {model} {id} to itself"),
            ),
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

/// An unknown path, or a verb a path does not take: LoopBack's (Express's) 404, `Cannot GET
/// /Widgets`.
pub(super) async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "Error",
        "",
        format!("Cannot {method} {}", uri.path()),
    )
}

/// The longest plain-text error body read to be rewritten as LoopBack's.
const PLAIN_ERROR_LIMIT: usize = 4096;

/// An error answered in plain text by axum itself (a body over the limit, a query string it
/// cannot read, a missing content type) as LoopBack's error body, the text its message.
pub(super) async fn loopback_body(response: Response) -> Response {
    let status = response.status();
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || json {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), PLAIN_ERROR_LIMIT)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let (name, code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "PayloadTooLargeError",
            "ENTITY_TOO_LARGE",
            "request entity too large".to_owned(),
        ),
        _ => (
            "Error",
            "",
            if text.is_empty() {
                status.canonical_reason().unwrap_or("Error").to_owned()
            } else {
                text
            },
        ),
    };
    ApiError::new(status, name, code, message).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({
            "statusCode": self.status.as_u16(),
            "name": self.name,
            "message": self.message,
        });
        if !self.code.is_empty() {
            error["code"] = json!(self.code);
        }
        if let Some(details) = self.details {
            error["details"] = details;
        }
        let body = json!({ "error": error });
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            return (self.status, [(RETRY_AFTER, "1")], Json(body)).into_response();
        }
        (self.status, Json(body)).into_response()
    }
}

pub(super) type Reply = Result<Response, ApiError>;

pub(super) fn ok(value: Value) -> Reply {
    Ok((StatusCode::OK, Json(value)).into_response())
}

pub(super) fn no_content() -> Reply {
    Ok(StatusCode::NO_CONTENT.into_response())
}
