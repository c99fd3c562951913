//! The models `cargo habtm import` wrote for `examples/loopback-app`, on the database that
//! LoopBack 3 would have made for it (tables created here by raw SQL, as its connectors do):
//! they read what the app wrote, and what they write the app can read. PostgreSQL's
//! connector folds names to lower case, so it has its own import (`--connector postgresql`).

use habtm::sqlx::Pool;
use habtm::{Backend, Dialect, Filter, Result};
use habtm_tests::raw;

// As the tool wrote them (not reformatted); `Note` is not driven here.
#[rustfmt::skip]
#[allow(dead_code, unused_imports)]
#[path = "../../examples/loopback-app/models/mod.rs"]
mod models;

#[rustfmt::skip]
#[allow(dead_code, unused_imports)]
#[path = "../../examples/loopback-app/models_postgresql/mod.rs"]
mod models_postgresql;

/// The DDL of LoopBack's connectors for the app's models, names folded on PostgreSQL.
async fn loopback_database<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let d = DB::DIALECT;
    let (serial, text, int, double, boolean, date) = match d {
        Dialect::Postgres => (
            "SERIAL PRIMARY KEY",
            "TEXT",
            "INTEGER",
            "DOUBLE PRECISION",
            "BOOLEAN",
            "TIMESTAMP WITH TIME ZONE",
        ),
        Dialect::MySql => (
            "INT AUTO_INCREMENT PRIMARY KEY",
            "VARCHAR(512)",
            "INT",
            "DOUBLE",
            "TINYINT(1)",
            "DATETIME",
        ),
        Dialect::Sqlite => (
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "TEXT",
            "INTEGER",
            "REAL",
            "BOOLEAN",
            "TEXT",
        ),
    };
    let name = |n: &str| {
        let n = if d == Dialect::Postgres {
            n.to_lowercase()
        } else {
            n.to_owned()
        };
        raw::q::<DB>(&n)
    };
    let tables: [(&str, Vec<(&str, String)>); 7] = [
        (
            "Assembly",
            vec![
                ("name", format!("{text} NOT NULL")),
                ("createdAt", date.to_owned()),
            ],
        ),
        (
            "Part",
            vec![
                ("partNumber", format!("{text} NOT NULL")),
                ("weight", double.to_owned()),
                ("inStock", boolean.to_owned()),
                (
                    "specs",
                    if d == Dialect::MySql {
                        "TEXT".to_owned()
                    } else {
                        text.to_owned()
                    },
                ),
            ],
        ),
        (
            "AssemblyPart",
            vec![("assemblyId", int.to_owned()), ("partId", int.to_owned())],
        ),
        ("Kit", vec![("name", format!("{text} NOT NULL"))]),
        ("Component", vec![("label", format!("{text} NOT NULL"))]),
        (
            "KitComponent",
            vec![
                ("quantity", format!("{int} NOT NULL")),
                ("kitId", int.to_owned()),
                ("componentId", int.to_owned()),
            ],
        ),
        (
            "Note",
            vec![
                ("text", format!("{text} NOT NULL")),
                ("assemblyId", int.to_owned()),
            ],
        ),
    ];
    for (table, columns) in tables {
        let columns: Vec<String> = columns
            .iter()
            .map(|(column, ty)| format!("{} {ty}", name(column)))
            .collect();
        let sql = format!(
            "CREATE TABLE {} ({} {serial}, {})",
            name(table),
            name("id"),
            columns.join(", ")
        );
        raw::execute(pool, &sql).await?;
    }
    // A model with its own string id (`"idInjection": false`), and a join table named by
    // `through` without a model of its own.
    let sql = format!(
        "CREATE TABLE {} ({} {text} NOT NULL PRIMARY KEY, {} {text} NOT NULL, {} {double})",
        name("Supplier"),
        name("code"),
        name("name"),
        name("rating")
    );
    raw::execute(pool, &sql).await?;
    let sql = format!(
        "CREATE TABLE {} ({} {serial}, {} {text}, {} {int})",
        name("SupplierPart"),
        name("id"),
        name("supplierId"),
        name("partId")
    );
    raw::execute(pool, &sql).await?;
    Ok(())
}

/// The same body for both imports: the generated names differ, the Rust does not.
macro_rules! drive_the_app {
    ($models:ident) => {
        pub async fn drive<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
            use crate::$models::*;
            let d = DB::DIALECT;
            let name = |n: &str| {
                let n = if d == Dialect::Postgres {
                    n.to_lowercase()
                } else {
                    n.to_owned()
                };
                raw::q::<DB>(&n)
            };
            loopback_database(pool).await?;

            // What the LoopBack app wrote: an assembly, a part, their join row with its own id.
            raw::execute(
                pool,
                &format!(
                    "INSERT INTO {} ({}) VALUES ('engine')",
                    name("Assembly"),
                    name("name")
                ),
            )
            .await?;
            raw::execute(
                pool,
                &format!(
                    "INSERT INTO {} ({}, {}) VALUES ('B-1', 1.5)",
                    name("Part"),
                    name("partNumber"),
                    name("weight")
                ),
            )
            .await?;
            raw::execute(
                pool,
                &format!(
                    "INSERT INTO {} ({}, {}) VALUES (1, 1)",
                    name("AssemblyPart"),
                    name("assemblyId"),
                    name("partId")
                ),
            )
            .await?;
            let engine = Assembly::find_by_id(pool, 1)
                .await?
                .expect("the app's assembly");
            assert_eq!(engine.name, "engine");
            let parts = engine.parts().all(pool).await?;
            assert_eq!(parts.len(), 1);
            assert_eq!(
                (parts[0].part_number.as_str(), parts[0].weight),
                ("B-1", Some(1.5))
            );

            // What the models write, in the app's own tables and columns.
            let created = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("a time");
            let pump = Assembly::create(
                pool,
                NewAssembly {
                    name: "pump".into(),
                    created_at: Some(created),
                },
            )
            .await?;
            assert_eq!(
                Assembly::find_by_id(pool, pump.id)
                    .await?
                    .and_then(|a| a.created_at),
                Some(created)
            );
            let nut = pump
                .parts()
                .create(
                    pool,
                    NewPart {
                        part_number: "N-4".into(),
                        weight: None,
                        in_stock: Some(true),
                        specs: Some(r#"{"thread":"M8"}"#.into()),
                    },
                )
                .await?;
            pump.parts().add(pool, parts[0].id).await?;
            pump.parts().add(pool, parts[0].id).await?;
            let count = |sql: String| async move { raw::int(pool, &sql).await };
            assert_eq!(
                count(format!(
                    "SELECT COUNT(*) FROM {} WHERE {} = {}",
                    name("AssemblyPart"),
                    name("assemblyId"),
                    pump.id
                ))
                .await?,
                2,
                "a second add writes no second join row"
            );
            assert_eq!(nut.assemblies().ids(pool).await?, [pump.id]);
            let loaded = Assembly::load_parts(
                pool,
                &[engine.clone(), pump.clone()],
                Filter::new().order_by(Part::PART_NUMBER),
            )
            .await?;
            let numbers: Vec<Vec<&str>> = loaded
                .iter()
                .map(|ps| ps.iter().map(|p| p.part_number.as_str()).collect())
                .collect();
            assert_eq!(numbers, [vec!["B-1"], vec!["B-1", "N-4"]]);

            // The join model, with its required quantity.
            let kit = Kit::create(
                pool,
                NewKit {
                    name: "bike".into(),
                },
            )
            .await?;
            let wheel = kit
                .components()
                .create_with(
                    pool,
                    NewComponent {
                        label: "wheel".into(),
                    },
                    &NewKitComponent { quantity: 2 },
                )
                .await?;
            let rows = kit
                .components()
                .find_with_links(pool, Filter::new())
                .await?;
            assert_eq!(rows.len(), 1);
            assert_eq!((rows[0].0.label.as_str(), rows[0].1.quantity), ("wheel", 2));
            assert_eq!(
                count(format!(
                    "SELECT COUNT(*) FROM {} WHERE {} = {} AND {} = 2",
                    name("KitComponent"),
                    name("componentId"),
                    wheel.id,
                    name("quantity")
                ))
                .await?,
                1,
                "the link and its quantity, in the app's join table"
            );
            // A supplier, known by its code.
            let acme = Supplier::create(
                pool,
                NewSupplier {
                    code: "ACME".into(),
                    name: "Acme".into(),
                    rating: Some(4.5),
                },
            )
            .await?;
            assert_eq!(acme.parts().add_many(pool, [parts[0].id, nut.id]).await?, 2);
            assert_eq!(
                count(format!(
                    "SELECT COUNT(*) FROM {} WHERE {} = 'ACME'",
                    name("SupplierPart"),
                    name("supplierId")
                ))
                .await?,
                2
            );
            assert_eq!(
                Supplier::find_by_id(pool, "ACME".to_owned()).await?,
                Some(acme.clone())
            );
            assert!(Part::delete_by_id(pool, parts[0].id).await?);
            assert_eq!(acme.parts().ids(pool).await?, [nut.id]);
            assert_eq!(
                count(format!("SELECT COUNT(*) FROM {}", name("AssemblyPart"))).await?,
                1
            );
            Ok(())
        }
    };
}

mod names_as_written {
    use super::*;
    drive_the_app!(models);
}

mod names_folded {
    use super::*;
    drive_the_app!(models_postgresql);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_loopback_app() {
    habtm_tests::run::<habtm::sqlx::Sqlite, _, _>("sqlite_loopback_app", |pool| async move {
        names_as_written::drive(&pool).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_loopback_app() {
    habtm_tests::run::<habtm::sqlx::MySql, _, _>("mysql_loopback_app", |pool| async move {
        names_as_written::drive(&pool).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_loopback_app() {
    habtm_tests::run::<habtm::sqlx::Postgres, _, _>("postgres_loopback_app", |pool| async move {
        names_folded::drive(&pool).await
    })
    .await;
}
