//! Every operation runs in a `habtm` span whose `operation` field names it as the caller
//! wrote it (`Assembly.parts.add`, `Assembly::find`), with the backend, and, once it ends,
//! the rows it returned or changed, or its error. The statements inside it are sqlx's own
//! events (target `sqlx::query`), and habtm's retries are `habtm::retry` events.

use std::future::Future;

use tracing::Instrument;

use crate::backend::Backend;
use crate::def::Model;
use crate::error::{Op, Result};

/// How many rows an operation's answer stands for, if it counts any.
pub(crate) trait Rows {
    fn rows(&self) -> Option<u64>;
}

impl<T> Rows for Vec<T> {
    fn rows(&self) -> Option<u64> {
        Some(self.len() as u64)
    }
}

impl Rows for u64 {
    fn rows(&self) -> Option<u64> {
        Some(*self)
    }
}

impl Rows for bool {
    fn rows(&self) -> Option<u64> {
        Some(u64::from(*self))
    }
}

impl<T> Rows for Option<T> {
    fn rows(&self) -> Option<u64> {
        Some(u64::from(self.is_some()))
    }
}

impl Rows for () {
    fn rows(&self) -> Option<u64> {
        None
    }
}

impl<M: Model> Rows for M {
    fn rows(&self) -> Option<u64> {
        Some(1)
    }
}

/// Runs `work`, the body of operation `op` on `DB`, in its span.
pub(crate) async fn traced<DB: Backend, T: Rows>(
    op: Op,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let span = tracing::debug_span!(
        "habtm",
        operation = %op,
        backend = ?DB::DIALECT,
        rows = tracing::field::Empty,
        error = tracing::field::Empty,
    );
    let outcome = work.instrument(span.clone()).await;
    match &outcome {
        Ok(answer) => {
            if let Some(rows) = answer.rows() {
                span.record("rows", rows);
            }
        }
        Err(error) => {
            span.record("error", tracing::field::display(error));
        }
    }
    outcome
}
