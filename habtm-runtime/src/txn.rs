//! Retrying what the database asks to retry: a deadlock or serialization failure, or a
//! busy SQLite database.
//!
//! An operation is retried only when it owns its transaction: inside a caller's
//! transaction, MySQL has already rolled the whole of it back, and PostgreSQL has aborted
//! it, so the caller has to decide.

use std::time::Duration;

use crate::error::Error;

/// How many times an operation runs at most.
pub(crate) const MAX_ATTEMPTS: u32 = 8;

/// SQLSTATE 40001 (serialization failure; MySQL's deadlock too), 40P01 (PostgreSQL's
/// deadlock), and SQLite's BUSY, LOCKED, BUSY_RECOVERY and BUSY_SNAPSHOT.
const RETRYABLE: [&str; 6] = ["40001", "40P01", "5", "6", "261", "517"];

/// Whether the database asks for the operation to be run again.
pub(crate) fn retryable(error: &Error) -> bool {
    match error {
        Error::Database {
            source: sqlx::Error::Database(db),
            ..
        } => db
            .code()
            .is_some_and(|code| RETRYABLE.contains(&code.as_ref())),
        _ => false,
    }
}

/// A short, growing pause before attempt `attempt`.
pub(crate) async fn backoff(attempt: u32) {
    tokio::time::sleep(Duration::from_millis(1 << attempt.min(6))).await;
}

/// Evaluates `$body` (an `.await`ed `Result`) until it succeeds, fails for good, or runs
/// out of attempts. `$conn` is the connection: no retry inside a caller's transaction.
macro_rules! retrying {
    ($conn:expr, $body:expr) => {{
        let owns_transaction = !sqlx::Connection::is_in_transaction(&*$conn);
        let mut attempt = 1;
        loop {
            match $body {
                Err(error)
                    if owns_transaction
                        && attempt < $crate::txn::MAX_ATTEMPTS
                        && $crate::txn::retryable(&error) =>
                {
                    $crate::txn::backoff(attempt).await;
                    attempt += 1;
                }
                result => break result,
            }
        }
    }};
}

pub(crate) use retrying;
