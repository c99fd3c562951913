//! The models the behaviour tests share.

use habtm::sqlx::Pool;
use habtm::{Backend, Model, Schema};

#[derive(Debug, Clone, PartialEq, Model)]
#[model(plural = "Assemblies")]
#[relation(has_and_belongs_to_many, model = "Part")]
pub struct Assembly {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Assembly")]
#[relation(has_and_belongs_to_many, model = "Part", name = "subparts")]
pub struct Part {
    pub id: i64,
    pub part_number: String,
    /// A column named with a reserved word.
    pub order: Option<i32>,
}

/// Creates the tables of `Assembly` and `Part`.
pub async fn schema<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    Schema::new().model::<Assembly>().model::<Part>().create_all(pool).await
}

pub fn new_part(number: &str) -> NewPart {
    NewPart { part_number: number.to_owned(), order: None }
}

pub fn new_assembly(name: &str) -> NewAssembly {
    NewAssembly { name: name.to_owned() }
}
