//! Errors as LoopBack sends them, and the replies of the handlers.

use axum::Json;
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::Error;

/// An error as LoopBack sends it: `{"error": {"statusCode", "name", "message", "code"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    name: &'static str,
    code: &'static str,
    message: String,
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
        }
    }

    pub(super) fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "Error", "MODEL_NOT_FOUND", message)
    }

    pub(super) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "Error", code, message)
    }

    pub(super) fn invalid(message: impl Into<String>) -> Self {
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

pub(super) type Reply = Result<Response, ApiError>;

pub(super) fn ok(value: Value) -> Reply {
    Ok((StatusCode::OK, Json(value)).into_response())
}

pub(super) fn no_content() -> Reply {
    Ok(StatusCode::NO_CONTENT.into_response())
}
