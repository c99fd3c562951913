//! On replicated servers: a three-node MariaDB Galera cluster with its writers spread over the
//! nodes, and a PostgreSQL hot standby read through `Replicated`. `bash .ci/cluster start`
//! starts both and prints the variables these tests read (`.ci/run` does it); without them the
//! tests are skipped, which is a failure under `CI=true`.
//!
//! `cargo test -p habtm-tests --test cluster -- --nocapture` also prints the throughput and
//! the retries of the contended run for one, two and three nodes (RELIABILITY.md).

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use habtm::sqlx::mysql::{MySqlConnectOptions, MySqlPool};
use habtm::sqlx::postgres::{PgConnectOptions, PgPool};
use habtm::sqlx::{self, Connection, Executor};
use habtm::{Error, Filter, Model, Replicated, Schema};
use tracing_subscriber::layer::SubscriberExt;

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

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The variable's value; without it the test is skipped, or fails under CI.
fn required(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if in_ci() => {
            panic!("{var} is not set and CI=true requires it: run `bash .ci/cluster start`")
        }
        _ => {
            eprintln!(
                "habtm-tests: {var} is not set: this cluster test is SKIPPED; `bash .ci/cluster start` prints it"
            );
            None
        }
    }
}

/// Every retry habtm makes is one `habtm::retry` event.
static RETRIES: AtomicUsize = AtomicUsize::new(0);

struct CountRetries;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountRetries {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut is_retry = false;
        let mut visit = |field: &tracing::field::Field| is_retry |= field.name() == "pause_us";
        struct Fields<'a>(&'a mut dyn FnMut(&tracing::field::Field));
        impl tracing::field::Visit for Fields<'_> {
            fn record_debug(&mut self, field: &tracing::field::Field, _: &dyn std::fmt::Debug) {
                (self.0)(field);
            }
        }
        if event.metadata().target() == "habtm::retry" {
            event.record(&mut Fields(&mut visit));
            if is_retry {
                RETRIES.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

fn count_retries() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(CountRetries);
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
    });
}

/// The Galera tests take turns: one of them stops a node.
static CLUSTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `bash .ci/cluster <command> <node>`.
fn cluster(command: &str, node: usize) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/cluster");
    let status = std::process::Command::new("bash")
        .args([script, command, &node.to_string()])
        .status()
        .expect("bash runs");
    assert!(status.success(), "bash .ci/cluster {command} {node}");
}

/// A new database on the cluster, and a pool on each node: reads on them wait until the node
/// has applied every write committed anywhere before (`wsrep_sync_wait`).
async fn galera(case: &str) -> Option<Vec<MySqlPool>> {
    let urls: Vec<String> = required("HABTM_TEST_GALERA")?
        .split(',')
        .map(str::to_owned)
        .collect();
    let database = format!("habtm_{case}_{}", std::process::id());
    let mut admin = sqlx::MySqlConnection::connect(&urls[0])
        .await
        .expect("node 1");
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS `{database}`"
        )))
        .await
        .expect("drop");
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{database}`")))
        .await
        .expect("create the database");
    let mut pools = Vec::new();
    for url in &urls {
        // The node may not have applied the CREATE DATABASE yet: a read with a causality
        // check waits until it has.
        let mut node = sqlx::MySqlConnection::connect(url).await.expect("a node");
        node.execute("SET SESSION wsrep_sync_wait = 1")
            .await
            .expect("causal reads");
        let found: Option<(String,)> = sqlx::query_as(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        )
        .bind(&database)
        .fetch_optional(&mut node)
        .await
        .expect("the catalog");
        assert!(found.is_some(), "{database} reached {url}");
        let options = MySqlConnectOptions::from_str(url)
            .expect("a URL")
            .database(&database);
        let pool = sqlx::pool::PoolOptions::new()
            .max_connections(4)
            .after_connect(|conn: &mut sqlx::MySqlConnection, _| {
                Box::pin(async move {
                    conn.execute("SET SESSION wsrep_sync_wait = 1").await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .expect("a pool on the node");
        pools.push(pool);
    }
    Some(pools)
}

/// Every link on one node, as (assembly, part) pairs, and how many rows hold them.
async fn links(pool: &MySqlPool) -> habtm::Result<(BTreeSet<(i64, i64)>, usize)> {
    let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT assembly_id, part_id FROM AssemblyPart")
        .fetch_all(pool)
        .await?;
    let count = rows.len();
    Ok((rows.into_iter().collect(), count))
}

async fn dangling(pool: &MySqlPool) -> habtm::Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM AssemblyPart WHERE part_id NOT IN (SELECT id FROM Part) OR assembly_id NOT IN (SELECT id FROM Assembly)",
    )
    .fetch_one(pool)
    .await?;
    Ok(n)
}

/// The same links on every node, each once, none dangling; returns them.
async fn consistent(pools: &[MySqlPool]) -> habtm::Result<BTreeSet<(i64, i64)>> {
    let (first, rows) = links(&pools[0]).await?;
    assert_eq!(rows, first.len(), "no pair stored twice");
    for (node, pool) in pools.iter().enumerate() {
        assert_eq!(
            links(pool).await?.0,
            first,
            "node {} holds the same links",
            node + 1
        );
        assert_eq!(
            dangling(pool).await?,
            0,
            "no dangling link on node {}",
            node + 1
        );
    }
    Ok(first)
}

async fn fill(
    pool: &MySqlPool,
    assemblies: usize,
    parts: usize,
) -> habtm::Result<(Vec<i64>, Vec<i64>)> {
    Schema::new()
        .model::<Assembly>()
        .model::<Part>()
        .create_all(pool)
        .await?;
    let mut a = Vec::new();
    for i in 0..assemblies {
        a.push(
            Assembly::create(
                pool,
                NewAssembly {
                    name: format!("a{i}"),
                },
            )
            .await?
            .id,
        );
    }
    let new = (0..parts)
        .map(|i| NewPart {
            part_number: format!("p{i}"),
        })
        .collect();
    let p = Part::create_many(pool, new)
        .await?
        .iter()
        .map(|p| p.id)
        .collect();
    Ok((a, p))
}

/// Tasks on different nodes adding and removing their own links: every link each wrote is on
/// every node, and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn galera_disjoint_writers_on_three_nodes_lose_nothing() {
    let _turn = CLUSTER.lock().await;
    let Some(pools) = galera("disjoint").await else {
        return;
    };
    count_retries();
    let (assemblies, parts) = fill(&pools[0], 3, 30).await.expect("rows");
    let tasks = (0..6).map(|t| {
        let pool = pools[t % pools.len()].clone();
        let owner = Assembly::parts_of(assemblies[t % 3]);
        let mine: Vec<i64> = parts[t * 5..t * 5 + 5].to_vec();
        async move {
            owner.add_many(&pool, mine.clone()).await?;
            owner.remove_many(&pool, [mine[1], mine[3]]).await?;
            owner.add(&pool, mine[1]).await?;
            Ok::<(), Error>(())
        }
    });
    for outcome in join_all(tasks).await {
        outcome.expect("every call succeeds");
    }
    let expected: BTreeSet<(i64, i64)> = (0..6)
        .flat_map(|t| [0, 1, 2, 4].map(|k| (assemblies[t % 3], parts[t * 5 + k])))
        .collect();
    assert_eq!(consistent(&pools).await.expect("read back"), expected);
}

/// Writers on `nodes` nodes on the same rows; every call succeeds (a conflict between nodes,
/// a failed certification, is run again) and every node ends with the same valid links.
/// Returns the calls per second and the retries.
async fn contended(pools: &[MySqlPool], nodes: usize, calls_each: usize) -> (f64, usize) {
    let (assemblies, parts) = fill(&pools[0], 2, 12).await.expect("rows");
    let before = RETRIES.load(Ordering::SeqCst);
    let started = Instant::now();
    let tasks = (0..6u64).map(|t| {
        let pool = pools[t as usize % nodes].clone();
        let (assemblies, parts) = (assemblies.clone(), parts.clone());
        async move {
            let mut seed = t * 7919 + 11;
            let mut next = |bound: usize| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % bound as u64) as usize
            };
            for _ in 0..calls_each {
                let owner = Assembly::parts_of(assemblies[next(2)]);
                let one = parts[next(parts.len())];
                let some: Vec<i64> = parts.iter().copied().filter(|_| next(3) == 0).collect();
                match next(5) {
                    0 => owner.add(&pool, one).await?,
                    1 => drop(owner.remove(&pool, one).await?),
                    2 => drop(owner.add_many(&pool, some).await?),
                    3 => drop(owner.remove_many(&pool, some).await?),
                    _ => owner.set(&pool, some).await?,
                }
            }
            Ok::<(), Error>(())
        }
    });
    for outcome in join_all(tasks).await {
        match outcome {
            Ok(()) => {}
            Err(error @ Error::Conflict { .. }) => panic!("the retry budget ran out: {error}"),
            Err(error) => panic!("an error a caller could not act on: {error}"),
        }
    }
    let elapsed = started.elapsed();
    consistent(&pools[..nodes]).await.expect("read back");
    (
        (6 * calls_each) as f64 / elapsed.as_secs_f64(),
        RETRIES.load(Ordering::SeqCst) - before,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn galera_contended_writers_keep_every_invariant() {
    let _turn = CLUSTER.lock().await;
    count_retries();
    let mut figures = Vec::new();
    for nodes in [1, 2, 3] {
        let Some(pools) = galera(&format!("contended{nodes}")).await else {
            return;
        };
        let (rate, retries) = contended(&pools, nodes, 25).await;
        figures.push(format!(
            "{nodes} node(s): {rate:.0} calls/s, {retries} retries for 150 calls"
        ));
    }
    eprintln!(
        "Galera, 6 writers on the same 2 assemblies and 12 parts:\n  {}",
        figures.join("\n  ")
    );
}

/// A node killed while a writer on each node adds and removes its own links: the writers on
/// the other nodes go on, every call of the lost node's writer either happened whole or not
/// at all, and the node, started again, holds the same links as the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn galera_a_node_lost_mid_run_leaves_nothing_partial() {
    let _turn = CLUSTER.lock().await;
    let Some(pools) = galera("lost").await else {
        return;
    };
    let (assemblies, parts) = fill(&pools[0], 3, 30).await.expect("rows");
    // Writer t, on node t, owns assembly t and parts 10t..10t+10; its calls alternate an
    // add_many of a window of its parts and a remove_many of the window before.
    let states = |t: usize, calls: usize| -> Vec<BTreeSet<i64>> {
        let mut state = BTreeSet::new();
        let mut out = vec![state.clone()];
        for call in 0..calls {
            let window: Vec<i64> = (0..4).map(|k| parts[t * 10 + (call + k) % 10]).collect();
            if call % 2 == 0 {
                state.extend(window);
            } else {
                for id in window {
                    state.remove(&id);
                }
            }
            out.push(state.clone());
        }
        out
    };
    const CALLS: usize = 60;
    let writers = (0..3).map(|t| {
        let pool = pools[t].clone();
        let owner = Assembly::parts_of(assemblies[t]);
        let parts = parts.clone();
        async move {
            let mut done = 0;
            for call in 0..CALLS {
                let window: Vec<i64> = (0..4).map(|k| parts[t * 10 + (call + k) % 10]).collect();
                let outcome = if call % 2 == 0 {
                    owner.add_many(&pool, window).await.map(drop)
                } else {
                    owner.remove_many(&pool, window).await.map(drop)
                };
                match outcome {
                    Ok(()) => done += 1,
                    // The lost node: its connection fails, which the caller sees as a
                    // database error; the call may or may not have committed.
                    Err(Error::Database { .. }) if t == 2 => return (done, true),
                    Err(error) => panic!("writer {t}: {error}"),
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (done, false)
        }
    });
    let killer = async {
        tokio::time::sleep(Duration::from_millis(120)).await;
        tokio::task::spawn_blocking(|| cluster("kill-node", 3))
            .await
            .expect("killed");
    };
    let (outcomes, ()) = tokio::join!(join_all(writers), killer);
    for (t, (done, failed)) in outcomes.iter().enumerate().take(2) {
        assert_eq!(
            (*done, *failed),
            (CALLS, false),
            "writer {t} on a live node went on"
        );
    }
    let survivors = &pools[..2];
    let links = consistent(survivors).await.expect("read back");
    let of = |t: usize| -> BTreeSet<i64> {
        links
            .iter()
            .filter(|(a, _)| *a == assemblies[t])
            .map(|(_, p)| *p)
            .collect()
    };
    for t in 0..2 {
        assert_eq!(
            of(t),
            states(t, CALLS)[CALLS],
            "writer {t}'s links, all of them"
        );
    }
    // The lost writer's links are the state after its last answered call, or after the one
    // that was under way (committed, its answer lost): never a part of a call.
    let (done, failed) = outcomes[2];
    assert!(
        failed,
        "the node was lost while its writer ran ({done} calls answered)"
    );
    let lost = states(2, CALLS);
    assert!(
        of(2) == lost[done] || of(2) == lost[(done + 1).min(CALLS)],
        "after {done} answered calls the links are those of a whole number of calls: {:?}",
        of(2)
    );
    tokio::task::spawn_blocking(|| cluster("start-node", 3))
        .await
        .expect("started");
    consistent(&pools)
        .await
        .expect("the restarted node caught up");
}

/// Reads through `Replicated` go to the standby, and `read_your_writes` waits for it or reads
/// on the primary: with the standby's replay paused, a plain read misses a new link, one that
/// asks for its writes sees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_the_standby_and_see_their_writes_when_asked() {
    let Some(standby_url) = required("HABTM_TEST_POSTGRES_STANDBY") else {
        return;
    };
    let primary_url = std::env::var("HABTM_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let schema = format!("habtm_standby_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&primary_url)
        .await
        .expect("the primary");
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
        )))
        .await
        .expect("drop");
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .await
        .expect("a schema");
    let pool = |url: &str| {
        let options = PgConnectOptions::from_str(url)
            .expect("a URL")
            .options([("search_path", schema.as_str())]);
        sqlx::pool::PoolOptions::<sqlx::Postgres>::new()
            .max_connections(4)
            .connect_with(options)
    };
    let primary: PgPool = pool(&primary_url).await.expect("the primary's pool");
    let standby: PgPool = pool(&standby_url).await.expect("the standby's pool");
    let db = Replicated::new(primary.clone(), vec![standby.clone()]);
    Schema::new()
        .model::<Assembly>()
        .model::<Part>()
        .create_all(&db)
        .await
        .expect("the tables, on the primary");
    let engine = Assembly::create(
        &db,
        NewAssembly {
            name: "engine".into(),
        },
    )
    .await
    .expect("a write");
    let bolt = engine
        .parts()
        .create(
            &db,
            NewPart {
                part_number: "B-1".into(),
            },
        )
        .await
        .expect("a write");
    let caught_up = db.read_your_writes();
    assert_eq!(
        engine.parts().all(&caught_up).await.expect("a read"),
        std::slice::from_ref(&bolt)
    );

    // The standby stops replaying: what the primary writes now, it does not have.
    let paused: (String,) = sqlx::query_as("SELECT CAST(pg_is_in_recovery() AS TEXT)")
        .fetch_one(&standby)
        .await
        .expect("the standby");
    assert_eq!(paused.0, "true", "the second pool is the standby");
    sqlx::query("SELECT pg_wal_replay_pause()")
        .execute(&standby)
        .await
        .expect("pause");
    let nut = engine
        .parts()
        .create(
            &db,
            NewPart {
                part_number: "N-4".into(),
            },
        )
        .await
        .expect("a write on the primary");
    let plain = engine
        .parts()
        .all(&db)
        .await
        .expect("a read on the standby");
    assert_eq!(
        plain,
        std::slice::from_ref(&bolt),
        "a plain read is the standby's, which lags"
    );
    let asked = db.read_your_writes().wait(Duration::from_millis(50));
    assert_eq!(
        engine.parts().all(&asked).await.expect("a read"),
        [bolt.clone(), nut.clone()],
        "the standby did not catch up: the read went to the primary"
    );
    // The REST API reads (GET, HEAD) on the standby and writes on the primary.
    let app = habtm::rest::Api::replicated(db.clone())
        .model::<Assembly>()
        .model::<Part>()
        .relation(Assembly::PARTS)
        .router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{base}/Assemblies/{}/parts", engine.id))
        .json(&serde_json::json!({"partNumber": "W-2"}))
        .send()
        .await
        .expect("a POST");
    assert_eq!(created.status(), 200, "the write went to the primary");
    let listed: serde_json::Value = client
        .get(format!("{base}/Assemblies/{}/parts", engine.id))
        .send()
        .await
        .expect("a GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "the GET read the paused standby, which has the first part only: {listed}"
    );
    sqlx::query("SELECT pg_wal_replay_resume()")
        .execute(&standby)
        .await
        .expect("resume");
    assert_eq!(
        Part::count(&db.read_your_writes(), Filter::new())
            .await
            .expect("a read"),
        3,
        "the standby caught up"
    );
    // A write through a read's `db` would fail on the standby: writes go to the primary.
    assert!(engine.parts().remove(&db, bolt.id).await.expect("a write"));
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA \"{schema}\" CASCADE"
        )))
        .await
        .expect("clean up");
}
