//! The seed scenario: assemblies and parts, many to many, on an embedded SQLite database.
//!
//! Every LoopBack call of the `hasAndBelongsToMany` document, in habtm, printed with its
//! result. Run it with `cargo run --example assembly_parts`.

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

fn part(number: &str) -> NewPart {
    NewPart {
        part_number: number.into(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> habtm::Result<()> {
    // One connection: an in-memory SQLite database lives as long as its connection.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await?;
    let schema = Schema::new().model::<Assembly>().model::<Part>();
    println!("schema:\n{}", schema.sql::<habtm::sqlx::Sqlite>());
    schema.create_all(&pool).await?;

    let engine = Assembly::create(
        &pool,
        NewAssembly {
            name: "engine".into(),
        },
    )
    .await?;
    let pump = Assembly::create(
        &pool,
        NewAssembly {
            name: "pump".into(),
        },
    )
    .await?;
    println!("Assembly.create -> {engine:?}, {pump:?}");

    let built = engine.parts().build(part("B-100"));
    println!(
        "engine.parts.build(B-100): {} parts so far (nothing written)",
        engine.parts().count(&pool).await?
    );
    let bolt = built.save(&pool).await?;
    println!("  .save() -> {bolt:?}");

    let gasket = engine.parts().create(&pool, part("G-300")).await?;
    println!("engine.parts.create(G-300) -> {gasket:?}");

    let nut = Part::create(&pool, part("N-200")).await?;
    engine.parts().add(&pool, nut.id).await?;
    engine.parts().add(&pool, nut.id).await?;
    pump.parts().add(&pool, nut.id).await?;
    println!(
        "engine.parts.add(nut) twice, pump.parts.add(nut) -> engine has {} parts",
        engine.parts().count(&pool).await?
    );

    println!("engine.parts() -> {:?}", engine.parts().all(&pool).await?);
    let filter = Filter::new().filter(
        Part::PART_NUMBER
            .like("%-2%")
            .or(Part::PART_NUMBER.like("%-3%")),
    );
    let found = engine
        .parts()
        .find(&pool, filter.order_by(Part::PART_NUMBER.desc()).limit(5))
        .await?;
    println!("engine.parts({{where: number like -2 or -3, order: DESC, limit: 5}}) -> {found:?}");

    println!(
        "engine.parts.findById(bolt) -> {:?}",
        engine.parts().find_by_id(&pool, bolt.id).await?
    );
    println!(
        "pump.parts.findById(bolt) -> {:?}",
        pump.parts().find_by_id(&pool, bolt.id).await?
    );
    println!(
        "pump.parts.exists(nut) -> {}",
        pump.parts().exists(&pool, nut.id).await?
    );
    println!(
        "nut.assemblies() -> {:?}",
        nut.assemblies().all(&pool).await?
    );

    let updated = engine
        .parts()
        .update_by_id(&pool, gasket.id, part("G-301"))
        .await?;
    println!("engine.parts.updateById(gasket) -> {updated:?}");

    println!(
        "engine.parts.remove(bolt) -> {}",
        engine.parts().remove(&pool, bolt.id).await?
    );
    println!(
        "  bolt still exists: {:?}",
        Part::find_by_id(&pool, bolt.id).await?
    );

    println!(
        "engine.parts.destroy(nut) -> {}",
        engine.parts().destroy(&pool, nut.id).await?
    );
    println!(
        "  nut row: {:?}; pump's parts: {:?}",
        Part::find_by_id(&pool, nut.id).await?,
        pump.parts().ids(&pool).await?
    );

    engine.parts().set(&pool, [bolt.id, gasket.id]).await?;
    println!(
        "engine.parts.set([bolt, gasket]) -> ids {:?}",
        engine.parts().ids(&pool).await?
    );
    match engine.parts().add(&pool, 4_242).await {
        Err(error) => println!("engine.parts.add(4242) -> error: {error}"),
        Ok(()) => println!("engine.parts.add(4242) -> linked?!"),
    }
    println!(
        "engine.parts.destroyAll() -> {} links removed",
        engine.parts().clear(&pool).await?
    );
    println!(
        "engine.parts.count() -> {}",
        engine.parts().count(&pool).await?
    );
    Ok(())
}
