//! Read routing: a primary and its read replicas behind one `db` argument. Writes, and every
//! call inside a transaction, run on the primary; reads on a replica, in turn, or, where the
//! caller asks for its own writes, on a replica that has replayed the primary's position.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Pool, SqlStr};

use crate::backend::{Backend, bind};
use crate::db::Db;
use crate::dialect::Dialect;

/// A primary and its read replicas, as a `db` argument: `Part::find(&replicated, filter)`
/// reads on a replica, `Part::create(&replicated, new)` writes on the primary.
///
/// A replica lags its primary: a read right after a write may not see it. Where that
/// matters, read through [`read_your_writes`](Self::read_your_writes). A transaction runs
/// on the primary (`replicated.primary().begin()`), its reads included.
///
/// ```text
/// let db = Replicated::new(primary_pool, vec![replica_pool]);
/// assembly.parts().add(&db, part.id).await?;                      // the primary
/// let parts = assembly.parts().all(&db.read_your_writes()).await?; // sees the add
/// ```
#[derive(Debug)]
pub struct Replicated<DB: Backend> {
    primary: Pool<DB>,
    replicas: Vec<Pool<DB>>,
    next: Arc<AtomicUsize>,
}

impl<DB: Backend> Clone for Replicated<DB> {
    /// The same pools, and the same turn of replicas.
    fn clone(&self) -> Self {
        Replicated {
            primary: self.primary.clone(),
            replicas: self.replicas.clone(),
            next: Arc::clone(&self.next),
        }
    }
}

impl<DB: Backend> Replicated<DB> {
    /// Writes to `primary`, reads to `replicas` in turn (to the primary if there are none).
    pub fn new(primary: Pool<DB>, replicas: Vec<Pool<DB>>) -> Self {
        Replicated {
            primary,
            replicas,
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The primary's pool.
    pub fn primary(&self) -> &Pool<DB> {
        &self.primary
    }

    /// The replicas' pools.
    pub fn replicas(&self) -> &[Pool<DB>] {
        &self.replicas
    }

    /// The pool of the next read: the replicas in turn, or the primary without any.
    pub fn reader(&self) -> &Pool<DB> {
        if self.replicas.is_empty() {
            return &self.primary;
        }
        let next = self.next.fetch_add(1, Ordering::Relaxed);
        &self.replicas[next % self.replicas.len()]
    }

    /// Reads that see every write the primary had committed when each read began: the
    /// replica first waits (up to `wait`, one second unless [`ReadYourWrites::wait`] says
    /// otherwise) until it has replayed the primary's position, and the read goes to the
    /// primary if it has not. PostgreSQL compares WAL positions (`pg_current_wal_lsn()`,
    /// `pg_last_wal_replay_lsn()`), MariaDB GTID positions (`@@gtid_binlog_pos`,
    /// `MASTER_GTID_WAIT`); elsewhere the reads go to the primary.
    pub fn read_your_writes(&self) -> ReadYourWrites<'_, DB> {
        ReadYourWrites {
            replicated: self,
            wait: Duration::from_secs(1),
        }
    }
}

impl<DB: Backend> Db for &Replicated<DB> {
    type Database = DB;
    type Connection = PoolConnection<DB>;

    fn connection(self) -> impl Future<Output = Result<Self::Connection, sqlx::Error>> + Send {
        self.primary.acquire()
    }

    fn read_connection(self) -> impl Future<Output = Result<Self::Connection, sqlx::Error>> + Send {
        self.reader().acquire()
    }
}

/// Reads through a [`Replicated`] that see the caller's own writes; see
/// [`Replicated::read_your_writes`].
#[derive(Debug, Clone, Copy)]
pub struct ReadYourWrites<'r, DB: Backend> {
    replicated: &'r Replicated<DB>,
    wait: Duration,
}

impl<'r, DB: Backend> ReadYourWrites<'r, DB> {
    /// How long a read waits for a replica to catch up before it goes to the primary.
    #[must_use]
    pub fn wait(self, wait: Duration) -> Self {
        ReadYourWrites { wait, ..self }
    }
}

impl<'a, 'r, DB: Backend> Db for &'a ReadYourWrites<'r, DB> {
    type Database = DB;
    type Connection = PoolConnection<DB>;

    fn connection(self) -> impl Future<Output = Result<Self::Connection, sqlx::Error>> + Send {
        self.replicated.primary.acquire()
    }

    async fn read_connection(self) -> Result<Self::Connection, sqlx::Error> {
        let replicated = self.replicated;
        if replicated.replicas.is_empty() || DB::DIALECT == Dialect::Sqlite {
            return replicated.primary.acquire().await;
        }
        let position = {
            let mut primary = replicated.primary.acquire().await?;
            match primary_position::<DB>(&mut primary).await {
                Ok(Some(position)) => position,
                // No position to wait for (a server without GTIDs): the primary reads.
                Ok(None) | Err(_) => return Ok(primary),
            }
        };
        let mut replica = replicated.reader().acquire().await?;
        if caught_up::<DB>(&mut replica, &position, self.wait).await {
            Ok(replica)
        } else {
            replicated.primary.acquire().await
        }
    }
}

fn text(sql: &'static str) -> SqlStr {
    SqlStr::from_static(sql)
}

/// The primary's current write position, as text.
async fn primary_position<DB: Backend>(
    conn: &mut DB::Connection,
) -> Result<Option<String>, sqlx::Error> {
    let sql = match DB::DIALECT {
        Dialect::Postgres => "SELECT CAST(pg_current_wal_lsn() AS TEXT)",
        Dialect::MySql => "SELECT CAST(@@gtid_binlog_pos AS CHAR)",
        Dialect::Sqlite => return Ok(None),
    };
    let row = DB::fetch_optional(conn, text(sql), DB::Arguments::default()).await?;
    let position: Option<String> = match row {
        Some(row) => DB::get(&row, 0)?,
        None => None,
    };
    Ok(position.filter(|p| !p.is_empty()))
}

/// Whether the replica has replayed `position` within `wait`.
async fn caught_up<DB: Backend>(conn: &mut DB::Connection, position: &str, wait: Duration) -> bool {
    let started = Instant::now();
    let position = position.to_owned();
    match DB::DIALECT {
        Dialect::Postgres => loop {
            let mut args = DB::Arguments::default();
            if bind::<DB, String>(&mut args, &position).is_err() {
                return false;
            }
            let sql = "SELECT COALESCE(pg_last_wal_replay_lsn() >= CAST($1 AS pg_lsn), TRUE)";
            let done = match DB::fetch_optional(conn, text(sql), args).await {
                Ok(Some(row)) => DB::get::<bool>(&row, 0).unwrap_or(false),
                _ => return false,
            };
            if done {
                return true;
            }
            if started.elapsed() >= wait {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        },
        Dialect::MySql => {
            let mut args = DB::Arguments::default();
            let seconds = wait.as_secs_f64();
            if bind::<DB, String>(&mut args, &position).is_err()
                || bind::<DB, f64>(&mut args, &seconds).is_err()
            {
                return false;
            }
            let sql = "SELECT MASTER_GTID_WAIT(?, ?)";
            match DB::fetch_optional(conn, text(sql), args).await {
                Ok(Some(row)) => DB::get::<i64>(&row, 0).is_ok_and(|r| r == 0),
                _ => false,
            }
        }
        Dialect::Sqlite => true,
    }
}
