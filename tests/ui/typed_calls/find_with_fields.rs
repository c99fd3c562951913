use habtm::sqlx::SqlitePool;
use habtm::{Filter, Model};

#[derive(Debug, Clone, PartialEq, Model)]
struct Part {
    id: i64,
    part_number: String,
    weight: f64,
}

// `find` returns whole parts: a filter that reads some fields belongs to `select`.
async fn numbers(pool: &SqlitePool) -> habtm::Result<Vec<Part>> {
    Part::find(pool, Filter::new().fields([Part::PART_NUMBER])).await
}

fn main() {
    let _ = numbers;
}
