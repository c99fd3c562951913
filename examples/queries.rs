//! Filters, LoopBack JSON filters, projections, eager loading (two levels too) and relation
//! predicates, on an embedded SQLite database. Run it with
//! `cargo run --example queries --features json`.

use habtm::sqlx::sqlite::SqlitePoolOptions;
use habtm::{Filter, Loader, Model, Schema};

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
    pub weight: Option<f64>,
}

fn part(number: &str, weight: f64) -> NewPart {
    NewPart {
        part_number: number.into(),
        weight: Some(weight),
    }
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
    let pump = Assembly::create(
        &pool,
        NewAssembly {
            name: "pump".into(),
        },
    )
    .await?;
    let frame = Assembly::create(
        &pool,
        NewAssembly {
            name: "frame".into(),
        },
    )
    .await?;
    for (number, weight) in [("B-1", 0.1), ("B-2", 0.2), ("G-7", 1.5), ("N-4", 0.05)] {
        engine.parts().create(&pool, part(number, weight)).await?;
    }
    pump.parts().create(&pool, part("R-9", 3.0)).await?;
    pump.parts().add(&pool, 1).await?;

    // Typed: misspelled columns and values of the wrong type do not compile.
    let heavy_or_nut = Part::WEIGHT.ge(Some(1.0)).or(Part::PART_NUMBER.like("N-%"));
    let filter = Filter::new()
        .filter(heavy_or_nut)
        .order_by(Part::PART_NUMBER.desc());
    println!(
        "heavy or nuts, Z..A: {:?}",
        engine.parts().find(&pool, filter).await?
    );

    // LoopBack's JSON syntax, validated against Part's columns.
    let filter = Filter::from_json(
        r#"{"where": {"partNumber": {"like": "B-%"}}, "order": "weight DESC", "limit": 1}"#,
    )?;
    println!(
        "JSON filter: {:?}",
        engine.parts().find(&pool, filter).await?
    );
    match Filter::<Part>::from_json(r#"{"where": {"partNumbr": "B-1"}}"#) {
        Err(error) => println!("a typo: {error}"),
        Ok(_) => unreachable!("partNumbr is not a column"),
    }

    // Projection: only the part numbers (and ids) are read.
    let numbers = engine
        .parts()
        .select(&pool, Filter::new().fields([Part::PART_NUMBER]))
        .await?;
    let numbers: Vec<String> = numbers.into_iter().filter_map(|p| p.part_number).collect();
    println!("part numbers only: {numbers:?}");

    // Eager loading: one statement for all three assemblies, two parts each at most.
    let assemblies = Assembly::find(&pool, Filter::new()).await?;
    let parts = Assembly::load_parts(
        &pool,
        &assemblies,
        Filter::new().order_by(Part::WEIGHT.desc()).limit(2),
    )
    .await?;
    for (assembly, parts) in assemblies.iter().zip(&parts) {
        let numbers: Vec<&str> = parts.iter().map(|p| p.part_number.as_str()).collect();
        println!(
            "include parts, 2 heaviest: {} -> {numbers:?}",
            assembly.name
        );
    }

    // Two levels in one call, one statement each: every assembly's parts, and for each part
    // the assemblies that use it.
    let plan = Assembly::PARTS
        .include(Filter::new().order_by(Part::PART_NUMBER))
        .with(Part::ASSEMBLIES.include(Filter::new().order_by(Assembly::NAME)));
    for (assembly, parts) in assemblies.iter().zip(plan.load(&pool, &assemblies).await?) {
        for (part, users) in parts {
            let names: Vec<&str> = users.iter().map(|a| a.name.as_str()).collect();
            println!(
                "include parts.assemblies: {} -> {} -> {names:?}",
                assembly.name, part.part_number
            );
        }
    }

    // Relation predicates on the owner's own queries.
    let with_heavy = Assembly::find(
        &pool,
        Filter::new().filter(Assembly::PARTS.some(Part::WEIGHT.gt(Some(2.0)))),
    )
    .await?;
    let without_parts =
        Assembly::find(&pool, Filter::new().filter(Assembly::PARTS.is_empty())).await?;
    let all_light = Assembly::find(
        &pool,
        Filter::new().filter(Assembly::PARTS.every(Part::WEIGHT.lt(Some(2.0)))),
    )
    .await?;
    println!(
        "with a part over 2 kg: {:?}",
        with_heavy.iter().map(|a| &a.name).collect::<Vec<_>>()
    );
    println!(
        "with no parts: {:?}",
        without_parts.iter().map(|a| &a.name).collect::<Vec<_>>()
    );
    println!(
        "every part under 2 kg: {:?}",
        all_light.iter().map(|a| &a.name).collect::<Vec<_>>()
    );
    let _ = frame;
    Ok(())
}
