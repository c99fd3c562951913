//! The README's migrations walk-through, on every backend: `Schema::sql` written into a
//! migration file, run by sqlx's own migrator, once.

use habtm::sqlx::migrate::Migrator;
use habtm::{Model, Schema};

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

macro_rules! walk_through {
    ($name:ident, $db:ty) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            habtm_tests::run::<$db, _, _>(stringify!($name), |pool| async move {
                // `migrations/0001_habtm.sql`, as the README writes it.
                let migrations = tempfile::tempdir().expect("a folder");
                let schema = Schema::new().model::<Assembly>().model::<Part>();
                std::fs::write(
                    migrations.path().join("0001_habtm.sql"),
                    schema.sql::<$db>(),
                )
                .expect("the migration");
                let migrator = Migrator::new(migrations.path()).await.map_err(sqlx_error)?;
                migrator.run(&pool).await.map_err(sqlx_error)?;
                // Run again: already applied, nothing to do.
                migrator.run(&pool).await.map_err(sqlx_error)?;
                let engine = Assembly::create(
                    &pool,
                    NewAssembly {
                        name: "engine".into(),
                    },
                )
                .await?;
                let bolt = engine
                    .parts()
                    .create(
                        &pool,
                        NewPart {
                            part_number: "B-1".into(),
                        },
                    )
                    .await?;
                assert_eq!(engine.parts().all(&pool).await?, [bolt]);
                Ok(())
            })
            .await;
        }
    };
}

fn sqlx_error(error: habtm::sqlx::migrate::MigrateError) -> habtm::Error {
    habtm::sqlx::Error::Migrate(Box::new(error)).into()
}

walk_through!(sqlite_migrations, habtm::sqlx::Sqlite);
walk_through!(postgres_migrations, habtm::sqlx::Postgres);
walk_through!(mysql_migrations, habtm::sqlx::MySql);
