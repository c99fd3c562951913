//! LoopBack-shaped schemas, failures half-way through an operation, and batches of
//! 100,000 ids.

use habtm::sqlx::{self, Pool};
use habtm::{Backend, Dialect, Error, Filter, Model, Result};
use habtm_tests::raw;

use crate::models::*;

/// A pair laid out the way LoopBack's SQL connectors create it: the join table has its own
/// `id`, camelCase keys, and neither foreign keys nor a unique key on the pair.
#[derive(Debug, Clone, PartialEq, Model)]
#[relation(
    has_and_belongs_to_many,
    model = "Student",
    through_table = "CourseStudent",
    foreign_key = "courseId",
    key_through = "studentId"
)]
pub struct Course {
    /// LoopBack's PostgreSQL connector makes ids `SERIAL`, that is `INT4`.
    pub id: i32,
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
    pub id: i32,
    pub name: String,
}

/// The DDL LoopBack would have run, by hand.
pub async fn loopback_schema<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let (serial, text) = match DB::DIALECT {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT"),
        Dialect::Postgres => ("SERIAL PRIMARY KEY", "TEXT"),
        Dialect::MySql => ("INT AUTO_INCREMENT PRIMARY KEY", "VARCHAR(512)"),
    };
    let q = raw::q::<DB>;
    for (table, column) in [("Course", "title"), ("Student", "name")] {
        raw::execute(
            pool,
            &format!(
                "CREATE TABLE {} ({} {serial}, {} {text})",
                q(table),
                q("id"),
                q(column)
            ),
        )
        .await?;
    }
    let sql = format!(
        "CREATE TABLE {} ({} {serial}, {} INTEGER, {} INTEGER)",
        q("CourseStudent"),
        q("id"),
        q("courseId"),
        q("studentId")
    );
    raw::execute(pool, &sql).await?;
    Ok(())
}

pub async fn join_rows<DB: Backend>(pool: &Pool<DB>) -> Result<i64> {
    raw::count_rows(pool, "CourseStudent").await
}

async fn loopback_shaped_schema<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    loopback_schema(pool).await?;
    let maths = Course::create(
        pool,
        NewCourse {
            title: "maths".into(),
        },
    )
    .await?;
    let ada = maths
        .students()
        .create(pool, NewStudent { name: "Ada".into() })
        .await?;
    let bob = Student::create(pool, NewStudent { name: "Bob".into() }).await?;
    maths.students().add(pool, bob.id).await?;
    maths.students().add(pool, bob.id).await?;
    assert_eq!(
        join_rows(pool).await?,
        2,
        "a second add writes nothing, even without a unique key"
    );
    assert!(
        maths
            .students()
            .add(pool, 999)
            .await
            .unwrap_err()
            .is_not_found(),
        "no foreign key needed"
    );
    assert_eq!(join_rows(pool).await?, 2);
    // A duplicate row such as LoopBack itself leaves behind.
    let q = raw::q::<DB>;
    let sql = format!(
        "INSERT INTO {} ({}, {}) VALUES ({}, {})",
        q("CourseStudent"),
        q("courseId"),
        q("studentId"),
        maths.id,
        bob.id
    );
    raw::execute(pool, &sql).await?;
    assert_eq!(
        maths.students().all(pool).await?,
        vec![ada.clone(), bob.clone()],
        "each student once"
    );
    assert_eq!(maths.students().count(pool).await?, 2);
    assert_eq!(bob.courses().all(pool).await?, vec![maths.clone()]);
    let found = maths
        .students()
        .find(pool, Filter::new().filter(Student::NAME.eq("Bob")))
        .await?;
    assert_eq!(found, vec![bob.clone()]);
    assert!(maths.students().remove(pool, bob.id).await?);
    assert_eq!(join_rows(pool).await?, 1, "both copies of the link went");
    maths.students().set(pool, [bob.id]).await?;
    assert_eq!(maths.students().ids(pool).await?, vec![bob.id]);
    assert!(maths.students().destroy(pool, bob.id).await?);
    assert_eq!(
        join_rows(pool).await?,
        0,
        "no dangling link without ON DELETE CASCADE"
    );
    assert_eq!(Student::find_by_id(pool, bob.id).await?, None);
    let loaded = Course::load_students(pool, std::slice::from_ref(&maths), Filter::new()).await?;
    assert!(loaded[0].is_empty());
    Ok(())
}

/// `add_many`, `set`, `remove_many` and eager loading with 100,000 ids: chunked under each
/// backend's bind limit, and all or nothing.
async fn a_hundred_thousand_ids<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let kit = Assembly::create(pool, new_assembly("kit")).await?;
    let n: i64 = 100_000;
    let q = raw::q::<DB>;
    let ids: Vec<i64> = (1..=n).collect();
    for chunk in ids.chunks(5_000) {
        let values: Vec<String> = chunk.iter().map(|i| format!("({i}, 'P-{i}')")).collect();
        let sql = format!(
            "INSERT INTO {} ({}, {}) VALUES {}",
            q("Part"),
            q("id"),
            q("part_number"),
            values.join(", ")
        );
        raw::execute(pool, &sql).await?;
    }
    let mut with_missing = ids.clone();
    with_missing.push(n + 1);
    assert!(
        kit.parts()
            .add_many(pool, with_missing.clone())
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(kit.parts().count(pool).await?, 0, "nothing written");
    assert_eq!(kit.parts().add_many(pool, ids.clone()).await?, n as u64);
    assert_eq!(kit.parts().count(pool).await?, n as u64);
    assert!(
        kit.parts()
            .set(pool, with_missing)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(
        kit.parts().count(pool).await?,
        n as u64,
        "a failed set changes nothing"
    );
    kit.parts()
        .set(pool, ids.iter().copied().filter(|id| id % 2 == 0))
        .await?;
    assert_eq!(kit.parts().count(pool).await?, n as u64 / 2);
    let parts = Part::find(pool, Filter::new()).await?;
    assert_eq!(parts.len(), n as usize);
    let assemblies = Part::load_assemblies(pool, &parts, Filter::new()).await?;
    assert!(
        assemblies
            .iter()
            .zip(&parts)
            .all(|(a, p)| a.len() == usize::from(p.id % 2 == 0))
    );
    assert_eq!(kit.parts().remove_many(pool, ids).await?, n as u64 / 2);
    assert_eq!(kit.parts().count(pool).await?, 0);
    Ok(())
}

habtm_tests::on_every_backend!(loopback_shaped_schema, a_hundred_thousand_ids);

/// A trigger that refuses one statement half-way through an operation. Written per backend
/// with the driver's text protocol: MySQL does not prepare `CREATE TRIGGER`.
fn refuse(dialect: Dialect, table: &str, event: &str, condition: &str) -> Vec<String> {
    match dialect {
        Dialect::Sqlite => vec![format!(
            "CREATE TRIGGER refuse BEFORE {event} ON \"{table}\" WHEN {condition} BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )],
        Dialect::Postgres => vec![
            format!(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF {condition} THEN RAISE EXCEPTION 'refused'; END IF; \
                 RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END; END $$ LANGUAGE plpgsql"
            ),
            format!(
                "CREATE TRIGGER refuse BEFORE {event} ON \"{table}\" FOR EACH ROW EXECUTE FUNCTION refuse()"
            ),
        ],
        Dialect::MySql => vec![format!(
            "CREATE TRIGGER refuse BEFORE {event} ON `{table}` FOR EACH ROW BEGIN IF {condition} THEN \
             SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'; END IF; END"
        )],
    }
}

/// Whether the error names the operation and keeps the database's refusal as its source.
fn refused(error: &Error, operation: &str) -> bool {
    let Error::Database {
        operation: op,
        source,
    } = error
    else {
        return false;
    };
    op == operation && source.to_string().contains("refused")
}

/// A statement that fails half-way through `create`, `set` and `destroy` leaves all of the
/// operation or none of it.
macro_rules! failures_half_way {
    ($($module:ident: $db:ty),*) => {$(
        mod $module {
            use super::*;

            async fn triggers(pool: &Pool<$db>, table: &str, event: &str, condition: &str) -> Result<()> {
                for sql in refuse(<$db as Backend>::DIALECT, table, event, condition) {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
                }
                Ok(())
            }

            #[tokio::test]
            async fn failures_half_way() {
                habtm_tests::run::<$db, _, _>(concat!(stringify!($module), "_faults"), |pool| async move {
                    let pool = &pool;
                    schema(pool).await?;
                    let kit = Assembly::create(pool, new_assembly("kit")).await?;
                    let keep = kit.parts().create(pool, new_part("keep")).await?;
                    let poison = Part::create(pool, new_part("poison")).await?;
                    let q = raw::q::<$db>;
                    let refused_parts = format!(
                        "EXISTS (SELECT 1 FROM {} WHERE {} = NEW.{} AND {} IN ('doomed', 'poison'))",
                        q("Part"), q("id"), q("part_id"), q("part_number")
                    );
                    triggers(pool, "AssemblyPart", "INSERT", &refused_parts).await?;

                    // create: the part is inserted, then the link is refused: no part remains.
                    let error = kit.parts().create(pool, new_part("doomed")).await.unwrap_err();
                    assert!(refused(&error, "Assembly.parts.create"), "{error:?}");
                    let doomed = Part::find(pool, Filter::new().filter(Part::PART_NUMBER.eq("doomed"))).await?;
                    assert!(doomed.is_empty(), "the inserted part was rolled back");

                    // set: `keep` is unlinked, then linking the poison part is refused.
                    let error = kit.parts().set(pool, [poison.id]).await.unwrap_err();
                    assert!(refused(&error, "Assembly.parts.set"), "{error:?}");
                    assert_eq!(kit.parts().ids(pool).await?, vec![keep.id], "the unlink was undone");
                    Ok(())
                })
                .await;
            }

            #[tokio::test]
            async fn destroy_half_way() {
                habtm_tests::run::<$db, _, _>(concat!(stringify!($module), "_destroy_fault"), |pool| async move {
                    let pool = &pool;
                    schema(pool).await?;
                    let kit = Assembly::create(pool, new_assembly("kit")).await?;
                    let other = Assembly::create(pool, new_assembly("other")).await?;
                    let part = kit.parts().create(pool, new_part("held")).await?;
                    other.parts().add(pool, part.id).await?;
                    triggers(pool, "Part", "DELETE", "OLD.part_number = 'held'").await?;
                    let error = kit.parts().destroy(pool, part.id).await.unwrap_err();
                    assert!(refused(&error, "Assembly.parts.destroy"), "{error:?}");
                    assert!(kit.parts().exists(pool, part.id).await?, "the links were restored");
                    assert!(other.parts().exists(pool, part.id).await?);
                    assert_eq!(Part::find_by_id(pool, part.id).await?, Some(part));
                    Ok(())
                })
                .await;
            }
        }
    )*};
}

failures_half_way!(faults_sqlite: sqlx::Sqlite, faults_postgres: sqlx::Postgres, faults_mysql: sqlx::MySql);

/// A PostgreSQL connection killed in the middle of `create`, `set` and `destroy`
/// (`pg_terminate_backend` from a second connection, while a trigger holds the operation
/// half-way) leaves none of the operation behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connection_killed_half_way() {
    use habtm::sqlx::Postgres;

    /// Kills the backend that sleeps in the trigger, once it is there.
    async fn kill_sleeper(pool: &Pool<Postgres>) -> Result<()> {
        for _ in 0..200 {
            let killed: Option<bool> = sqlx::query_scalar(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE wait_event = 'PgSleep' AND pid <> pg_backend_pid() AND query LIKE '%\"AssemblyPart\"%' \
                 OR wait_event = 'PgSleep' AND query LIKE 'DELETE FROM \"Part\"%' LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            if killed == Some(true) {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the operation never reached the trigger");
    }

    habtm_tests::run::<Postgres, _, _>("pg_killed_half_way", |pool| async move {
        let pool = &pool;
        schema(pool).await?;
        let kit = Assembly::create(pool, new_assembly("kit")).await?;
        let keep = kit.parts().create(pool, new_part("keep")).await?;
        let slow = Part::create(pool, new_part("slow")).await?;
        for sql in [
            "CREATE FUNCTION linger() RETURNS trigger AS $$ BEGIN \
             IF EXISTS (SELECT 1 FROM \"Part\" WHERE id = NEW.part_id AND part_number IN ('slow', 'doomed')) \
             THEN PERFORM pg_sleep(30); END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER linger BEFORE INSERT ON \"AssemblyPart\" FOR EACH ROW EXECUTE FUNCTION linger()",
            "CREATE FUNCTION linger_delete() RETURNS trigger AS $$ BEGIN \
             IF OLD.part_number = 'keep' THEN PERFORM pg_sleep(30); END IF; RETURN OLD; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER linger_delete BEFORE DELETE ON \"Part\" FOR EACH ROW EXECUTE FUNCTION linger_delete()",
        ] {
            sqlx::raw_sql(sql).execute(pool).await?;
        }

        let parts = kit.parts();
        let (created, killed) = tokio::join!(parts.create(pool, new_part("doomed")), kill_sleeper(pool));
        killed?;
        assert!(matches!(created, Err(Error::Database { .. })), "{created:?}");
        let doomed = Part::find(pool, Filter::new().filter(Part::PART_NUMBER.eq("doomed"))).await?;
        assert!(doomed.is_empty(), "the part inserted before the kill is gone");

        let (set, killed) = tokio::join!(parts.set(pool, [slow.id]), kill_sleeper(pool));
        killed?;
        assert!(set.is_err());
        assert_eq!(kit.parts().ids(pool).await?, vec![keep.id], "the unlink before the kill is undone");

        let (destroyed, killed) = tokio::join!(parts.destroy(pool, keep.id), kill_sleeper(pool));
        killed?;
        assert!(destroyed.is_err());
        assert_eq!(kit.parts().ids(pool).await?, vec![keep.id], "the link deleted before the kill is back");
        assert_eq!(Part::find_by_id(pool, keep.id).await?, Some(keep.clone()));
        Ok(())
    })
    .await;
}
