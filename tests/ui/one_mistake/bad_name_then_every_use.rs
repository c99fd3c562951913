use habtm::Model;

// A table name that cannot be quoted: one error, and the model is still usable in the code
// that follows, so nothing else is reported.
#[derive(Debug, Clone, Model)]
#[model(table = "assembly`s")]
#[relation(has_and_belongs_to_many, model = "Part")]
pub struct Assembly {
    pub id: i64,
}

#[derive(Debug, Clone, Model)]
pub struct Part {
    pub id: i64,
}

async fn uses(pool: &habtm::sqlx::SqlitePool) -> habtm::Result<()> {
    let engine = Assembly::create(pool, NewAssembly {}).await?;
    engine.parts().add_many(pool, [1, 2]).await?;
    Ok(())
}

fn main() {}
