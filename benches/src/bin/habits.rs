//! What a sequence of calls costs depending on what it runs on: the pool for each call (sqlx
//! pings the connection it lends unless `test_before_acquire(false)`), one held connection,
//! or one transaction; on every backend.
//!
//! ```sh
//! taskset -c 1 cargo run -p habtm-benches --release --bin habits
//! ```
//!
//! Each way runs the same 2,000 calls (an `add` and a `count` of a relation, 1,000 times)
//! after 200 of warm-up, three times; the median of the three is printed, per call. The
//! servers are reached at `HABTM_TEST_POSTGRES` and `HABTM_TEST_MYSQL` (the test defaults),
//! in a database `habtm_habits` created and dropped here; SQLite is a file in a temporary
//! folder.

use std::time::{Duration, Instant};

use habtm::{Db, Model, Schema};
use sqlx::pool::PoolOptions;
use sqlx::{Database, Pool};

type Error = Box<dyn std::error::Error>;

#[derive(Debug, Clone, PartialEq, Model)]
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

const CALLS: usize = 1_000;
const WARM_UP: usize = 100;

/// Runs `CALLS` pairs of calls, each on what `$db` gives (evaluated for every call), and
/// the time per call.
macro_rules! per_call {
    ($db:expr, $engine:expr, $parts:expr) => {{
        for i in 0..WARM_UP {
            $engine
                .parts()
                .add($db, $parts[i % $parts.len()].id)
                .await?;
            $engine.parts().count($db).await?;
        }
        let started = Instant::now();
        for i in 0..CALLS {
            $engine
                .parts()
                .add($db, $parts[i % $parts.len()].id)
                .await?;
            $engine.parts().count($db).await?;
        }
        started.elapsed() / (2 * CALLS) as u32
    }};
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn measure<DB: habtm::Backend>(label: &str, url: &str) -> Result<(), Error>
where
    for<'c> &'c mut DB::Connection: Db<Database = DB>,
    for<'c> &'c mut <DB as Database>::Connection: sqlx::Executor<'c, Database = DB>,
{
    let pinged: Pool<DB> = PoolOptions::new().max_connections(4).connect(url).await?;
    let unpinged: Pool<DB> = PoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .connect(url)
        .await?;
    Schema::new()
        .model::<Assembly>()
        .model::<Part>()
        .create_all(&pinged)
        .await?;
    let engine = Assembly::create(
        &pinged,
        NewAssembly {
            name: "engine".into(),
        },
    )
    .await?;
    let mut parts = Vec::new();
    for i in 0..20 {
        parts.push(
            Part::create(
                &pinged,
                NewPart {
                    part_number: format!("P-{i}"),
                },
            )
            .await?,
        );
    }
    let mut figures: Vec<(&str, Vec<Duration>)> = vec![
        ("&pool (sqlx's default: a ping per call)", Vec::new()),
        ("&pool, test_before_acquire(false)", Vec::new()),
        ("one held connection (&mut conn)", Vec::new()),
        ("one transaction (&mut *tx)", Vec::new()),
    ];
    for _ in 0..3 {
        figures[0].1.push(per_call!(&pinged, engine, parts));
        figures[1].1.push(per_call!(&unpinged, engine, parts));
        let mut conn = pinged.acquire().await?;
        figures[2].1.push(per_call!(&mut *conn, engine, parts));
        drop(conn);
        let mut tx = pinged.begin().await?;
        figures[3].1.push(per_call!(&mut *tx, engine, parts));
        tx.commit().await?;
    }
    let base = median(figures[0].1.clone());
    println!("{label}:");
    for (way, samples) in figures {
        let per_call = median(samples);
        println!(
            "  {way:<42} {:>7.1} µs per call  {:.2}× the default",
            per_call.as_secs_f64() * 1e6,
            per_call.as_secs_f64() / base.as_secs_f64()
        );
    }
    Ok(())
}

/// `&mut conn` and `&mut *tx` are `&mut DB::Connection`, a `Db` for each driver.
async fn server<DB: habtm::Backend>(label: &str, env: &str, default: &str) -> Result<(), Error>
where
    for<'c> &'c mut DB::Connection: Db<Database = DB>,
    for<'c> &'c mut <DB as Database>::Connection: sqlx::Executor<'c, Database = DB>,
{
    let admin_url = std::env::var(env).unwrap_or_else(|_| default.to_owned());
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let admin: Pool<DB> = PoolOptions::new()
        .max_connections(1)
        .connect(&admin_url)
        .await?;
    let quote = if label == "MariaDB" { '`' } else { '"' };
    let drop = format!("DROP DATABASE IF EXISTS {quote}habtm_habits{quote}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop.clone()))
        .execute(&admin)
        .await?;
    let create = format!("CREATE DATABASE {quote}habtm_habits{quote}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(create))
        .execute(&admin)
        .await?;
    let outcome = measure::<DB>(label, &format!("{base}/habtm_habits")).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
        .execute(&admin)
        .await?;
    outcome
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let folder = std::env::temp_dir().join(format!("habtm-habits-{}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    let file = folder.join("habits.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    measure::<sqlx::Sqlite>("SQLite (a file)", &url).await?;
    std::fs::remove_dir_all(&folder)?;
    server::<sqlx::Postgres>(
        "PostgreSQL",
        "HABTM_TEST_POSTGRES",
        "postgres://postgres@127.0.0.1:5432/postgres",
    )
    .await?;
    server::<sqlx::MySql>(
        "MariaDB",
        "HABTM_TEST_MYSQL",
        "mysql://root@127.0.0.1:3306/test",
    )
    .await?;
    Ok(())
}
