//! The test harness: one isolated database per test on each backend, and the macro that runs
//! one test body on all three.
//!
//! SQLite always runs, on a fresh file. PostgreSQL and MySQL run against the servers named by
//! `HABTM_TEST_POSTGRES` and `HABTM_TEST_MYSQL` (default: the local servers on their standard
//! ports); each test gets its own schema or database and drops it when it passes. A server
//! that does not answer makes its tests pass without running, with a notice on stderr, unless
//! `CI=true`, where it is a failure.

pub mod lint_fixture;
pub mod proxy;

use std::future::Future;
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use habtm::Backend;
use habtm::sqlx::{self, Connection, Pool};

/// Runs `case` on a fresh database of backend `DB`; panics with the whole error chain if it fails.
pub async fn run<DB, F, Fut>(case: &str, body: F)
where
    DB: TestBackend,
    F: FnOnce(Pool<DB>) -> Fut,
    Fut: Future<Output = habtm::Result<()>>,
{
    let Some(db) = DB::open(case).await else {
        return;
    };
    if let Err(error) = body(db.pool.clone()).await {
        panic!("{case} on {}: {}", DB::LABEL, chain(&error));
    }
    db.close().await;
}

/// An error with its sources: `a: b: c`.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A database made for one test.
pub struct TestDb<DB: sqlx::Database> {
    pub pool: Pool<DB>,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Server { admin_url: String, sql: String },
}

impl<DB: TestBackend> TestDb<DB> {
    /// Closes the pool and removes the database.
    pub async fn close(self) {
        self.pool.close().await;
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Server { admin_url, sql } => {
                if let Ok(mut conn) = DB::Connection::connect(&admin_url).await {
                    let sql = sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(sql));
                    let _ = DB::execute(&mut conn, sql, Default::default()).await;
                }
            }
        }
    }
}

/// A backend the harness can make test databases on.
pub trait TestBackend: Backend {
    const LABEL: &'static str;
    /// A fresh database for `case`, or `None` when its server is not there (outside CI).
    fn open(case: &str) -> impl Future<Output = Option<TestDb<Self>>>;
}

/// A name unique to this process and call: `habtm_<case>_<pid>_<n>`.
fn unique_name(case: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let case: String = case
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let case = &case[case.len().saturating_sub(30)..];
    format!(
        "habtm_{case}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestBackend for sqlx::Sqlite {
    const LABEL: &'static str = "SQLite";

    async fn open(case: &str) -> Option<TestDb<Self>> {
        let dir = std::env::temp_dir().join("habtm-tests");
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("{}.db", unique_name(case)));
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(30));
        let pool = sqlx::pool::PoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .expect("open SQLite file");
        Some(TestDb {
            pool,
            cleanup: Cleanup::File(path),
        })
    }
}

/// A server the tests can use, from its environment variable or the local default.
struct Server {
    label: &'static str,
    env: &'static str,
    default_url: &'static str,
}

const POSTGRES: Server = Server {
    label: "PostgreSQL",
    env: "HABTM_TEST_POSTGRES",
    default_url: "postgres://postgres@127.0.0.1:5432/postgres",
};

const MYSQL: Server = Server {
    label: "MySQL",
    env: "HABTM_TEST_MYSQL",
    default_url: "mysql://root@127.0.0.1:3306/test",
};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

impl Server {
    fn url(&self) -> String {
        std::env::var(self.env).unwrap_or_else(|_| self.default_url.to_owned())
    }

    /// `host:port` of a URL such as `postgres://user@host:5432/db`.
    fn address(url: &str) -> Option<String> {
        let rest = url.split_once("://")?.1;
        let authority = rest.split(['/', '?']).next()?;
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        Some(host.to_owned())
    }

    /// The URL if the server answers; otherwise a notice (or, under CI, a failure).
    fn available(&'static self, reachable: &'static OnceLock<bool>) -> Option<String> {
        let url = self.url();
        let up = *reachable.get_or_init(|| {
            let up = Self::address(&url)
                .and_then(|a| a.to_socket_addrs().ok())
                .into_iter()
                .flatten()
                .any(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok());
            if !up && !in_ci() {
                // Straight to stderr: the test harness captures `eprintln!` of passing tests.
                let _ = writeln!(
                    std::io::stderr(),
                    "\nhabtm-tests: {} at {url} does not answer: its tests are SKIPPED (they pass \
                     without running). Start the server or set {} to its URL; with CI=true this is a failure.\n",
                    self.label, self.env
                );
            }
            up
        });
        if !up && in_ci() {
            panic!(
                "{} at {url} does not answer and CI=true requires it: start it or set {}",
                self.label, self.env
            );
        }
        up.then_some(url)
    }
}

impl TestBackend for sqlx::Postgres {
    const LABEL: &'static str = "PostgreSQL";

    async fn open(case: &str) -> Option<TestDb<Self>> {
        static UP: OnceLock<bool> = OnceLock::new();
        let url = POSTGRES.available(&UP)?;
        let schema = unique_name(case);
        let mut admin = sqlx::PgConnection::connect(&url)
            .await
            .expect("connect to PostgreSQL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
            .execute(&mut admin)
            .await
            .expect("create schema");
        let options = sqlx::postgres::PgConnectOptions::from_str(&url)
            .expect("PostgreSQL URL")
            .options([("search_path", schema.as_str())]);
        let pool = sqlx::pool::PoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .expect("PostgreSQL pool");
        let sql = format!("DROP SCHEMA \"{schema}\" CASCADE");
        Some(TestDb {
            pool,
            cleanup: Cleanup::Server {
                admin_url: url,
                sql,
            },
        })
    }
}

impl TestBackend for sqlx::MySql {
    const LABEL: &'static str = "MySQL";

    async fn open(case: &str) -> Option<TestDb<Self>> {
        static UP: OnceLock<bool> = OnceLock::new();
        let url = MYSQL.available(&UP)?;
        let database = unique_name(case);
        let mut admin = sqlx::MySqlConnection::connect(&url)
            .await
            .expect("connect to MySQL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{database}`")))
            .execute(&mut admin)
            .await
            .expect("create database");
        let options = sqlx::mysql::MySqlConnectOptions::from_str(&url)
            .expect("MySQL URL")
            .database(&database);
        let pool = sqlx::pool::PoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .expect("MySQL pool");
        let sql = format!("DROP DATABASE `{database}`");
        Some(TestDb {
            pool,
            cleanup: Cleanup::Server {
                admin_url: url,
                sql,
            },
        })
    }
}

/// Runs each named `async fn case<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()>` on
/// SQLite, PostgreSQL and MySQL, as the tests `sqlite::case`, `postgres::case`, `mysql::case`.
#[macro_export]
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        $crate::on_every_backend!(@backend sqlite, ::habtm::sqlx::Sqlite, $($case),*);
        $crate::on_every_backend!(@backend postgres, ::habtm::sqlx::Postgres, $($case),*);
        $crate::on_every_backend!(@backend mysql, ::habtm::sqlx::MySql, $($case),*);
    };
    (@backend $module:ident, $db:ty, $($case:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    $crate::run::<$db, _, _>(
                        concat!(stringify!($module), "_", stringify!($case)),
                        |pool| async move { super::$case(&pool).await },
                    )
                    .await;
                }
            )*
        }
    };
}

/// Raw SQL for assertions that must look past habtm: counts, catalog rows.
pub mod raw {
    use habtm::sqlx::{self, Pool, SqlSafeStr};
    use habtm::{Backend, Dialect};

    fn sql(text: &str) -> sqlx::SqlStr {
        sqlx::AssertSqlSafe(text.to_owned()).into_sql_str()
    }

    /// `name` quoted for `DB`.
    pub fn q<DB: Backend>(name: &str) -> String {
        DB::DIALECT.quote(name)
    }

    /// Runs a statement; returns the rows it changed.
    pub async fn execute<DB: Backend>(pool: &Pool<DB>, text: &str) -> habtm::Result<u64> {
        let mut conn = pool.acquire().await?;
        Ok(DB::execute(&mut conn, sql(text), Default::default()).await?)
    }

    /// The first column of the first row, as an integer.
    pub async fn int<DB: Backend>(pool: &Pool<DB>, text: &str) -> habtm::Result<i64> {
        let mut conn = pool.acquire().await?;
        let row = DB::fetch_optional(&mut conn, sql(text), Default::default()).await?;
        Ok(DB::get::<i64>(&row.expect("a row"), 0)?)
    }

    /// Every row, each column as text.
    pub async fn texts<DB: Backend>(
        pool: &Pool<DB>,
        text: &str,
        columns: usize,
    ) -> habtm::Result<Vec<Vec<String>>> {
        let mut conn = pool.acquire().await?;
        let rows = DB::fetch_all(&mut conn, sql(text), Default::default()).await?;
        rows.iter()
            .map(|row| {
                (0..columns)
                    .map(|i| DB::get::<String>(row, i).map_err(Into::into))
                    .collect()
            })
            .collect()
    }

    /// `SELECT COUNT(*) FROM <table>`.
    pub async fn count_rows<DB: Backend>(pool: &Pool<DB>, table: &str) -> habtm::Result<i64> {
        int(pool, &format!("SELECT COUNT(*) FROM {}", q::<DB>(table))).await
    }

    /// The dialect of `DB`.
    pub fn dialect<DB: Backend>() -> Dialect {
        DB::DIALECT
    }
}
