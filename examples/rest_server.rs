//! The seed models served with LoopBack's REST API on 127.0.0.1, over an embedded SQLite
//! database. Run it with `cargo run --example rest_server --features rest`, then try the
//! curl calls in README.md. `HABTM_ADDR` chooses another address (default 127.0.0.1:3000).

use habtm::rest::Api;
use habtm::sqlx::sqlite::SqlitePoolOptions;
use habtm::{Model, Schema};

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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await?;
    Schema::new()
        .model::<Assembly>()
        .model::<Part>()
        .create_all(&pool)
        .await?;
    let app = Api::new(pool)
        .model::<Assembly>()
        .model::<Part>()
        .relation(Assembly::PARTS)
        .relation(Part::ASSEMBLIES)
        .router();
    let address = std::env::var("HABTM_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("serving the seed models on http://{address} (OpenAPI: /explorer/openapi.json)");
    axum::serve(listener, app).await?;
    Ok(())
}
