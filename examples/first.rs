// The README's first program: an embedded SQLite database, two models, one relation.
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

#[tokio::main]
async fn main() -> habtm::Result<()> {
    let pool = SqlitePoolOptions::new().connect("sqlite::memory:").await?;
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
    let bolt = engine
        .parts()
        .create(
            &pool,
            NewPart {
                part_number: "B-100".into(),
            },
        )
        .await?;
    let nut = Part::create(
        &pool,
        NewPart {
            part_number: "N-200".into(),
        },
    )
    .await?;
    engine.parts().add(&pool, nut.id).await?; // linking again changes nothing

    let nuts = engine
        .parts()
        .find(&pool, Filter::new().filter(Part::PART_NUMBER.like("N-%")))
        .await?;
    println!(
        "{} has {} parts, {} of them nuts",
        engine.name,
        engine.parts().count(&pool).await?,
        nuts.len()
    );
    assert!(bolt.assemblies().exists(&pool, engine.id).await?);
    Ok(())
}
