//! Relations of a model to itself, on an embedded SQLite database: a follower graph (two
//! relations on one join table, their keys swapped) and a friend graph (one symmetric
//! relation). Run it with `cargo run --example graphs`.

use habtm::sqlx::sqlite::SqlitePoolOptions;
use habtm::{Error, Model, Schema};

#[derive(Debug, Clone, PartialEq, Model)]
#[allow(clippy::duplicated_attributes)] // rust-clippy#13238: repeated derive attributes
#[relation(
    has_and_belongs_to_many,
    model = "Person",
    name = "following",
    through_table = "Follow",
    foreign_key = "follower_id",
    key_through = "followed_id"
)]
#[relation(
    has_and_belongs_to_many,
    model = "Person",
    name = "followers",
    through_table = "Follow",
    foreign_key = "followed_id",
    key_through = "follower_id"
)]
#[relation(has_and_belongs_to_many, model = "Person", name = "friends", symmetric)]
pub struct Person {
    pub id: i64,
    pub name: String,
}

/// The names of some people.
fn names(people: &[Person]) -> Vec<&str> {
    people.iter().map(|p| p.name.as_str()).collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> habtm::Result<()> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await?;
    Schema::new().model::<Person>().create_all(&pool).await?;
    let new = ["ann", "bob", "cy"].map(|name| NewPerson { name: name.into() });
    let people = Person::create_many(&pool, new.into()).await?;
    let (ann, bob, cy) = (&people[0], &people[1], &people[2]);

    // Following is one-way: ann follows bob and cy, bob follows cy.
    ann.following().add_many(&pool, [bob.id, cy.id]).await?;
    bob.following().add(&pool, cy.id).await?;
    println!(
        "cy's followers: {:?}",
        names(&cy.followers().all(&pool).await?)
    );
    println!(
        "bob follows: {:?}",
        names(&bob.following().all(&pool).await?)
    );

    // Friendship goes both ways, whichever side writes it.
    ann.friends().add(&pool, bob.id).await?;
    cy.friends().add(&pool, ann.id).await?;
    println!(
        "ann's friends: {:?}",
        names(&ann.friends().all(&pool).await?)
    );
    println!(
        "bob's friends: {:?}",
        names(&bob.friends().all(&pool).await?)
    );
    bob.friends().set(&pool, [cy.id]).await?;
    println!(
        "after bob's set to [cy]: ann's friends {:?}, cy's friends {:?}",
        names(&ann.friends().all(&pool).await?),
        names(&cy.friends().all(&pool).await?)
    );
    match ann.friends().add(&pool, ann.id).await {
        Err(error @ Error::SelfLink { .. }) => println!("refused: {error}"),
        other => println!("unexpected: {other:?}"),
    }
    Ok(())
}
