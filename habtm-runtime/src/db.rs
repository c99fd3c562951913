//! What a habtm call runs on: a pool, a pooled connection, a transaction or a connection.

use std::future::Future;
use std::ops::DerefMut;

use sqlx::pool::PoolConnection;
use sqlx::{Pool, Transaction};

use crate::backend::Backend;

/// What a habtm call runs on, its `db` argument:
///
/// - `&Pool<DB>`: a connection from the pool for the call;
/// - `&mut PoolConnection<DB>`, or a driver's connection (`&mut SqliteConnection`,
///   `&mut PgConnection`, `&mut MySqlConnection`): that connection;
/// - `&mut Transaction<'_, DB>` (or `&mut *tx` for the connection inside): the call joins the
///   caller's transaction, and a call of several statements takes a savepoint in it.
///
/// Unlike sqlx's `Acquire<'c>`, it has no lifetime parameter, so a future that calls habtm
/// stays `Send` inside boxed closures such as [`transaction`](crate::transaction())'s and sqlx's
/// `Connection::transaction`.
pub trait Db: Send + Sized {
    /// The sqlx driver.
    type Database: Backend;

    /// The connection held for the call.
    #[doc(hidden)]
    type Connection: DerefMut<Target = <Self::Database as sqlx::Database>::Connection> + Send;

    /// The connection to run the call on.
    #[doc(hidden)]
    fn connection(self) -> impl Future<Output = Result<Self::Connection, sqlx::Error>> + Send;

    /// The connection to run a read on: the same as [`connection`](Self::connection) but
    /// for a [`Replicated`](crate::Replicated) primary and replicas, whose reads go to a
    /// replica.
    #[doc(hidden)]
    fn read_connection(self) -> impl Future<Output = Result<Self::Connection, sqlx::Error>> + Send {
        self.connection()
    }
}

impl<DB: Backend> Db for &Pool<DB> {
    type Database = DB;
    type Connection = PoolConnection<DB>;

    fn connection(self) -> impl Future<Output = Result<Self::Connection, sqlx::Error>> + Send {
        self.acquire()
    }
}

impl<'c, DB: Backend> Db for &'c mut PoolConnection<DB> {
    type Database = DB;
    type Connection = &'c mut DB::Connection;

    async fn connection(self) -> Result<Self::Connection, sqlx::Error> {
        Ok(&mut **self)
    }
}

impl<'c, DB: Backend> Db for &'c mut Transaction<'_, DB> {
    type Database = DB;
    type Connection = &'c mut DB::Connection;

    async fn connection(self) -> Result<Self::Connection, sqlx::Error> {
        Ok(&mut **self)
    }
}

/// `Db` for a driver's own connection type.
macro_rules! connection {
    ($feature:literal, $connection:ty, $db:ty) => {
        #[cfg(feature = $feature)]
        impl<'c> Db for &'c mut $connection {
            type Database = $db;
            type Connection = &'c mut $connection;

            async fn connection(self) -> Result<Self::Connection, sqlx::Error> {
                Ok(self)
            }
        }
    };
}

connection!("sqlite", sqlx::SqliteConnection, sqlx::Sqlite);
connection!("postgres", sqlx::PgConnection, sqlx::Postgres);
connection!("mysql", sqlx::MySqlConnection, sqlx::MySql);
