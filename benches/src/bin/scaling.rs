//! How habtm's cost grows with the work: `add_many`, `set`, `find` and eager loading at
//! 10^3, 10^4, 10^5 and 10^6 links (or owners), on every backend, with the time per link and
//! the peak resident memory of each operation.
//!
//! ```sh
//! cargo run -p habtm-benches --release --bin scaling -- [--max 1000000] [sqlite] [postgres] [mysql]
//! ```
//!
//! Each backend and size runs in a child process of its own, so that the peak resident set
//! (`VmHWM`, reset with `/proc/self/clear_refs` before each operation) is that operation's.
//! The servers are reached at `HABTM_TEST_POSTGRES` and `HABTM_TEST_MYSQL` (the test
//! defaults), in a database `habtm_scaling` created and dropped here; SQLite is in memory.
//!
//! - `add_many`: one owner linked to `n` parts, from none.
//! - `set`: the owner's `n` links replaced by a list of `n` with a tenth of them new.
//! - `find`: the owner's `n` linked parts, read and decoded.
//! - eager loading: `n` owners with one part each, in one `load_parts` call.
//!
//! Each operation runs `max(1, min(15, 100,000 / n))` times (set-up between runs untimed) and
//! the median is kept.

use std::fmt::Write as _;
use std::process::{Command, ExitCode};
use std::str::FromStr;
use std::time::{Duration, Instant};

use habtm::{Filter, Model, Schema};
use sqlx::pool::PoolOptions;

type Error = Box<dyn std::error::Error>;
type Result<T, E = Error> = std::result::Result<T, E>;

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

const DATABASE: &str = "habtm_scaling";
const BACKENDS: [&str; 3] = ["sqlite", "postgres", "mysql"];
const OPERATIONS: [&str; 4] = ["add_many", "set", "find", "eager"];

/// One operation's figures at one size.
struct Figure {
    median: Duration,
    runs: usize,
    peak_kib: u64,
}

fn runs_for(n: usize) -> usize {
    (100_000 / n).clamp(1, 15)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Resets the process's peak resident set to its current size.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident set since the last reset, in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Runs `op` `runs` times, `prepare` (untimed) before each; the median time and the peak
/// resident set of the runs.
async fn measure<P, PF, O, OF>(runs: usize, mut prepare: P, mut op: O) -> Result<Figure>
where
    P: FnMut() -> PF,
    PF: Future<Output = Result<()>>,
    O: FnMut() -> OF,
    OF: Future<Output = Result<()>>,
{
    let mut samples = Vec::with_capacity(runs);
    let mut peak = 0;
    for _ in 0..runs {
        prepare().await?;
        reset_peak();
        let start = Instant::now();
        op().await?;
        samples.push(start.elapsed());
        peak = peak.max(peak_kib());
    }
    Ok(Figure {
        median: median(samples),
        runs,
        peak_kib: peak,
    })
}

fn check(what: &str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(format!("{what}: expected {expected}, got {got}").into())
    }
}

/// Fills the tables: `parts` parts and `owners` assemblies, ids from 1, assembly `i` linked to
/// part `i` for every `i` from `EAGER_FIRST` on (the eager case's owners).
async fn fill<DB: habtm::Backend>(
    pool: &sqlx::Pool<DB>,
    dialect: habtm::Dialect,
    parts: usize,
    owners: usize,
) -> Result<()>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    use habtm::Dialect;
    let series = |table: &str, column: &str, prefix: &str, n: usize| match dialect {
        Dialect::Postgres => format!(
            r#"INSERT INTO "{table}" ("{column}") SELECT '{prefix}' || g FROM generate_series(1, {n}) AS g"#
        ),
        Dialect::Sqlite => format!(
            r#"WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n}) INSERT INTO "{table}" ("{column}") SELECT '{prefix}' || i FROM g"#
        ),
        Dialect::MySql => format!(
            "INSERT INTO `{table}` (`{column}`) WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n}) SELECT CONCAT('{prefix}', i) FROM g"
        ),
    };
    let mut conn = pool.acquire().await?;
    if dialect == Dialect::MySql {
        // MariaDB and MySQL bound recursion under different names; each ignores the other's.
        for setting in ["max_recursive_iterations", "cte_max_recursion_depth"] {
            let sql = format!("SET SESSION {setting} = 10000000");
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await;
        }
    }
    for sql in [
        series("Part", "part_number", "P-", parts),
        series("Assembly", "name", "A-", owners),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The four operations at size `n` on `pool`, whose tables are empty.
async fn operations<DB: habtm::Backend>(
    pool: &sqlx::Pool<DB>,
    dialect: habtm::Dialect,
    n: usize,
) -> Result<Vec<Figure>>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let tenth = (n / 10).max(1);
    // Owner 1 takes the links of add_many, set and find; owners 1..=n have one part each
    // for eager loading (owner 1's then added to them).
    fill(pool, dialect, n + tenth, n).await?;
    let runs = runs_for(n);
    let owner = Assembly::parts_of(1);
    let all: Vec<i64> = (1..=n as i64).collect();
    let replaced: Vec<i64> = (tenth as i64 + 1..=(n + tenth) as i64).collect();

    let add_many = measure(
        runs,
        || async { Ok(owner.clear(pool).await.map(drop)?) },
        || async {
            check(
                "added",
                n,
                owner.add_many(pool, all.clone()).await? as usize,
            )
        },
    )
    .await?;
    let set = measure(
        runs,
        || async { Ok(owner.set(pool, all.clone()).await?) },
        || async { Ok(owner.set(pool, replaced.clone()).await?) },
    )
    .await?;
    check("set", n, owner.count(pool).await? as usize)?;
    let find = measure(
        runs,
        || async { Ok(()) },
        || async { check("found", n, owner.find(pool, Filter::new()).await?.len()) },
    )
    .await?;
    // Every other owner linked to the part of its own id (owner 1 keeps its `n` links).
    link_each(pool, dialect, n).await?;
    let owners = Assembly::find(pool, Filter::new()).await?;
    check("owners", n, owners.len())?;
    let eager = measure(
        runs,
        || async { Ok(()) },
        || async {
            let loaded = Assembly::load_parts(pool, &owners, Filter::new()).await?;
            let rows: usize = loaded.iter().map(Vec::len).sum();
            check("loaded", n - 1 + n, rows)
        },
    )
    .await?;
    Ok(vec![add_many, set, find, eager])
}

/// Links assembly `i` to part `i` for every `i` from 2 to `n`, in one statement.
async fn link_each<DB: habtm::Backend>(
    pool: &sqlx::Pool<DB>,
    dialect: habtm::Dialect,
    n: usize,
) -> Result<()>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let q = |name: &str| dialect.quote(name);
    let sql = format!(
        "INSERT INTO {} ({}, {}) SELECT {}, {} FROM {} WHERE {} BETWEEN 2 AND {n}",
        q("AssemblyPart"),
        q("assembly_id"),
        q("part_id"),
        q("id"),
        q("id"),
        q("Assembly"),
        q("id"),
    );
    let mut conn = pool.acquire().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn schema<DB: habtm::Backend>(pool: &sqlx::Pool<DB>) -> Result<()> {
    Schema::new()
        .model::<Assembly>()
        .model::<Part>()
        .create_all(pool)
        .await?;
    Ok(())
}

/// One backend at one size, in this process: prints one line per operation,
/// `<operation> <median ns> <runs> <peak KiB>`.
async fn child(backend: &str, n: usize) -> Result<()> {
    let figures = match backend {
        "sqlite" => {
            let pool = PoolOptions::<sqlx::Sqlite>::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect("sqlite::memory:")
                .await?;
            schema(&pool).await?;
            operations(&pool, habtm::Dialect::Sqlite, n).await?
        }
        "postgres" => {
            let url = std::env::var("HABTM_TEST_POSTGRES")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let admin = sqlx::PgPool::connect(&url).await?;
            recreate(&admin, r#"DROP DATABASE IF EXISTS habtm_scaling"#).await?;
            let options = sqlx::postgres::PgConnectOptions::from_str(&url)?.database(DATABASE);
            let pool = PoolOptions::<sqlx::Postgres>::new()
                .max_connections(1)
                .connect_with(options)
                .await?;
            schema(&pool).await?;
            let figures = operations(&pool, habtm::Dialect::Postgres, n).await;
            pool.close().await;
            recreate_end(&admin, "DROP DATABASE IF EXISTS habtm_scaling").await?;
            figures?
        }
        "mysql" => {
            let url = std::env::var("HABTM_TEST_MYSQL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
            let admin = sqlx::MySqlPool::connect(&url).await?;
            recreate(&admin, "DROP DATABASE IF EXISTS habtm_scaling").await?;
            let options = sqlx::mysql::MySqlConnectOptions::from_str(&url)?.database(DATABASE);
            let pool = PoolOptions::<sqlx::MySql>::new()
                .max_connections(1)
                .connect_with(options)
                .await?;
            schema(&pool).await?;
            let figures = operations(&pool, habtm::Dialect::MySql, n).await;
            pool.close().await;
            recreate_end(&admin, "DROP DATABASE IF EXISTS habtm_scaling").await?;
            figures?
        }
        other => return Err(format!("unknown backend {other}").into()),
    };
    for (operation, figure) in OPERATIONS.iter().zip(figures) {
        println!(
            "{operation} {} {} {}",
            figure.median.as_nanos(),
            figure.runs,
            figure.peak_kib
        );
    }
    Ok(())
}

/// Drops the scaling database (`drop`) and creates it again.
async fn recreate<DB: sqlx::Database>(admin: &sqlx::Pool<DB>, drop: &'static str) -> Result<()>
where
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
{
    sqlx::raw_sql(drop).execute(admin).await?;
    sqlx::raw_sql("CREATE DATABASE habtm_scaling")
        .execute(admin)
        .await?;
    Ok(())
}

async fn recreate_end<DB: sqlx::Database>(admin: &sqlx::Pool<DB>, drop: &'static str) -> Result<()>
where
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
{
    sqlx::raw_sql(drop).execute(admin).await?;
    admin.close().await;
    Ok(())
}

fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.1} ms", ns / 1e6)
    } else {
        format!("{:.0} µs", ns / 1e3)
    }
}

fn format_per(d: Duration, n: usize) -> String {
    format!("{:.2} µs", d.as_nanos() as f64 / n as f64 / 1e3)
}

/// Runs every backend and size in a child process and prints the report.
fn parent(backends: &[String], max: usize) -> Result<String> {
    let sizes: Vec<usize> = [1_000, 10_000, 100_000, 1_000_000]
        .into_iter()
        .filter(|&n| n <= max)
        .collect();
    let me = std::env::current_exe()?;
    let mut out = String::new();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let _ = writeln!(
        out,
        "Command: `cargo run -p habtm-benches --release --bin scaling`; load average at the \
         start: {}.\n",
        load.trim()
    );
    for backend in backends {
        let _ = writeln!(out, "#### {backend}\n");
        let _ = writeln!(
            out,
            "| n | operation | runs | median | per link | peak RSS |\n|---:|---|---:|---:|---:|---:|"
        );
        for &n in &sizes {
            eprintln!("{backend} at {n}");
            let output = Command::new(&me)
                .args(["--child", backend, &n.to_string()])
                .output()?;
            if !output.status.success() {
                return Err(format!(
                    "{backend} at {n} failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                )
                .into());
            }
            for line in String::from_utf8_lossy(&output.stdout).lines() {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let [operation, nanos, runs, peak] = fields[..] else {
                    continue;
                };
                let median = Duration::from_nanos(nanos.parse()?);
                let peak: u64 = peak.parse()?;
                let _ = writeln!(
                    out,
                    "| {n} | {operation} | {runs} | {} | {} | {:.1} MiB |",
                    format_duration(median),
                    format_per(median, n),
                    peak as f64 / 1024.0
                );
            }
        }
        let _ = writeln!(out);
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, backend, n] = &args[..]
        && flag == "--child"
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        return match n
            .parse()
            .map_err(Error::from)
            .and_then(|n| runtime.block_on(child(backend, n)))
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let mut max = 1_000_000;
    let mut backends = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--max" {
            max = rest.next().and_then(|n| n.parse().ok()).unwrap_or(max);
        } else if BACKENDS.contains(&arg.as_str()) {
            backends.push(arg.clone());
        }
    }
    if backends.is_empty() {
        backends = BACKENDS.iter().map(|b| (*b).to_owned()).collect();
    }
    match parent(&backends, max) {
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
