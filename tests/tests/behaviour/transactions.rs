//! `db` as a pool, a pooled connection or the caller's transaction.

use habtm::sqlx::{self, Acquire, Pool};
use habtm::{Backend, Result};

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

habtm_tests::on_every_backend!(
    a_rollback_undoes_add_and_create,
    a_failed_call_leaves_the_callers_transaction_usable,
    a_pooled_connection_works,
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
