//! habtm's relation operations against the same SQL written by hand with sqlx, and against
//! SeaORM 2.x with a junction entity, on SQLite in memory, SQLite on a file, PostgreSQL and
//! MariaDB/MySQL (against SeaORM only), each server reached directly and through a proxy
//! that adds 0.5 ms to every round trip (`postgres_remote`, `mysql_remote`), as a server on
//! another machine would.
//!
//! ```sh
//! cargo bench -p habtm-benches                     # everything; the report goes to stdout
//! cargo bench -p habtm-benches -- sqlite_memory/   # only the cases whose name contains it
//! ```
//!
//! With `HABTM_BENCH_SHOW_SQL=1` it prints the statements each implementation runs instead
//! of timing them. Before timing, it checks that the hand-written sqlx code runs exactly
//! habtm's statements wherever it claims to, and stops if not.
//!
//! PostgreSQL is reached at `HABTM_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); the benchmark creates the database
//! `habtm_bench` there and drops it at the end; MySQL likewise at `HABTM_TEST_MYSQL`
//! (default `mysql://root@127.0.0.1:3306/test`). A server that does not answer is skipped.

mod capture;
mod cases;
mod entities;
mod harness;
mod sql;

use std::fmt::Write;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use habtm::Model;
use sea_orm::{SqlxMySqlConnector, SqlxPostgresConnector, SqlxSqliteConnector};
use sqlx::mysql::MySqlConnectOptions;
use sqlx::pool::PoolOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use cases::BackendResult;
use harness::{CaseResult, IMPLS, Result, fmt_duration, ratio};
use sql::Sql;

#[derive(Debug, Clone, PartialEq, Model)]
#[model(plural = "Assemblies")]
#[relation(has_and_belongs_to_many, model = "Part")]
pub struct Assembly {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Assembly")]
pub struct Part {
    pub id: i64,
    pub part_number: String,
}

/// Prepared statements kept per connection: the three implementations share one connection,
/// so sqlx's default of 100 would evict statements between them.
const STATEMENT_CACHE: usize = 1_024;

/// One connection, never tested, closed or recycled during the run (an in-memory SQLite
/// database lives as long as its connection).
fn pool_options<DB: sqlx::Database>() -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .test_before_acquire(false)
        .idle_timeout(None)
        .max_lifetime(None)
}

/// Whether some case of backend `key` is named (`backend/case`) by one of `filters`.
fn selected(filters: &[String], key: &str) -> bool {
    filters.is_empty()
        || cases::KEYS.iter().any(|case| {
            let name = format!("{key}/{case}");
            filters.iter().any(|f| name.contains(f.as_str()))
        })
}

async fn sqlite_memory(filters: &[String]) -> Result<BackendResult> {
    let options = SqliteConnectOptions::from_str("sqlite::memory:")?
        .statement_cache_capacity(STATEMENT_CACHE);
    let pool = pool_options().connect_with(options).await?;
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&pool)
        .await?;
    let orm = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone());
    let ctx = cases::sqlite::setup(pool.clone(), orm, Sql::new(false, false), 10_000).await?;
    let results = cases::sqlite::bench("SQLite in memory", "sqlite_memory", &ctx, filters).await?;
    pool.close().await;
    Ok(BackendResult {
        label: "SQLite in memory".into(),
        notes: vec![format!(
            "SQLite {version} (bundled by sqlx), `sqlite::memory:`, one connection."
        )],
        results,
    })
}

async fn sqlite_file(filters: &[String]) -> Result<BackendResult> {
    let path = concat!(env!("CARGO_TARGET_TMPDIR"), "/habtm-bench.sqlite");
    let remove = || {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    };
    remove();
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .statement_cache_capacity(STATEMENT_CACHE);
    let pool = pool_options().connect_with(options).await?;
    let settings: (String, i64) = (
        sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&pool)
            .await?,
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&pool)
            .await?,
    );
    let orm = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone());
    let outcome = async {
        let ctx = cases::sqlite::setup(pool.clone(), orm, Sql::new(false, false), 1_000).await?;
        cases::sqlite::bench("SQLite file", "sqlite_file", &ctx, filters).await
    }
    .await;
    pool.close().await;
    remove();
    Ok(BackendResult {
        label: "SQLite on a file".into(),
        notes: vec![format!(
            "A file under `target/tmp`, sqlx's defaults: journal_mode={}, synchronous={} \
             (2 = FULL: every commit waits for the disk). One connection.",
            settings.0, settings.1
        )],
        results: outcome?,
    })
}

const BENCH_DATABASE: &str = "habtm_bench";

/// The round trip `postgres_remote` adds through its proxy: half each way.
const REMOTE_ROUND_TRIP: Duration = Duration::from_micros(500);

async fn postgres(filters: &[String]) -> Result<Option<BackendResult>> {
    postgres_through(filters, "postgres", None).await
}

/// PostgreSQL as if on another machine: every byte each way held 250 µs by a proxy on
/// 127.0.0.1.
async fn postgres_remote(filters: &[String]) -> Result<Option<BackendResult>> {
    postgres_through(filters, "postgres_remote", Some(REMOTE_ROUND_TRIP)).await
}

async fn postgres_through(
    filters: &[String],
    key: &str,
    round_trip: Option<Duration>,
) -> Result<Option<BackendResult>> {
    let url = std::env::var("HABTM_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin_options = PgConnectOptions::from_str(&url)?;
    let admin = PoolOptions::<sqlx::Postgres>::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(admin_options.clone())
        .await;
    let admin = match admin {
        Ok(admin) => admin,
        Err(error) => {
            eprintln!("PostgreSQL at {url} does not answer ({error}): skipped");
            return Ok(None);
        }
    };
    let drop = format!("DROP DATABASE IF EXISTS {BENCH_DATABASE}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop.clone()))
        .execute(&admin)
        .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {BENCH_DATABASE}"
    )))
    .execute(&admin)
    .await?;
    let mut options = admin_options
        .clone()
        .database(BENCH_DATABASE)
        .statement_cache_capacity(STATEMENT_CACHE);
    let mut label = "PostgreSQL".to_owned();
    if let Some(round_trip) = round_trip {
        let upstream = format!("{}:{}", admin_options.get_host(), admin_options.get_port());
        let proxy = habtm_tests::proxy::Proxy::start(&upstream, round_trip / 2)?;
        options = options.host("127.0.0.1").port(proxy.port());
        label = format!(
            "PostgreSQL through a proxy adding {} µs per round trip",
            round_trip.as_micros()
        );
    }
    let outcome = async {
        let pool = pool_options().connect_with(options).await?;
        let mut settings = Vec::new();
        for name in [
            "server_version",
            "synchronous_commit",
            "fsync",
            "shared_buffers",
        ] {
            let value: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SHOW {name}")))
                .fetch_one(&pool)
                .await?;
            settings.push(format!("{name}={value}"));
        }
        let orm = SqlxPostgresConnector::from_sqlx_postgres_pool(pool.clone());
        let results = async {
            let ctx =
                cases::postgres::setup(pool.clone(), orm, Sql::new(true, false), 10_000).await?;
            cases::postgres::bench(&label, key, &ctx, filters).await
        }
        .await;
        pool.close().await;
        Ok::<_, harness::Error>((settings, results?))
    }
    .await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
        .execute(&admin)
        .await?;
    admin.close().await;
    let (settings, results) = outcome?;
    Ok(Some(BackendResult {
        label,
        notes: vec![format!(
            "Local server over TCP (127.0.0.1){}, one connection; {}.",
            if round_trip.is_some() {
                ", reached through a proxy on 127.0.0.1 that holds every chunk of bytes \
                 250 µs each way (`habtm_tests::proxy`)"
            } else {
                ""
            },
            settings.join(", ")
        )],
        results,
    }))
}

async fn mysql(filters: &[String]) -> Result<Option<BackendResult>> {
    mysql_through(filters, "mysql", None).await
}

/// MariaDB/MySQL as if on another machine, through the same proxy as `postgres_remote`.
async fn mysql_remote(filters: &[String]) -> Result<Option<BackendResult>> {
    mysql_through(filters, "mysql_remote", Some(REMOTE_ROUND_TRIP)).await
}

async fn mysql_through(
    filters: &[String],
    key: &str,
    round_trip: Option<Duration>,
) -> Result<Option<BackendResult>> {
    let url = std::env::var("HABTM_TEST_MYSQL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let admin_options = MySqlConnectOptions::from_str(&url)?;
    let admin = PoolOptions::<sqlx::MySql>::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(admin_options.clone())
        .await;
    let admin = match admin {
        Ok(admin) => admin,
        Err(error) => {
            eprintln!("MySQL at {url} does not answer ({error}): skipped");
            return Ok(None);
        }
    };
    let drop_database = format!("DROP DATABASE IF EXISTS {BENCH_DATABASE}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop_database.clone()))
        .execute(&admin)
        .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {BENCH_DATABASE}"
    )))
    .execute(&admin)
    .await?;
    let mut options = admin_options
        .clone()
        .database(BENCH_DATABASE)
        .statement_cache_capacity(STATEMENT_CACHE);
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(&admin)
        .await?;
    let server = if version.contains("MariaDB") {
        "MariaDB"
    } else {
        "MySQL"
    };
    let mut label = server.to_owned();
    if let Some(round_trip) = round_trip {
        let upstream = format!("{}:{}", admin_options.get_host(), admin_options.get_port());
        let proxy = habtm_tests::proxy::Proxy::start(&upstream, round_trip / 2)?;
        options = options.host("127.0.0.1").port(proxy.port());
        label = format!(
            "{server} through a proxy adding {} µs per round trip",
            round_trip.as_micros()
        );
    }
    let outcome = async {
        // The set-up's own statements quote names as PostgreSQL and SQLite do.
        let pool = pool_options::<sqlx::MySql>()
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::raw_sql("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')")
                        .execute(conn)
                        .await
                        .map(drop)
                })
            })
            .connect_with(options)
            .await?;
        let mut settings = vec![format!("version={version}")];
        for name in [
            "innodb_flush_log_at_trx_commit",
            "innodb_buffer_pool_size",
            "log_bin",
        ] {
            let value: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(@@{name} AS CHAR)"
            )))
            .fetch_one(&pool)
            .await?;
            settings.push(format!("{name}={value}"));
        }
        let orm = SqlxMySqlConnector::from_sqlx_mysql_pool(pool.clone());
        let results = async {
            let ctx = cases::mysql::setup(pool.clone(), orm, Sql::new(false, true), 10_000).await?;
            cases::mysql::bench(&label, key, &ctx, filters).await
        }
        .await;
        pool.close().await;
        Ok::<_, harness::Error>((settings, results?))
    }
    .await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop_database))
        .execute(&admin)
        .await?;
    admin.close().await;
    let (settings, results) = outcome?;
    Ok(Some(BackendResult {
        label,
        notes: vec![format!(
            "Local server over TCP (127.0.0.1){}, one connection; {}. habtm against SeaORM: \
             habtm's statements are not written out by hand for MySQL.",
            if round_trip.is_some() {
                ", reached through a proxy on 127.0.0.1 that holds every chunk of bytes \
                 250 µs each way (`habtm_tests::proxy`)"
            } else {
                ""
            },
            settings.join(", ")
        )],
        results,
    }))
}

fn shell(command: &str, args: &[&str]) -> String {
    std::process::Command::new(command)
        .args(args)
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn proc_field(file: &str, field: &str) -> String {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_once(':'))
        .map(|(_, value)| value.trim().to_owned())
        .unwrap_or_default()
}

fn machine() -> Vec<String> {
    vec![
        format!("date: {}", shell("date", &[])),
        format!(
            "machine: {} cores (`nproc --all`), this process may use {} (`nproc`), CPU `{}`, memory {}",
            shell("nproc", &["--all"]),
            shell("nproc", &[]),
            proc_field("/proc/cpuinfo", "model name"),
            proc_field("/proc/meminfo", "MemTotal"),
        ),
        format!(
            "load average when the run started: {}",
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
        ),
        format!("toolchain: {}", shell("rustc", &["--version"])),
    ]
}

fn find<'a>(results: &'a [CaseResult], key: &str) -> Option<&'a CaseResult> {
    results.iter().find(|r| r.key == key)
}

fn median(results: &[CaseResult], key: &str, implementation: usize) -> Option<Duration> {
    find(results, key)?.stats[implementation].map(|s| s.median)
}

fn report(machine: &[String], backends: &[BackendResult], skipped: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## Results\n");
    for line in machine {
        let _ = writeln!(out, "- {line}");
    }
    let _ = writeln!(out, "- command: `cargo bench -p habtm-benches`");
    for line in skipped {
        let _ = writeln!(out, "- {line}");
    }
    let _ = writeln!(
        out,
        "\nEach figure is the median time of one operation (`op`) or one call (`call`) over \
         the samples; a sample times a batch of operations, and the samples of the \
         implementations of a row alternate. Ratios are habtm's median over the other's: \
         below 1 means habtm is faster.\n"
    );
    for backend in backends {
        let r = &backend.results;
        let _ = writeln!(out, "### {}\n", backend.label);
        for note in &backend.notes {
            let _ = writeln!(out, "{note}\n");
        }
        let _ = writeln!(
            out,
            "| operation | per | habtm | sqlx | SeaORM | habtm / sqlx | habtm / SeaORM |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|");
        for result in r {
            let cell = |i: usize| {
                result.stats[i].map_or_else(|| "—".to_owned(), |s| fmt_duration(s.median))
            };
            let versus = |i: usize| match (result.stats[0], result.stats[i]) {
                (Some(a), Some(b)) => format!("{:.2}", ratio(a.median, b.median)),
                _ => "—".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                result.title,
                result.unit,
                cell(0),
                cell(1),
                cell(2),
                versus(1),
                versus(2)
            );
        }
        let _ = writeln!(out);
        let mut derived = Vec::new();
        for (i, name) in IMPLS.iter().enumerate() {
            if let (Some(eager), Some(n1)) = (median(r, "eager", i), median(r, "n_plus_1", i)) {
                derived.push(format!(
                    "eager loading against the N+1 loop, {name}: {:.1}× faster",
                    ratio(n1, eager)
                ));
            }
        }
        if let (Some(many), Some(looped), Some(result)) = (
            median(r, "add_many", 0),
            median(r, "add_loop", 0),
            find(r, "add_loop"),
        ) {
            let per_add = looped.as_secs_f64() / loop_len(&result.title) as f64;
            derived.push(format!(
                "add_many of 100,000 against a loop of `add` (habtm; the loop's {} per add \
                 × 100,000 = {}): {:.1}× faster",
                fmt_duration(Duration::from_secs_f64(per_add)),
                fmt_duration(Duration::from_secs_f64(per_add * 100_000.0)),
                per_add * 100_000.0 / many.as_secs_f64()
            ));
        }
        let sets: Vec<(&str, Option<Duration>)> = [
            ("0", "set_0"),
            ("100", "set_1"),
            ("1,000", "set_10"),
            ("10,000", "set_100"),
        ]
        .into_iter()
        .map(|(label, key)| (label, median(r, key, 0)))
        .collect();
        if sets.iter().all(|(_, d)| d.is_some()) {
            let list: Vec<String> = sets
                .iter()
                .map(|(label, d)| format!("{label} replaced: {}", fmt_duration(d.unwrap())))
                .collect();
            let mut line = format!("set on 10,000 links (habtm): {}", list.join(", "));
            if let Some(ids) = median(r, "ids", 0) {
                let _ = write!(
                    line,
                    "; reading the 10,000 ids alone: {}",
                    fmt_duration(ids)
                );
            }
            derived.push(line);
        }
        if !derived.is_empty() {
            let _ = writeln!(out, "Derived from the medians above:\n");
            for line in derived {
                let _ = writeln!(out, "- {line}");
            }
            let _ = writeln!(out);
        }
    }
    let _ = writeln!(out, "### Spread\n");
    let _ = writeln!(
        out,
        "Interquartile range (25th–75th percentile) of the samples, the batch size and the \
         sample count of every row.\n"
    );
    let _ = writeln!(
        out,
        "| backend | operation | batch × samples | habtm | sqlx | SeaORM |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|");
    for backend in backends {
        for result in &backend.results {
            let cell = |i: usize| {
                result.stats[i].map_or_else(
                    || "—".to_owned(),
                    |s| format!("{} – {}", fmt_duration(s.p25), fmt_duration(s.p75)),
                )
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} × {} | {} | {} | {} |",
                backend.label,
                result.key,
                result.batch,
                result.samples,
                cell(0),
                cell(1),
                cell(2)
            );
        }
    }
    out
}

/// The number of adds in the add loop's title (`add loop: 10000 × ...`).
fn loop_len(title: &str) -> usize {
    title
        .split_whitespace()
        .find_map(|word| word.parse().ok())
        .unwrap_or(1)
}

async fn run_all(filters: &[String]) -> Result<String> {
    let machine = machine();
    let mut backends = Vec::new();
    let mut skipped = Vec::new();
    if selected(filters, "sqlite_memory") {
        eprintln!("SQLite in memory");
        backends.push(sqlite_memory(filters).await?);
    }
    if selected(filters, "sqlite_file") {
        eprintln!("SQLite on a file");
        backends.push(sqlite_file(filters).await?);
    }
    if selected(filters, "postgres") {
        eprintln!("PostgreSQL");
        match postgres(filters).await? {
            Some(result) => backends.push(result),
            None => skipped.push("PostgreSQL did not answer: skipped".to_owned()),
        }
    }
    if selected(filters, "postgres_remote") {
        eprintln!("PostgreSQL through the delay proxy");
        if let Some(result) = postgres_remote(filters).await? {
            backends.push(result);
        }
    }
    if selected(filters, "mysql") {
        eprintln!("MySQL");
        match mysql(filters).await? {
            Some(result) => backends.push(result),
            None => skipped.push("MySQL did not answer: skipped".to_owned()),
        }
    }
    if selected(filters, "mysql_remote") {
        eprintln!("MySQL through the delay proxy");
        if let Some(result) = mysql_remote(filters).await? {
            backends.push(result);
        }
    }
    backends.retain(|b| !b.results.is_empty());
    Ok(report(&machine, &backends, &skipped))
}

fn main() -> ExitCode {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    capture::install();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_all(&filters)) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
