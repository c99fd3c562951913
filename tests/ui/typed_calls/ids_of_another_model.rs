use habtm::Model;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, habtm::sqlx::Type, serde::Serialize, serde::Deserialize)]
#[sqlx(transparent)]
pub struct AssemblyId(i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, habtm::sqlx::Type, serde::Serialize, serde::Deserialize)]
#[sqlx(transparent)]
pub struct PartId(i64);

#[derive(Model)]
#[relation(has_and_belongs_to_many, model = "Part")]
pub struct Assembly {
    pub id: AssemblyId,
}

#[derive(Model)]
pub struct Part {
    pub id: PartId,
}

async fn replace(pool: &habtm::sqlx::SqlitePool, assembly: &Assembly, others: Vec<AssemblyId>) -> habtm::Result<()> {
    assembly.parts().set(pool, others).await
}

fn main() {}
