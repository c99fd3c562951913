//! The seed models served with LoopBack's REST API on 127.0.0.1, over an embedded SQLite
//! database. Run it with `cargo run --example rest_server --features rest`, then try the
//! curl calls in README.md. `HABTM_ADDR` chooses another address (default 127.0.0.1:3000).

use habtm::rest::Api;
use habtm::sqlx::Sqlite;
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

/// The pool the data lives in: one in-memory SQLite connection that sqlx never closes, since
/// an in-memory database lives as long as its connection (sqlx would otherwise close it after
/// ten idle minutes, or thirty in all, and the data with it).
pub fn pool_options() -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .min_connections(1)
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
}

/// The seed's tables and the REST routes of both models and both sides of the relation.
pub async fn app(pool: habtm::sqlx::Pool<Sqlite>) -> habtm::Result<axum::Router> {
    Schema::new()
        .model::<Assembly>()
        .model::<Part>()
        .create_all(&pool)
        .await?;
    Ok(Api::new(pool)
        .model::<Assembly>()
        .model::<Part>()
        .relation(Assembly::PARTS)
        .relation(Part::ASSEMBLIES)
        .router())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = pool_options().connect("sqlite::memory:").await?;
    let app = app(pool).await?;
    let address = std::env::var("HABTM_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("serving the seed models on http://{address} (OpenAPI: /explorer/openapi.json)");
    axum::serve(listener, app).await?;
    Ok(())
}
