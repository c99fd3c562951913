//! Keys that are not plain integers: a generated newtype, a uuid newtype, strings.

use habtm::sqlx::Pool;
use habtm::{Backend, Filter, Result, Schema};

use crate::models::*;

fn book_id(n: u128) -> BookId {
    BookId(uuid::Uuid::from_u128(
        0x5eed_0000_0000_0000_0000_0000_0000_0000 + n,
    ))
}

async fn newtype_and_uuid_keys<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    Schema::new()
        .model::<Shelf>()
        .model::<Book>()
        .create_all(pool)
        .await?;
    let shelf = Shelf::create(
        pool,
        NewShelf {
            label: "fiction".into(),
        },
    )
    .await?;
    let other = Shelf::create(
        pool,
        NewShelf {
            label: "poetry".into(),
        },
    )
    .await?;
    assert_ne!(shelf.id, other.id);
    let dune = shelf
        .books()
        .create(
            pool,
            NewBook {
                id: book_id(1),
                title: "Dune".into(),
            },
        )
        .await?;
    assert_eq!(dune.id, book_id(1));
    let emma = Book::create(
        pool,
        NewBook {
            id: book_id(2),
            title: "Emma".into(),
        },
    )
    .await?;
    shelf.books().add(pool, emma.id).await?;
    other.books().add_many(pool, [emma.id, dune.id]).await?;
    assert_eq!(shelf.books().all(pool).await?.len(), 2);
    assert_eq!(
        emma.shelves().all(pool).await?,
        vec![shelf.clone(), other.clone()]
    );
    assert_eq!(
        Book::find_by_id(pool, book_id(1)).await?,
        Some(dune.clone())
    );
    let found = shelf
        .books()
        .find(pool, Filter::new().filter(Book::ID.eq(book_id(2))))
        .await?;
    assert_eq!(found, vec![emma.clone()]);
    let missing = shelf.books().add(pool, book_id(99)).await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    other.books().set(pool, [dune.id]).await?;
    assert_eq!(other.books().ids(pool).await?, vec![dune.id]);
    let loaded = Shelf::load_books(pool, &[shelf.clone(), other.clone()], Filter::new()).await?;
    assert_eq!((loaded[0].len(), loaded[1].len()), (2, 1));
    let json = format!(r#"{{"where": {{"id": "{}"}}}}"#, book_id(2).0);
    assert_eq!(
        Book::find(pool, Filter::from_json(&json)?).await?,
        vec![emma.clone()]
    );
    assert!(shelf.books().destroy(pool, emma.id).await?);
    assert_eq!(
        Shelf::find_by_id(pool, ShelfId(other.id.0))
            .await?
            .map(|s| s.label),
        Some("poetry".into())
    );
    Ok(())
}

habtm_tests::on_every_backend!(newtype_and_uuid_keys);
