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
#[relation(has_and_belongs_to_many, model = "Assembly")]
pub struct Part {
    pub id: PartId,
}

async fn link(pool: &habtm::sqlx::SqlitePool, assembly: &Assembly) -> habtm::Result<()> {
    // An assembly's id where a part's id belongs.
    assembly.parts().add(pool, assembly.id).await
}

fn main() {}
