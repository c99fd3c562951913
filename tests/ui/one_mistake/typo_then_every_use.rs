use habtm::{Filter, Model};

// One typo in a relation: one error. Every use of what the derive writes still compiles,
// so no error follows from it.
#[derive(Debug, Clone, Model)]
#[relation(has_and_belongs_to_many, modle = "Part")]
pub struct Assembly {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Model)]
pub struct Part {
    pub id: i64,
    pub part_number: String,
}

async fn uses(pool: &habtm::sqlx::SqlitePool) -> habtm::Result<()> {
    let engine = Assembly::create(pool, NewAssembly { name: "engine".into() }).await?;
    let bolt = engine.parts().create(pool, NewPart { part_number: "B".into() }).await?;
    engine.parts().add(pool, bolt.id).await?;
    let named = Assembly::find(pool, Filter::new().filter(Assembly::NAME.eq("engine"))).await?;
    let _ = Assembly::load_parts(pool, &named, Filter::new()).await?;
    Ok(())
}

fn main() {}
