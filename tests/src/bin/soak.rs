//! The soak: many tasks mixing every write of habtm on the same rows for a fixed time, on
//! each backend, then every invariant checked. Its figures are in RELIABILITY.md.
//!
//! ```text
//! cargo run --release -p habtm-tests --bin soak -- [--seconds 60] [--tasks 16] [--backend all|sqlite|postgres|mysql]
//! ```
//!
//! Each backend gets a fresh database (as the tests do). Every task owns one assembly whose
//! links only it writes, to "stable" parts that nobody deletes: it knows what they must be
//! at the end (no lost link, no phantom one). All tasks also write the shared assemblies and
//! parts from both sides of the relation, on a LoopBack-shaped join table (an `id`, no unique
//! key, no foreign keys), and delete shared parts. A call may only succeed, or fail with
//! `NotFound` (a shared row another task deleted) or `Conflict` (the retry budget ran out);
//! anything else is a violation. At the end: no pair stored twice, no link to a missing row,
//! every owned assembly exactly as its task left it. The exit code is 1 on any violation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use habtm::sqlx::{self, Pool};
use habtm::{Backend, Dialect, Error, Filter, Model, Schema};
use habtm_tests::{TestBackend, raw};

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

/// LoopBack's own layout: the join table has an `id` and nothing unique.
#[derive(Debug, Clone, PartialEq, Model)]
#[relation(
    has_and_belongs_to_many,
    model = "Student",
    through_table = "CourseStudent",
    foreign_key = "courseId",
    key_through = "studentId"
)]
pub struct Course {
    pub id: i64,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[relation(
    has_and_belongs_to_many,
    model = "Course",
    through_table = "CourseStudent",
    foreign_key = "studentId",
    key_through = "courseId"
)]
pub struct Student {
    pub id: i64,
    pub name: String,
}

/// Options from the command line.
struct Options {
    seconds: u64,
    tasks: u64,
    backends: Vec<String>,
    /// Only the calls whose names start with one of these (all when empty).
    calls: Vec<String>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        seconds: 30,
        tasks: 16,
        backends: vec!["sqlite".into(), "postgres".into(), "mysql".into()],
        calls: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--seconds" => {
                options.seconds = value.parse().map_err(|e| format!("--seconds: {e}"))?
            }
            "--tasks" => options.tasks = value.parse().map_err(|e| format!("--tasks: {e}"))?,
            "--backend" if value == "all" => {}
            "--backend" => options.backends = vec![value],
            "--calls" => options.calls = value.split(',').map(str::to_owned).collect(),
            other => {
                return Err(format!(
                    "unknown flag {other}; the flags are --seconds, --tasks, --backend, --calls"
                ));
            }
        }
    }
    Ok(options)
}

/// What happened to each kind of call: successes, documented errors, violations.
#[derive(Default)]
struct Outcomes {
    by_op: BTreeMap<&'static str, [u64; 4]>,
    violations: Vec<String>,
}

const OK: usize = 0;
const NOT_FOUND: usize = 1;
const CONFLICT: usize = 2;
const OTHER: usize = 3;

impl Outcomes {
    fn record(&mut self, op: &'static str, result: &habtm::Result<()>) {
        let kind = match result {
            Ok(()) => OK,
            Err(Error::NotFound { .. }) => NOT_FOUND,
            Err(Error::Conflict { .. }) => CONFLICT,
            Err(other) => {
                self.violations
                    .push(format!("{op}: {}", habtm_tests::chain(other)));
                OTHER
            }
        };
        self.by_op.entry(op).or_default()[kind] += 1;
    }
}

/// Counts habtm's retries from its `habtm::retry` events.
#[derive(Default)]
struct Retries {
    retried: AtomicU64,
    gave_up: AtomicU64,
}

/// The tracing layer that feeds [`Retries`].
struct CountRetries(Arc<Retries>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountRetries {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != "habtm::retry" {
            return;
        }
        let giving_up = event.metadata().fields().field("attempts").is_some();
        let counter = if giving_up {
            &self.0.gave_up
        } else {
            &self.0.retried
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A small deterministic generator per task.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

/// The rows every task works on.
struct World {
    shared: Vec<i64>,
    stable: Vec<i64>,
    /// Parts that calls delete, and new ones that calls create, so that deletions go on for
    /// the whole run.
    doomed: Mutex<Vec<i64>>,
    courses: Vec<i64>,
    students: Vec<i64>,
}

async fn setup<DB: Backend>(pool: &Pool<DB>, tasks: u64) -> habtm::Result<(World, Vec<Assembly>)> {
    Schema::new()
        .model::<Assembly>()
        .model::<Part>()
        .create_all(pool)
        .await?;
    let (serial, text) = match DB::DIALECT {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT"),
        Dialect::Postgres => ("BIGSERIAL PRIMARY KEY", "TEXT"),
        Dialect::MySql => ("BIGINT AUTO_INCREMENT PRIMARY KEY", "VARCHAR(255)"),
    };
    let q = raw::q::<DB>;
    for (table, column) in [("Course", "title"), ("Student", "name")] {
        let sql = format!(
            "CREATE TABLE {} ({} {serial}, {} {text} NOT NULL)",
            q(table),
            q("id"),
            q(column)
        );
        raw::execute(pool, &sql).await?;
    }
    let sql = format!(
        "CREATE TABLE {} ({} {serial}, {} BIGINT, {} BIGINT)",
        q("CourseStudent"),
        q("id"),
        q("courseId"),
        q("studentId")
    );
    raw::execute(pool, &sql).await?;
    let mut world = World {
        shared: Vec::new(),
        stable: Vec::new(),
        doomed: Mutex::new(Vec::new()),
        courses: Vec::new(),
        students: Vec::new(),
    };
    for n in 0..4 {
        world.shared.push(
            Assembly::create(
                pool,
                NewAssembly {
                    name: format!("shared-{n}"),
                },
            )
            .await?
            .id,
        );
        world.courses.push(
            Course::create(
                pool,
                NewCourse {
                    title: format!("course-{n}"),
                },
            )
            .await?
            .id,
        );
    }
    for n in 0..12 {
        world.stable.push(
            Part::create(
                pool,
                NewPart {
                    part_number: format!("stable-{n}"),
                },
            )
            .await?
            .id,
        );
        world.students.push(
            Student::create(
                pool,
                NewStudent {
                    name: format!("student-{n}"),
                },
            )
            .await?
            .id,
        );
    }
    for n in 0..200 {
        world.doomed.get_mut().expect("doomed").push(
            Part::create(
                pool,
                NewPart {
                    part_number: format!("doomed-{n}"),
                },
            )
            .await?
            .id,
        );
    }
    let mut owned = Vec::new();
    for task in 0..tasks {
        owned.push(
            Assembly::create(
                pool,
                NewAssembly {
                    name: format!("owned-{task}"),
                },
            )
            .await?,
        );
    }
    Ok((world, owned))
}

/// The calls the tasks make, by name; `task` makes call `i` for `CALLS[i]`.
const CALLS: [&str; 21] = [
    "owned.add",
    "owned.remove",
    "owned.set",
    "owned.add_many",
    "owned.remove_many",
    "shared.add",
    "shared.set",
    "shared.add_many",
    "shared.clear",
    "shared.create",
    "shared.destroy",
    "shared.update_by_id",
    "part.assemblies.add",
    "part.assemblies.set",
    "Part::delete_by_id",
    "Part::create",
    "Assembly::save",
    "loopback.add",
    "loopback.set",
    "loopback.other_side.add_many",
    "transaction",
];

/// One task: random calls until `deadline`; returns what its owned assembly must link.
async fn task<DB: Backend>(
    pool: Pool<DB>,
    world: Arc<World>,
    owned: Assembly,
    seed: u64,
    deadline: Instant,
    calls: Arc<Vec<String>>,
    outcomes: Arc<Mutex<Outcomes>>,
) -> BTreeSet<i64> {
    let mut rng = Rng(seed * 0x9E37_79B9 + 1);
    let mut expected = BTreeSet::new();
    let pick = |rng: &mut Rng, from: &[i64]| from[rng.below(from.len())];
    let allowed: Vec<usize> = (0..CALLS.len())
        .filter(|&i| calls.is_empty() || calls.iter().any(|c| CALLS[i].starts_with(c.as_str())))
        .collect();
    while Instant::now() < deadline && !allowed.is_empty() {
        let call = allowed[rng.below(allowed.len())];
        let stable = pick(&mut rng, &world.stable);
        let doomed = {
            let doomed = world.doomed.lock().expect("doomed");
            pick(&mut rng, &doomed)
        };
        let keep = |part: Part| world.doomed.lock().expect("doomed").push(part.id);
        let shared_id = pick(&mut rng, &world.shared);
        let shared = Assembly::parts_of(shared_id);
        let some: Vec<i64> = (0..rng.below(6))
            .map(|_| pick(&mut rng, &world.stable))
            .collect();
        let course = Course::students_of(pick(&mut rng, &world.courses));
        let student = pick(&mut rng, &world.students);
        let students: Vec<i64> = (0..rng.below(4))
            .map(|_| pick(&mut rng, &world.students))
            .collect();
        let renamed = || NewPart {
            part_number: format!("stable-{stable}"),
        };
        let result = match call {
            0 => owned.parts().add(&pool, stable).await.map(|()| {
                expected.insert(stable);
            }),
            1 => owned.parts().remove(&pool, stable).await.map(|_| {
                expected.remove(&stable);
            }),
            2 => owned.parts().set(&pool, some.clone()).await.map(|()| {
                expected = some.iter().copied().collect();
            }),
            3 => owned.parts().add_many(&pool, some.clone()).await.map(|_| {
                expected.extend(&some);
            }),
            4 => owned
                .parts()
                .remove_many(&pool, some.clone())
                .await
                .map(|_| {
                    for id in &some {
                        expected.remove(id);
                    }
                }),
            5 => shared.add(&pool, doomed).await,
            6 => shared.set(&pool, [doomed, stable]).await,
            7 => shared.add_many(&pool, [doomed, stable]).await.map(|_| ()),
            8 => shared.clear(&pool).await.map(|_| ()),
            9 => shared
                .create(
                    &pool,
                    NewPart {
                        part_number: "new".into(),
                    },
                )
                .await
                .map(keep),
            10 => shared.destroy(&pool, doomed).await.map(|_| ()),
            11 => shared
                .update_by_id(&pool, stable, renamed())
                .await
                .map(|_| ()),
            12 => Part::assemblies_of(stable).add(&pool, shared_id).await,
            13 => {
                let first_two = world.shared.iter().copied().take(2);
                Part::assemblies_of(doomed).set(&pool, first_two).await
            }
            14 => Part::delete_by_id(&pool, doomed).await.map(|_| ()),
            15 => Part::create(
                &pool,
                NewPart {
                    part_number: "doomed".into(),
                },
            )
            .await
            .map(keep),
            16 => owned.save(&pool).await,
            17 => course.add(&pool, student).await,
            18 => course.set(&pool, students).await,
            19 => {
                let first_three = world.courses.iter().copied().take(3);
                Student::courses_of(student)
                    .add_many(&pool, first_three)
                    .await
                    .map(|_| ())
            }
            _ => {
                habtm::transaction(&pool, |tx| {
                    let (shared, owned) = (shared.clone(), owned.clone());
                    Box::pin(async move {
                        shared.add(&mut *tx, stable).await?;
                        owned.save(&mut *tx).await?;
                        shared.count(&mut *tx).await.map(|_| ())
                    })
                })
                .await
            }
        };
        outcomes
            .lock()
            .expect("outcomes")
            .record(CALLS[call], &result);
    }
    expected
}

/// Checks every invariant; returns the violations.
async fn check<DB: Backend>(
    pool: &Pool<DB>,
    world: &World,
    owned: &[Assembly],
    expected: &[BTreeSet<i64>],
) -> habtm::Result<Vec<String>> {
    let mut violations = Vec::new();
    let q = raw::q::<DB>;
    for (join, a, b, left, right) in [
        ("AssemblyPart", "assembly_id", "part_id", "Assembly", "Part"),
        (
            "CourseStudent",
            "courseId",
            "studentId",
            "Course",
            "Student",
        ),
    ] {
        let duplicated = raw::int(
            pool,
            &format!(
                "SELECT COUNT(*) FROM (SELECT {a}, {b} FROM {j} GROUP BY {a}, {b} HAVING COUNT(*) > 1) AS d",
                j = q(join),
                a = q(a),
                b = q(b)
            ),
        )
        .await?;
        if duplicated > 0 {
            violations.push(format!("{join}: {duplicated} pairs stored more than once"));
        }
        let dangling = raw::int(
            pool,
            &format!(
                "SELECT COUNT(*) FROM {j} WHERE {a} NOT IN (SELECT {id} FROM {l}) OR {b} NOT IN (SELECT {id} FROM {r})",
                j = q(join),
                a = q(a),
                b = q(b),
                id = q("id"),
                l = q(left),
                r = q(right)
            ),
        )
        .await?;
        if dangling > 0 {
            violations.push(format!("{join}: {dangling} links to missing rows"));
        }
    }
    for (assembly, expected) in owned.iter().zip(expected) {
        let stored: BTreeSet<i64> = assembly.parts().ids(pool).await?.into_iter().collect();
        if &stored != expected {
            violations.push(format!(
                "{}: stored {stored:?}, its task left {expected:?}",
                assembly.name
            ));
        }
    }
    let stable = Filter::new().filter(Part::ID.is_in(world.stable.iter().copied()));
    let left = Part::find(pool, stable).await?.len();
    if left != world.stable.len() {
        violations.push(format!(
            "{left} stable parts left; all {} must stay",
            world.stable.len()
        ));
    }
    Ok(violations)
}

/// Runs the soak on one backend and prints its report; `false` on a violation.
async fn soak<DB: TestBackend>(options: &Options, retries: &Arc<Retries>) -> bool {
    let Some(db) = DB::open("soak").await else {
        println!("## {}: skipped (no server)\n", DB::LABEL);
        return true;
    };
    let pool = db.pool.clone();
    let (world, owned) = match setup(&pool, options.tasks).await {
        Ok(setup) => setup,
        Err(e) => {
            println!("## {}: setup failed: {}", DB::LABEL, habtm_tests::chain(&e));
            return false;
        }
    };
    let world = Arc::new(world);
    let calls = Arc::new(options.calls.clone());
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let (retried, gave_up) = (
        retries.retried.load(Ordering::Relaxed),
        retries.gave_up.load(Ordering::Relaxed),
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let handles: Vec<_> = owned
        .iter()
        .enumerate()
        .map(|(i, assembly)| {
            tokio::spawn(task(
                pool.clone(),
                world.clone(),
                assembly.clone(),
                i as u64 + 1,
                deadline,
                calls.clone(),
                outcomes.clone(),
            ))
        })
        .collect();
    let mut expected = Vec::new();
    for handle in handles {
        expected.push(handle.await.expect("a task"));
    }
    let elapsed = started.elapsed();
    let checked = check(&pool, &world, &owned, &expected).await;
    db.close().await;
    let outcomes = outcomes.lock().expect("outcomes");
    let total: u64 = outcomes.by_op.values().map(|c| c.iter().sum::<u64>()).sum();
    let mut report = String::new();
    let _ = writeln!(
        report,
        "## {} — {} tasks, {:.1} s: {total} calls, {:.0} calls/s, {} retries, {} calls out of retry budget\n",
        DB::LABEL,
        options.tasks,
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        retries.retried.load(Ordering::Relaxed) - retried,
        retries.gave_up.load(Ordering::Relaxed) - gave_up,
    );
    let _ = writeln!(
        report,
        "| call | ok | NotFound | Conflict | other |\n|---|---:|---:|---:|---:|"
    );
    for (op, [ok, not_found, conflict, other]) in &outcomes.by_op {
        let _ = writeln!(
            report,
            "| {op} | {ok} | {not_found} | {conflict} | {other} |"
        );
    }
    let mut violations = outcomes.violations.clone();
    match checked {
        Ok(found) => violations.extend(found),
        Err(e) => violations.push(format!("the checks failed: {}", habtm_tests::chain(&e))),
    }
    let _ = writeln!(
        report,
        "\nInvariants (no duplicate, no dangling, no lost or phantom link, only documented errors): {}",
        if violations.is_empty() {
            "all hold".to_owned()
        } else {
            format!("{} VIOLATIONS", violations.len())
        }
    );
    for violation in violations.iter().take(20) {
        let _ = writeln!(report, "- {violation}");
    }
    println!("{report}");
    violations.is_empty()
}

#[tokio::main]
async fn main() {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("soak: {message}");
            std::process::exit(2);
        }
    };
    let retries = Arc::new(Retries::default());
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber = tracing_subscriber::registry().with(CountRetries(retries.clone()));
    tracing::subscriber::set_global_default(subscriber).expect("a subscriber");
    println!(
        "# soak: {} s per backend, {} tasks\n",
        options.seconds, options.tasks
    );
    let mut ok = true;
    for backend in &options.backends {
        ok &= match backend.as_str() {
            "sqlite" => soak::<sqlx::Sqlite>(&options, &retries).await,
            "postgres" => soak::<sqlx::Postgres>(&options, &retries).await,
            "mysql" => soak::<sqlx::MySql>(&options, &retries).await,
            other => {
                eprintln!("soak: unknown backend {other}; use sqlite, postgres, mysql or all");
                std::process::exit(2);
            }
        };
    }
    std::process::exit(if ok { 0 } else { 1 });
}
