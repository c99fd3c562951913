//! Running again what conflicted with concurrent work: the retry policy, the loop every
//! operation runs in, and [`transaction`], the same for the caller's own transactions.
//!
//! An operation is retried only when it owns its transaction (or is one statement on its
//! own): inside a caller's transaction the database has already rolled back (MySQL) or failed
//! (PostgreSQL) all of it, so only the caller can run it again.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::{Connection, Pool, SqlStr, Transaction};

use crate::backend::Backend;
use crate::dialect::Dialect;
use crate::error::{ConflictKind, Error, Retryable, conflict_kind};

/// How long habtm keeps running again an operation that conflicted with concurrent work.
///
/// Pauses grow exponentially from `first_pause` up to `max_pause`, each drawn at random from
/// its upper half (so that the losers of one conflict do not meet again in step), until the
/// next pause would end past `budget`, counted from the first attempt. A budget of zero
/// turns retries off.
///
/// ```text
/// RetryPolicy { budget: Duration::from_secs(30), ..Default::default() }.install();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The time an operation may take in all its attempts before its conflict is returned.
    pub budget: Duration,
    /// The longest pause before the second attempt.
    pub first_pause: Duration,
    /// The longest pause between two attempts.
    pub max_pause: Duration,
}

impl Default for RetryPolicy {
    /// 10 seconds in all, pauses from up to 2 ms growing to up to 250 ms.
    fn default() -> Self {
        RetryPolicy {
            budget: Duration::from_secs(10),
            first_pause: Duration::from_millis(2),
            max_pause: Duration::from_millis(250),
        }
    }
}

static BUDGET_MICROS: AtomicU64 = AtomicU64::new(10_000_000);
static FIRST_PAUSE_MICROS: AtomicU64 = AtomicU64::new(2_000);
static MAX_PAUSE_MICROS: AtomicU64 = AtomicU64::new(250_000);

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl RetryPolicy {
    /// Makes this the policy of every habtm operation in the process, from the next attempt
    /// on.
    pub fn install(self) {
        BUDGET_MICROS.store(micros(self.budget), Ordering::Relaxed);
        FIRST_PAUSE_MICROS.store(micros(self.first_pause), Ordering::Relaxed);
        MAX_PAUSE_MICROS.store(micros(self.max_pause), Ordering::Relaxed);
    }

    /// The policy in force.
    pub fn current() -> Self {
        RetryPolicy {
            budget: Duration::from_micros(BUDGET_MICROS.load(Ordering::Relaxed)),
            first_pause: Duration::from_micros(FIRST_PAUSE_MICROS.load(Ordering::Relaxed)),
            max_pause: Duration::from_micros(MAX_PAUSE_MICROS.load(Ordering::Relaxed)),
        }
    }
}

/// The attempts of one operation: how many so far, and whether another one fits the budget.
pub(crate) struct Attempts {
    policy: RetryPolicy,
    started: Instant,
    count: u32,
}

impl Attempts {
    pub(crate) fn new() -> Self {
        Attempts {
            policy: RetryPolicy::current(),
            started: Instant::now(),
            count: 1,
        }
    }

    pub(crate) fn count(&self) -> u32 {
        self.count
    }

    /// Sleeps before the next attempt and returns `true`, or returns `false` when the pause
    /// would end past the budget.
    pub(crate) async fn pause(&mut self, operation: &(dyn std::fmt::Display + Sync)) -> bool {
        let growth = 1u32 << (self.count - 1).min(16);
        let ceiling = self
            .policy
            .first_pause
            .saturating_mul(growth)
            .min(self.policy.max_pause);
        let half = ceiling / 2;
        let pause = half + half.mul_f64(fastrand::f64());
        if self.started.elapsed() + pause > self.policy.budget {
            return false;
        }
        tracing::debug!(
            target: "habtm::retry",
            operation = %operation,
            attempt = self.count + 1,
            pause_us = pause.as_micros() as u64,
            "conflict with concurrent work; running the operation again"
        );
        tokio::time::sleep(pause).await;
        self.count += 1;
        true
    }
}

/// Whether `error` is a conflict, and what it did to its transaction.
pub(crate) fn conflict(error: &Error) -> Option<ConflictKind> {
    match error {
        Error::Database { source, .. } | Error::Conflict { source, .. } => conflict_kind(source),
        _ => None,
    }
}

/// Turns the last conflict of an operation into [`Error::Conflict`]. Inside the caller's
/// transaction on MySQL, whose server has rolled that transaction back and left the
/// connection in autocommit, it opens a read-only transaction in its place: the caller's
/// later writes through it then fail instead of committing one by one, and its commit or
/// rollback ends it.
pub(crate) async fn give_up<DB: Backend>(
    conn: &mut DB::Connection,
    error: Error,
    kind: ConflictKind,
    attempts: u32,
    in_transaction: bool,
) -> Error {
    let (operation, source) = match error {
        Error::Database { operation, source }
        | Error::Conflict {
            operation, source, ..
        } => (operation, source),
        other => return other,
    };
    if in_transaction && kind == ConflictKind::Transaction && DB::DIALECT == Dialect::MySql {
        // The first call may only report the failed rollback of a savepoint that the
        // server already dropped with the transaction.
        for _ in 0..2 {
            if DB::execute_raw(conn, "START TRANSACTION READ ONLY")
                .await
                .is_ok()
            {
                break;
            }
        }
    }
    tracing::debug!(
        target: "habtm::retry",
        operation = %operation,
        attempts,
        in_transaction,
        "conflict with concurrent work; giving up"
    );
    Error::Conflict {
        operation,
        attempts,
        in_transaction,
        source,
    }
}

/// Readies a connection for the next attempt after a conflict. MySQL rolls back the whole
/// transaction of a deadlock, savepoints included, so the queued rollback of an operation's
/// inner savepoint fails when the connection next runs a statement: that failure is taken
/// here (outside any caller's transaction, a `ROLLBACK` has nothing else to undo), not by the
/// next attempt.
pub(crate) async fn settle<DB: Backend>(conn: &mut DB::Connection, kind: ConflictKind) {
    if DB::DIALECT == Dialect::MySql && kind == ConflictKind::Transaction {
        for _ in 0..2 {
            if DB::execute_raw(conn, "ROLLBACK").await.is_ok() {
                break;
            }
        }
    }
}

/// Evaluates `$body` (an `.await`ed `Result`) until it succeeds, fails for good, or its
/// conflicts outlast the retry budget. `$conn` is the connection it runs on: inside the
/// caller's transaction it runs once.
macro_rules! retrying {
    ($db:ty, $conn:expr, $op:expr, $body:expr) => {{
        let in_transaction = ::sqlx::Connection::is_in_transaction(&*$conn);
        let mut attempts = $crate::retry::Attempts::new();
        loop {
            match $body {
                Err(error) => match $crate::retry::conflict(&error) {
                    Some(kind) if !in_transaction && attempts.pause(&$op).await => {
                        $crate::retry::settle::<$db>(&mut *$conn, kind).await;
                    }
                    Some(kind) => {
                        break Err($crate::retry::give_up::<$db>(
                            &mut *$conn,
                            error,
                            kind,
                            attempts.count(),
                            in_transaction,
                        )
                        .await);
                    }
                    None => break Err(error),
                },
                ok => break ok,
            }
        }
    }};
}

pub(crate) use retrying;

/// Opens the transaction an operation runs in: on SQLite `BEGIN IMMEDIATE`, which takes the
/// write lock at once instead of failing as BUSY when a read turns into a write; inside the
/// caller's transaction, a savepoint.
pub(crate) async fn begin<DB: Backend>(
    conn: &mut DB::Connection,
) -> Result<Transaction<'_, DB>, sqlx::Error> {
    if DB::DIALECT == Dialect::Sqlite && !conn.is_in_transaction() {
        conn.begin_with(SqlStr::from_static("BEGIN IMMEDIATE"))
            .await
    } else {
        conn.begin().await
    }
}

/// A boxed future that can move between threads: what the closure of [`transaction`]
/// returns (`|tx| Box::pin(async move { ... })`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs `body` in a transaction on `pool` and commits it; when `body` or the commit fails
/// with a conflict ([`Retryable::is_retryable`]), rolls back and runs it again, under the
/// [`RetryPolicy`]. Any other error rolls back and is returned. On SQLite the transaction
/// begins with `BEGIN IMMEDIATE`.
///
/// `body` may run several times: keep its effects inside the transaction.
///
/// ```text
/// let engine = habtm::transaction(&pool, |tx| {
///     let part = part.clone();
///     Box::pin(async move {
///         let engine = Assembly::create(&mut **tx, NewAssembly { name: "engine".into() }).await?;
///         engine.parts().add(&mut **tx, part.id).await?;
///         Ok::<_, habtm::Error>(engine)
///     })
/// })
/// .await?;
/// ```
///
/// The closure takes what it needs by value (`clone` it in): it may run more than once, and
/// its future must be `'static` but for the transaction.
pub async fn transaction<DB, T, E, F>(pool: &Pool<DB>, mut body: F) -> Result<T, E>
where
    DB: Backend,
    F: for<'t> FnMut(&'t mut Transaction<'static, DB>) -> BoxFuture<'t, Result<T, E>> + Send,
    T: Send,
    E: From<Error> + Retryable + Send,
{
    let operation = "transaction";
    let mut attempts = Attempts::new();
    loop {
        let result = attempt(pool, &mut body).await;
        match result {
            Err(error) if error.is_retryable() && attempts.pause(&operation).await => {}
            result => return result,
        }
    }
}

async fn attempt<DB, T, E, F>(pool: &Pool<DB>, body: &mut F) -> Result<T, E>
where
    DB: Backend,
    F: for<'t> FnMut(&'t mut Transaction<'static, DB>) -> BoxFuture<'t, Result<T, E>> + Send,
    E: From<Error>,
{
    let context = |source| Error::Database {
        operation: "transaction".into(),
        source,
    };
    let mut tx = if DB::DIALECT == Dialect::Sqlite {
        pool.begin_with(SqlStr::from_static("BEGIN IMMEDIATE"))
            .await
    } else {
        pool.begin().await
    }
    .map_err(|e| E::from(context(e)))?;
    match body(&mut tx).await {
        Ok(value) => {
            tx.commit().await.map_err(|e| E::from(context(e)))?;
            Ok(value)
        }
        Err(error) => {
            // The database may have ended the transaction already; the error that matters
            // is the body's.
            let _ = tx.rollback().await;
            Err(error)
        }
    }
}
