//! Eager loading makes a constant number of round trips, whatever the number of owners, and
//! on PostgreSQL so do `add_many`, `remove_many` and `set`, whatever the number of ids: a
//! count of the statements sqlx runs, on every backend.
//!
//! This file is its own test binary, and its one test visits the backends in turn, so no
//! other test's statements reach the counter.

use std::sync::atomic::{AtomicUsize, Ordering};

use habtm::sqlx::{self, Pool};
use habtm::{Backend, Filter, Model, Schema};
use habtm_tests::raw;
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

/// Every statement sqlx runs is one `sqlx::query` event.
static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

struct CountStatements;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

const OWNERS: i64 = 1_000;
const PARTS_EACH: i64 = 3;
/// Parts in all: those linked, and more than one statement's worth of binds unlinked.
const PARTS: i64 = 40_000;

/// 1,000 assemblies with 3 parts each, written with raw multi-row inserts.
async fn fill<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    Schema::new()
        .model::<Assembly>()
        .model::<Part>()
        .create_all(pool)
        .await?;
    let q = raw::q::<DB>;
    let rows = |n: i64, f: &dyn Fn(i64) -> String| (1..=n).map(f).collect::<Vec<_>>().join(", ");
    let assemblies = rows(OWNERS, &|i| format!("({i}, 'a{i}')"));
    raw::execute(
        pool,
        &format!(
            "INSERT INTO {} ({}, {}) VALUES {assemblies}",
            q("Assembly"),
            q("id"),
            q("name")
        ),
    )
    .await?;
    let parts = rows(PARTS, &|i| format!("({i}, 'p{i}')"));
    raw::execute(
        pool,
        &format!(
            "INSERT INTO {} ({}, {}) VALUES {parts}",
            q("Part"),
            q("id"),
            q("part_number")
        ),
    )
    .await?;
    let links = rows(OWNERS * PARTS_EACH, &|i| {
        format!("({}, {i})", (i - 1) / PARTS_EACH + 1)
    });
    let sql = format!(
        "INSERT INTO {} ({}, {}) VALUES {links}",
        q("AssemblyPart"),
        q("assembly_id"),
        q("part_id")
    );
    raw::execute(pool, &sql).await?;
    Ok(())
}

async fn count_round_trips<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    fill(pool).await?;
    let owners = Assembly::find(pool, Filter::new()).await?;
    assert_eq!(owners.len(), OWNERS as usize);
    let mut conn = pool.acquire().await?;

    let before = STATEMENTS.load(Ordering::SeqCst);
    let loaded = Assembly::load_parts(&mut conn, &owners, Filter::new()).await?;
    let statements = STATEMENTS.load(Ordering::SeqCst) - before;
    assert_eq!(statements, 1, "eager loading {OWNERS} owners");
    assert!(
        loaded
            .iter()
            .all(|parts| parts.len() == PARTS_EACH as usize)
    );

    let before = STATEMENTS.load(Ordering::SeqCst);
    let filter = Filter::new().order_by(Part::PART_NUMBER.desc()).limit(2);
    let loaded = Assembly::load_parts(&mut conn, &owners, filter).await?;
    assert_eq!(
        STATEMENTS.load(Ordering::SeqCst) - before,
        1,
        "with a per-owner limit"
    );
    assert!(loaded.iter().all(|parts| parts.len() == 2));

    batch_round_trips(pool).await?;

    // The baseline it replaces: one query per owner.
    let before = STATEMENTS.load(Ordering::SeqCst);
    for owner in &owners[..100] {
        owner.parts().all(&mut conn).await?;
    }
    assert_eq!(
        STATEMENTS.load(Ordering::SeqCst) - before,
        100,
        "the counter sees every statement"
    );
    Ok(())
}

/// The statements `work` runs.
async fn statements_of<T>(work: impl Future<Output = habtm::Result<T>>) -> habtm::Result<usize> {
    let before = STATEMENTS.load(Ordering::SeqCst);
    work.await?;
    Ok(STATEMENTS.load(Ordering::SeqCst) - before)
}

/// Writing 10 links and 35,000 (past every backend's bind limit): the same statements on
/// PostgreSQL, where the ids are one array parameter; more elsewhere, one per chunk.
async fn batch_round_trips<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    let parts = Assembly::parts_of(1);
    let few: Vec<i64> = (5_001..=5_010).collect();
    let many: Vec<i64> = (5_001..=PARTS).collect();
    let postgres = raw::dialect::<DB>() == habtm::Dialect::Postgres;
    let check = |op: &str, few: usize, many: usize| {
        eprintln!(
            "{:?} {op}: {few} statements for 10 ids, {many} for 35,000",
            raw::dialect::<DB>()
        );
        if postgres {
            assert_eq!(few, many, "{op} on PostgreSQL");
        } else {
            assert!(
                many > few,
                "{op}: {many} statements for 35,000 ids, {few} for 10"
            );
        }
    };

    // Once first: habtm reads whether the join table has a unique key once per process.
    parts.add_many(pool, few.clone()).await?;
    parts.remove_many(pool, few.clone()).await?;

    let add_few = statements_of(parts.add_many(pool, few.clone())).await?;
    statements_of(parts.remove_many(pool, few.clone())).await?;
    let add_many = statements_of(parts.add_many(pool, many.clone())).await?;
    check("add_many", add_few, add_many);
    assert_eq!(parts.count(pool).await?, 3 + 35_000);

    let remove_many = statements_of(parts.remove_many(pool, many.clone())).await?;
    statements_of(parts.add_many(pool, few.clone())).await?;
    let remove_few = statements_of(parts.remove_many(pool, few.clone())).await?;
    check("remove_many", remove_few, remove_many);
    assert_eq!(parts.count(pool).await?, 3);

    // Each from the assembly's own 3 parts: 3 links removed, the others added.
    let set_few = statements_of(parts.set(pool, few.clone())).await?;
    parts.set(pool, [1, 2, 3]).await?;
    let set_many = statements_of(parts.set(pool, many.clone())).await?;
    check("set", set_few, set_many);
    assert_eq!(parts.count(pool).await?, 35_000);
    parts.set(pool, [1, 2, 3]).await?;
    Ok(())
}

#[tokio::test]
async fn eager_loading_round_trips() {
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(CountStatements))
        .expect("the only subscriber");
    habtm_tests::run::<sqlx::Sqlite, _, _>("round_trips", |pool| async move {
        count_round_trips(&pool).await
    })
    .await;
    habtm_tests::run::<sqlx::Postgres, _, _>("round_trips", |pool| async move {
        count_round_trips(&pool).await
    })
    .await;
    habtm_tests::run::<sqlx::MySql, _, _>("round_trips", |pool| async move {
        count_round_trips(&pool).await
    })
    .await;
}
