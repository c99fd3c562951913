use habtm::{Filter, Model};

#[derive(Model)]
#[relation(has_and_belongs_to_many, model = "Part")]
struct Assembly {
    id: i64,
    name: String,
}

#[derive(Model)]
struct Part {
    id: i64,
}

async fn parts(pool: &habtm::sqlx::SqlitePool) -> habtm::Result<()> {
    let assembly = Assembly { id: 1, name: String::new() };
    assembly.parts().find(pool, Filter::new().filter(Assembly::NAME.eq("x"))).await?;
    Ok(())
}

fn main() {}
