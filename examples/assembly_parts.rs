//! The seed scenario: assemblies and parts, many to many, on an embedded SQLite database.

use habtm::sqlx::sqlite::SqlitePoolOptions;
use habtm::{Filter, Model, Schema};

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

#[tokio::main(flavor = "current_thread")]
async fn main() -> habtm::Result<()> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await?;
    Schema::new()
        .model::<Assembly>()
        .model::<Part>()
        .create_all(&pool)
        .await?;

    let engine = Assembly::create(
        &pool,
        NewAssembly {
            name: "engine".into(),
        },
    )
    .await?;
    println!("created {engine:?}");
    let bolt = engine
        .parts()
        .create(
            &pool,
            NewPart {
                part_number: "B-100".into(),
            },
        )
        .await?;
    println!("engine.parts.create -> {bolt:?}");
    let nut = Part::create(
        &pool,
        NewPart {
            part_number: "N-200".into(),
        },
    )
    .await?;
    engine.parts().add(&pool, nut.id).await?;
    println!(
        "engine.parts.add({}) ; parts = {:?}",
        nut.id,
        engine.parts().all(&pool).await?
    );
    let found = engine
        .parts()
        .find(&pool, Filter::new().filter(Part::PART_NUMBER.like("N-%")))
        .await?;
    println!("find where part_number like 'N-%' -> {found:?}");
    println!("count = {}", engine.parts().count(&pool).await?);
    println!("nut.assemblies = {:?}", nut.assemblies().all(&pool).await?);
    Ok(())
}
