//! `db` as a pool, a pooled connection or the caller's transaction; conflicts inside the
//! caller's transaction, and `habtm::transaction`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use habtm::sqlx::{self, Acquire, Connection, Pool, SqlSafeStr};
use habtm::{Backend, Dialect, Error, Result};
use habtm_tests::raw;

use crate::models::*;

async fn a_rollback_undoes_add_and_create<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let engine = Assembly::create(pool, new_assembly("engine")).await?;
    let bolt = Part::create(pool, new_part("B")).await?;
    let mut tx = pool.begin().await?;
    engine.parts().add(&mut tx, bolt.id).await?;
    let created = engine.parts().create(&mut tx, new_part("N")).await?;
    engine.parts().set(&mut tx, [bolt.id, created.id]).await?;
    assert_eq!(
        engine.parts().count(&mut tx).await?,
        2,
        "visible inside the transaction"
    );
    tx.rollback().await?;
    assert_eq!(engine.parts().count(pool).await?, 0);
    assert_eq!(Part::find_by_id(pool, created.id).await?, None);

    let mut tx = pool.begin().await?;
    engine.parts().add(&mut tx, bolt.id).await?;
    tx.commit().await?;
    assert!(engine.parts().exists(pool, bolt.id).await?);
    Ok(())
}

/// A failed multi-statement call inside the caller's transaction undoes only itself.
async fn a_failed_call_leaves_the_callers_transaction_usable<DB: Backend>(
    pool: &Pool<DB>,
) -> Result<()> {
    schema(pool).await?;
    let engine = Assembly::create(pool, new_assembly("engine")).await?;
    let bolt = Part::create(pool, new_part("B")).await?;
    let mut tx = pool.begin().await?;
    engine.parts().add(&mut tx, bolt.id).await?;
    assert!(
        engine
            .parts()
            .add_many(&mut tx, [999_999])
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        engine
            .parts()
            .set(&mut tx, [999_999])
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(engine.parts().ids(&mut tx).await?, vec![bolt.id]);
    tx.commit().await?;
    assert_eq!(engine.parts().ids(pool).await?, vec![bolt.id]);
    Ok(())
}

async fn a_pooled_connection_works<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let mut conn = pool.acquire().await?;
    let engine = Assembly::create(&mut conn, new_assembly("engine")).await?;
    let bolt = engine.parts().create(&mut conn, new_part("B")).await?;
    assert_eq!(engine.parts().all(&mut conn).await?, vec![bolt]);
    Ok(())
}

/// Runs `sql` on `conn`.
async fn run<DB: Backend>(conn: &mut DB::Connection, sql: &str) -> Result<u64> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned()).into_sql_str();
    Ok(DB::execute(conn, sql, Default::default()).await?)
}

/// Makes a `set` in the caller's transaction `tx` lose to concurrent work, and returns its
/// error and the concurrent work, which ends once `tx` does. PostgreSQL and MySQL: a deadlock
/// with a second transaction, which holds the part that `set` links and then updates the
/// assembly that `tx` holds; `tx` is the victim (PostgreSQL aborts the one that waited first,
/// InnoDB the one that wrote less). SQLite: `tx` has read, another connection commits a write,
/// and `tx`'s snapshot is too old to write.
async fn lose_a_set<DB: Backend>(
    pool: &Pool<DB>,
    tx: &mut sqlx::Transaction<'_, DB>,
    kit: &Assembly,
    bolt: i64,
    ballast: &[i64],
) -> Result<(Error, tokio::task::JoinHandle<Result<()>>)> {
    if DB::DIALECT == Dialect::Sqlite {
        kit.parts().ids(&mut *tx).await?;
        Part::create(pool, new_part("elsewhere")).await?;
        let error = kit.parts().set(tx, [bolt]).await.unwrap_err();
        return Ok((error, tokio::spawn(async { Ok(()) })));
    }
    let q = raw::q::<DB>;
    let mut other = pool.begin().await?;
    for id in ballast {
        let weight = format!(
            "UPDATE {} SET {} = 1 WHERE {} = {id}",
            q("Part"),
            q("order"),
            q("id")
        );
        run::<DB>(&mut other, &weight).await?;
    }
    let hold = format!(
        "SELECT 1 FROM {} WHERE {} = {bolt} FOR UPDATE",
        q("Part"),
        q("id")
    );
    run::<DB>(&mut other, &hold).await?;
    let rename = format!(
        "UPDATE {} SET {} = 'taken' WHERE {} = {}",
        q("Assembly"),
        q("name"),
        q("id"),
        kit.id
    );
    let close_the_cycle = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        run::<DB>(&mut other, &rename).await?;
        other.commit().await?;
        Ok::<_, Error>(())
    });
    let error = kit.parts().set(tx, [bolt]).await.unwrap_err();
    Ok((error, close_the_cycle))
}

/// A conflict inside the caller's transaction: the error says to run the transaction again,
/// on MySQL the lost transaction takes no more writes (its server rolled it back: a write would
/// otherwise commit on its own), its rollback succeeds, nothing of it is stored, and the
/// connection serves the next call.
async fn a_conflict_in_the_callers_transaction<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let kit = Assembly::create(pool, new_assembly("kit")).await?;
    let bolt = Part::create(pool, new_part("bolt")).await?;
    let nut = Part::create(pool, new_part("nut")).await?;
    let mut ballast = Vec::new();
    for i in 0..20 {
        ballast.push(Part::create(pool, new_part(&format!("b{i}"))).await?.id);
    }
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    if DB::DIALECT != Dialect::Sqlite {
        kit.save(&mut tx).await?;
        kit.parts().add(&mut tx, nut.id).await?;
    }
    let (error, other) = lose_a_set(pool, &mut tx, &kit, bolt.id, &ballast).await?;
    assert!(
        matches!(
            error,
            Error::Conflict {
                in_transaction: true,
                attempts: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
    if DB::DIALECT == Dialect::MySql {
        for _ in 0..2 {
            let after = kit.parts().add(&mut tx, bolt.id).await;
            assert!(
                after.is_err(),
                "no autocommitted write after the server's rollback: {after:?}"
            );
        }
    }
    tx.rollback().await?;
    other.await.expect("the other transaction")?;
    assert_eq!(
        Assembly::find_by_id(&mut conn, kit.id).await?.map(|a| a.id),
        Some(kit.id)
    );
    assert_eq!(
        kit.parts().ids(&mut conn).await?,
        Vec::<i64>::new(),
        "nothing of it stored"
    );
    Ok(())
}

/// A real conflict for the transaction on `tx`: a lock `tx` waits for in vain (PostgreSQL's
/// lock timeout, MySQL's lock wait timeout), or on SQLite, where `tx` holds the write lock, a
/// write from another connection that does not wait.
async fn conflict_for<DB: Backend>(
    pool: &Pool<DB>,
    tx: &mut DB::Connection,
    held: i64,
) -> Result<()> {
    let q = raw::q::<DB>;
    let lock = format!(
        "SELECT 1 FROM {} WHERE {} = {held} FOR UPDATE",
        q("Part"),
        q("id")
    );
    match DB::DIALECT {
        Dialect::Sqlite => {
            let file = raw::texts(
                pool,
                "SELECT file FROM pragma_database_list WHERE name = 'main'",
                1,
            )
            .await?;
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&file[0][0])
                .busy_timeout(Duration::ZERO);
            let mut other = sqlx::SqliteConnection::connect_with(&options).await?;
            sqlx::query("UPDATE \"Part\" SET \"order\" = 1")
                .execute(&mut other)
                .await?;
            Ok(())
        }
        _ => {
            let mut holder = pool.begin().await?;
            run::<DB>(&mut holder, &lock).await?;
            let wait = match DB::DIALECT {
                Dialect::Postgres => "SET LOCAL lock_timeout = '50ms'",
                _ => "SET SESSION innodb_lock_wait_timeout = 1",
            };
            run::<DB>(tx, wait).await?;
            let waited = run::<DB>(tx, &lock).await;
            holder.rollback().await?;
            waited.map(|_| ())
        }
    }
}

/// `habtm::transaction` runs its closure again after a conflict, and only the last run's
/// writes stay; any other error ends it at once, rolled back. Written for each concrete
/// backend, as an application calls it.
macro_rules! transaction_helper {
    ($($module:ident: $db:ty),*) => {$(
        mod $module {
            use super::*;

            async fn runs_again(pool: Pool<$db>) -> Result<()> {
                schema(&pool).await?;
                let kit = Assembly::create(&pool, new_assembly("kit")).await?;
                let bolt = Part::create(&pool, new_part("bolt")).await?;
                let nut = Part::create(&pool, new_part("nut")).await?;
                let held = Part::create(&pool, new_part("held")).await?;
                let runs = Arc::new(AtomicU32::new(0));
                let last = habtm::transaction(&pool, |tx| {
                    let (pool, kit, runs) = (pool.clone(), kit.clone(), runs.clone());
                    Box::pin(async move {
                        let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
                        if run == 1 {
                            kit.parts().add(&mut **tx, nut.id).await?;
                            conflict_for::<$db>(&pool, tx, held.id).await?;
                        }
                        kit.parts().add(&mut **tx, bolt.id).await?;
                        Ok::<_, Error>(run)
                    })
                })
                .await?;
                assert_eq!(last, 2, "the closure ran again after the conflict");
                assert_eq!(kit.parts().ids(&pool).await?, vec![bolt.id], "only the last run's writes");

                let runs = Arc::new(AtomicU32::new(0));
                let failed: Result<()> = habtm::transaction(&pool, |tx| {
                    let (kit, runs) = (kit.clone(), runs.clone());
                    Box::pin(async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        kit.parts().add(&mut **tx, nut.id).await?;
                        kit.parts().add(&mut **tx, 999_999).await
                    })
                })
                .await;
                assert!(failed.unwrap_err().is_not_found());
                assert_eq!(runs.load(Ordering::SeqCst), 1, "no retry for a missing row");
                assert_eq!(kit.parts().ids(&pool).await?, vec![bolt.id], "rolled back");
                Ok(())
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_transaction_helper_runs_again() {
                habtm_tests::run::<$db, _, _>(concat!(stringify!($module), "_helper"), runs_again).await;
            }
        }
    )*};
}

transaction_helper!(helper_sqlite: sqlx::Sqlite, helper_postgres: sqlx::Postgres, helper_mysql: sqlx::MySql);

habtm_tests::on_every_backend!(
    a_rollback_undoes_add_and_create,
    a_failed_call_leaves_the_callers_transaction_usable,
    a_pooled_connection_works,
    a_conflict_in_the_callers_transaction,
);

/// `&mut *tx`, as the README shows it, with the concrete connection types.
macro_rules! deref_transaction {
    ($($module:ident: $db:ty),*) => {$(
        mod $module {
            use super::*;

            #[tokio::test]
            async fn deref_transaction() {
                habtm_tests::run::<$db, _, _>(concat!(stringify!($module), "_deref_tx"), |pool| async move {
                    schema(&pool).await?;
                    let engine = Assembly::create(&pool, new_assembly("engine")).await?;
                    let mut tx = pool.begin().await?;
                    let bolt = engine.parts().create(&mut *tx, new_part("B")).await?;
                    assert!(engine.parts().exists(&mut *tx, bolt.id).await?);
                    let conn: &mut <$db as sqlx::Database>::Connection = (&mut tx).acquire().await?;
                    assert_eq!(engine.parts().count(conn).await?, 1);
                    tx.rollback().await?;
                    assert_eq!(engine.parts().count(&pool).await?, 0);
                    Ok(())
                })
                .await;
            }
        }
    )*};
}

deref_transaction!(deref_sqlite: sqlx::Sqlite, deref_postgres: sqlx::Postgres, deref_mysql: sqlx::MySql);
