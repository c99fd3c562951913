//! Eager loading makes a constant number of round trips, whatever the number of owners, and
//! on PostgreSQL and SQLite so do `add_many`, `remove_many` and `set`, whatever the number of
//! ids: a
//! count of the statements sqlx runs (`BEGIN` and `COMMIT` included), on every backend. The
//! same count for each operation prints the table of round trips in BENCHMARKS.md
//! (`cargo test -p habtm-tests --test round_trips -- --nocapture`), and holds PostgreSQL's
//! column to it.
//!
//! This file is its own test binary, and its one test visits the backends in turn, so no
//! other test's statements reach the counter.

use std::sync::atomic::{AtomicUsize, Ordering};

use habtm::sqlx::{self, Pool};
use habtm::{Backend, Filter, Loader, Model, Schema};
use habtm_tests::proxy::Proxy;
use habtm_tests::raw;
use std::time::Duration;
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

async fn count_round_trips<DB: Backend + Counted>(pool: &Pool<DB>) -> habtm::Result<()> {
    fill(pool).await?;
    let owners = Assembly::find(pool, Filter::new()).await?;
    assert_eq!(owners.len(), OWNERS as usize);
    let mut conn = pool.acquire().await?;
    // Once first: on MySQL, habtm asks the server once per process whether it has
    // `JSON_TABLE`.
    Assembly::load_parts(&mut conn, &owners[..1], Filter::new()).await?;

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

    // Two levels, and two relations at once: one statement per relation and level.
    let two_levels = Assembly::PARTS
        .include(Filter::new())
        .with(Part::ASSEMBLIES.include(Filter::new()));
    let before = STATEMENTS.load(Ordering::SeqCst);
    let loaded = two_levels.load(&mut conn, &owners).await?;
    assert_eq!(STATEMENTS.load(Ordering::SeqCst) - before, 2, "two levels");
    assert!(loaded.iter().zip(&owners).all(|(parts, owner)| {
        parts.len() == PARTS_EACH as usize
            && parts
                .iter()
                .all(|(_, back)| back.len() == 1 && back[0] == *owner)
    }));
    let side_by_side = (
        Assembly::PARTS.include(Filter::new()),
        Assembly::PARTS.include(Filter::new().limit(1)),
    );
    let before = STATEMENTS.load(Ordering::SeqCst);
    let loaded = side_by_side.load(&mut conn, &owners).await?;
    assert_eq!(
        STATEMENTS.load(Ordering::SeqCst) - before,
        2,
        "two relations"
    );
    assert!(
        loaded
            .iter()
            .all(|(all, first)| all.len() == 3 && first.len() == 1)
    );

    batch_round_trips(pool).await?;
    per_operation(pool).await?;

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

/// Writing 10 links and 35,000 (past every backend's bind limit): the same statements,
/// the ids being one parameter: an array on PostgreSQL, a JSON text on SQLite and MySQL.
async fn batch_round_trips<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    // One held connection: a pool that opens one would count its set-up statements.
    let mut conn = pool.acquire().await?;
    let parts = Assembly::parts_of(1);
    let few: Vec<i64> = (5_001..=5_010).collect();
    let many: Vec<i64> = (5_001..=PARTS).collect();
    let check = |op: &str, few: usize, many: usize| {
        eprintln!(
            "{:?} {op}: {few} statements for 10 ids, {many} for 35,000",
            raw::dialect::<DB>()
        );
        assert_eq!(few, many, "{op}: the ids are one parameter");
    };

    // Once first: habtm reads whether the join table has a unique key once per process.
    parts.add_many(&mut conn, few.clone()).await?;
    parts.remove_many(&mut conn, few.clone()).await?;

    let add_few = statements_of(parts.add_many(&mut conn, few.clone())).await?;
    statements_of(parts.remove_many(&mut conn, few.clone())).await?;
    let add_many = statements_of(parts.add_many(&mut conn, many.clone())).await?;
    check("add_many", add_few, add_many);
    assert_eq!(parts.count(&mut conn).await?, 3 + 35_000);

    let remove_many = statements_of(parts.remove_many(&mut conn, many.clone())).await?;
    statements_of(parts.add_many(&mut conn, few.clone())).await?;
    let remove_few = statements_of(parts.remove_many(&mut conn, few.clone())).await?;
    check("remove_many", remove_few, remove_many);
    assert_eq!(parts.count(&mut conn).await?, 3);

    // Each from the assembly's own 3 parts: 3 links removed, the others added.
    let set_few = statements_of(parts.set(&mut conn, few.clone())).await?;
    parts.set(&mut conn, [1, 2, 3]).await?;
    let set_many = statements_of(parts.set(&mut conn, many.clone())).await?;
    check("set", set_few, set_many);
    assert_eq!(parts.count(&mut conn).await?, 35_000);
    parts.set(&mut conn, [1, 2, 3]).await?;
    Ok(())
}

/// Round trips as the backend sees them: statements SQLite runs (from its trace hook, so
/// `BEGIN` and `COMMIT` count), or exchanges with a server through the counting proxy.
static SQLITE_STATEMENTS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn sqlite_statement(
    _: std::ffi::c_uint,
    _: *mut std::ffi::c_void,
    _: *mut std::ffi::c_void,
    _: *mut std::ffi::c_void,
) -> std::ffi::c_int {
    SQLITE_STATEMENTS.fetch_add(1, Ordering::SeqCst);
    0
}

/// A pool of one connection to the same database, whose round trips `count` reads.
trait Counted: Backend {
    async fn counted(pool: &Pool<Self>) -> habtm::Result<(Pool<Self>, Box<dyn Fn() -> usize>)>;
}

fn one_connection<DB: sqlx::Database>() -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .test_before_acquire(false)
}

/// A proxy in front of the server `pool` reaches.
fn proxy_to(host: &str, port: u16) -> habtm::Result<Proxy> {
    Proxy::start(&format!("{host}:{port}"), Duration::ZERO).map_err(|e| sqlx::Error::Io(e).into())
}

impl Counted for sqlx::Sqlite {
    async fn counted(pool: &Pool<Self>) -> habtm::Result<(Pool<Self>, Box<dyn Fn() -> usize>)> {
        let options = (*pool.connect_options()).clone();
        let counted = one_connection()
            .after_connect(|conn: &mut sqlx::SqliteConnection, _| {
                Box::pin(async move {
                    let mut handle = conn.lock_handle().await?;
                    // SAFETY: the handle is the connection's open database, and the hook is a
                    // function with the signature SQLite calls, which only bumps a counter.
                    let code = unsafe {
                        libsqlite3_sys::sqlite3_trace_v2(
                            handle.as_raw_handle().as_ptr(),
                            libsqlite3_sys::SQLITE_TRACE_STMT as std::ffi::c_uint,
                            Some(sqlite_statement),
                            std::ptr::null_mut(),
                        )
                    };
                    assert_eq!(code, libsqlite3_sys::SQLITE_OK, "installing the trace hook");
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok((
            counted,
            Box::new(|| SQLITE_STATEMENTS.load(Ordering::SeqCst)),
        ))
    }
}

/// A server's pool through the counting proxy, the same for each server but for the types.
macro_rules! through_proxy {
    ($($db:ty),*) => {$(
        impl Counted for $db {
            async fn counted(
                pool: &Pool<Self>,
            ) -> habtm::Result<(Pool<Self>, Box<dyn Fn() -> usize>)> {
                let options = (*pool.connect_options()).clone();
                let proxy = proxy_to(options.get_host(), options.get_port())?;
                let options = options.host("127.0.0.1").port(proxy.port());
                let counted = one_connection().connect_with(options).await?;
                Ok((counted, Box::new(move || proxy.round_trips())))
            }
        }
    )*};
}

through_proxy!(sqlx::Postgres, sqlx::MySql);

/// The round trips of each operation, on one connection whose statements are prepared
/// already (every operation runs once before it is counted), printed as rows of the table;
/// on PostgreSQL each write is one round trip, but `set`, `destroy` and `delete_by_id`,
/// whose statement that reads the links must begin after a row is locked: `BEGIN`, the lock,
/// the statement, `COMMIT`.
async fn per_operation<DB: Backend + Counted>(pool: &Pool<DB>) -> habtm::Result<()> {
    let dialect = raw::dialect::<DB>();
    if dialect == habtm::Dialect::Postgres {
        // The parts were written with their ids: generated ones start after them.
        raw::execute(
            pool,
            r#"SELECT setval(pg_get_serial_sequence('"Part"', 'id'), 100000)"#,
        )
        .await?;
    }
    let (counted, round_trips) = DB::counted(pool).await?;
    let mut conn = counted.acquire().await?;
    let parts = Assembly::parts_of(2);
    let new_part = || NewPart {
        part_number: "new".into(),
    };
    let ids: Vec<i64> = (6_001..=6_100).collect();
    let mut rows: Vec<(&str, usize)> = Vec::new();
    for warm in [false, true] {
        let mut row = |op, n| {
            if warm {
                rows.push((op, n));
            }
        };
        // The round trips of one call, whose result is dropped.
        macro_rules! count {
            ($call:expr) => {{
                let before = round_trips();
                $call.await?;
                round_trips() - before
            }};
        }
        row("add (new link)", count!(parts.add(&mut conn, 6_001)));
        row("add (already linked)", count!(parts.add(&mut conn, 6_001)));
        row("remove", count!(parts.remove(&mut conn, 6_001)));
        let mut created = 0;
        row(
            "create",
            count!(async {
                created = parts.create(&mut conn, new_part()).await?.id;
                Ok::<_, habtm::Error>(())
            }),
        );
        let destroy = parts.destroy(&mut conn, created);
        row("destroy", count!(destroy));
        let add_many = parts.add_many(&mut conn, ids.clone());
        row("add_many (100 ids)", count!(add_many));
        let remove_many = parts.remove_many(&mut conn, ids.clone());
        row("remove_many (100 ids)", count!(remove_many));
        row(
            "set (3 links -> 100)",
            count!(parts.set(&mut conn, ids.clone())),
        );
        row("clear", count!(parts.clear(&mut conn)));
        parts.set(&mut conn, [4, 5, 6]).await?;
        row("count", count!(parts.count(&mut conn)));
        row("find", count!(parts.all(&mut conn)));
        let find_by_id = parts.find_by_id(&mut conn, 4);
        row("find_by_id", count!(find_by_id));
        row(
            "Model::create",
            count!(async {
                created = Part::create(&mut conn, new_part()).await?.id;
                Ok::<_, habtm::Error>(())
            }),
        );
        parts.add(&mut conn, created).await?;
        let delete = Part::delete_by_id(&mut conn, created);
        row("Model::delete_by_id (linked)", count!(delete));
    }
    let postgres = [1, 1, 1, 1, 4, 1, 1, 4, 1, 1, 1, 1, 1, 4];
    let mut wrong = Vec::new();
    for ((op, n), expected) in rows.into_iter().zip(postgres) {
        eprintln!("round trips | {dialect:?} | {op} | {n}");
        if dialect == habtm::Dialect::Postgres && n != expected {
            wrong.push(format!("{op}: {n}, not {expected}"));
        }
    }
    assert!(wrong.is_empty(), "round trips on PostgreSQL: {wrong:?}");
    drop(conn);
    counted.close().await;
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
