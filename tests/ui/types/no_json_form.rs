use habtm::{Filter, Model};

/// sqlx stores it; serde knows nothing of it.
#[derive(Debug, Clone, PartialEq, habtm::sqlx::Type)]
#[sqlx(transparent)]
struct Label(String);

// Compiles: the model has no JSON form, which nothing here asks for...
#[derive(Model)]
struct Crate {
    id: i64,
    label: Label,
}

fn main() {
    // ...until the JSON filter does.
    let _ = Filter::<Crate>::from_json("{}");
}
