//! Relations of a model to itself: an inverse pair on one join table (a follower graph), and
//! a symmetric relation (a friend graph).

use habtm::sqlx::Pool;
use habtm::{Backend, Error, Model, Result, Schema};
use habtm_tests::raw;

use crate::schema::catalog;

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

async fn people<DB: Backend>(pool: &Pool<DB>, names: &[&str]) -> Result<Vec<Person>> {
    Schema::new().model::<Person>().create_all(pool).await?;
    let new = names
        .iter()
        .map(|name| NewPerson {
            name: (*name).to_owned(),
        })
        .collect();
    Person::create_many(pool, new).await
}

/// Every link of the friend graph as (person, friend), in order.
async fn friendships<DB: Backend>(pool: &Pool<DB>, all: &[Person]) -> Result<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    for person in all {
        for friend in person.friends().ids(pool).await? {
            out.push((person.id, friend));
        }
    }
    Ok(out)
}

async fn an_inverse_pair_reads_one_table_both_ways<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let p = people(pool, &["ann", "bob", "cy", "dee"]).await?;
    let (ann, bob, cy, dee) = (&p[0], &p[1], &p[2], &p[3]);
    // One table, created once, with its key on the first relation's pair.
    let (columns, fks, _) = catalog(pool, "Follow").await?;
    assert_eq!(columns.len(), 2, "{columns:?}");
    assert_eq!(fks.len(), 2, "{fks:?}");

    ann.following().add(pool, bob.id).await?;
    assert_eq!(bob.followers().ids(pool).await?, [ann.id]);
    assert!(bob.followers().exists(pool, ann.id).await?);
    assert!(!ann.followers().exists(pool, bob.id).await?);

    // Written from the other side, read from the first.
    cy.followers().add_many(pool, [ann.id, bob.id]).await?;
    assert_eq!(ann.following().ids(pool).await?, [bob.id, cy.id]);
    assert_eq!(bob.following().ids(pool).await?, [cy.id]);
    assert_eq!(cy.followers().count(pool).await?, 2);
    assert_eq!(raw::count_rows(pool, "Follow").await?, 3);

    dee.followers().set(pool, [cy.id]).await?;
    assert_eq!(cy.following().ids(pool).await?, [dee.id]);
    assert!(bob.followers().remove(pool, ann.id).await?);
    assert_eq!(ann.following().ids(pool).await?, [cy.id]);

    // A deleted person leaves no link in either column.
    assert!(Person::delete_by_id(pool, cy.id).await?);
    assert_eq!(raw::count_rows(pool, "Follow").await?, 0);
    assert!(ann.following().ids(pool).await?.is_empty());
    assert!(dee.followers().ids(pool).await?.is_empty());
    Ok(())
}

async fn a_symmetric_relation_keeps_both_directions<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let p = people(pool, &["ann", "bob", "cy", "dee"]).await?;
    let (ann, bob, cy, dee) = (&p[0], &p[1], &p[2], &p[3]);
    let (a, b, c, d) = (ann.id, bob.id, cy.id, dee.id);

    ann.friends().add(pool, b).await?;
    assert_eq!(bob.friends().ids(pool).await?, [a]);
    assert_eq!(raw::count_rows(pool, "PersonFriends").await?, 2);
    // Adding again, from either end, changes nothing.
    bob.friends().add(pool, a).await?;
    assert_eq!(raw::count_rows(pool, "PersonFriends").await?, 2);

    assert_eq!(ann.friends().add_many(pool, [c, d]).await?, 2);
    assert_eq!(
        friendships(pool, &p).await?,
        [(a, b), (a, c), (a, d), (b, a), (c, a), (d, a)]
    );

    assert!(cy.friends().remove(pool, a).await?);
    assert_eq!(ann.friends().ids(pool).await?, [b, d]);
    assert_eq!(ann.friends().remove_many(pool, [b, c]).await?, 1);
    assert_eq!(friendships(pool, &p).await?, [(a, d), (d, a)]);

    bob.friends().set(pool, [c, d]).await?;
    dee.friends().set(pool, [b]).await?;
    assert_eq!(
        friendships(pool, &p).await?,
        [(b, c), (b, d), (c, b), (d, b)]
    );

    let eve = bob
        .friends()
        .create(pool, NewPerson { name: "eve".into() })
        .await?;
    assert_eq!(eve.friends().ids(pool).await?, [b]);

    assert_eq!(bob.friends().clear(pool).await?, 3);
    assert_eq!(raw::count_rows(pool, "PersonFriends").await?, 0);

    ann.friends().add_many(pool, [b, c]).await?;
    assert!(Person::delete_by_id(pool, a).await?);
    assert_eq!(raw::count_rows(pool, "PersonFriends").await?, 0);
    Ok(())
}

async fn a_symmetric_link_to_itself_is_refused<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let p = people(pool, &["ann", "bob"]).await?;
    let (ann, b) = (&p[0], p[1].id);
    ann.friends().add(pool, b).await?;
    let is_self_link = |r: Result<()>| matches!(r, Err(Error::SelfLink { model: "Person", ref id, .. }) if *id == ann.id.to_string());

    let added = ann.friends().add(pool, ann.id).await;
    assert!(is_self_link(added));
    let many = ann.friends().add_many(pool, [b, ann.id]).await.map(drop);
    assert!(is_self_link(many));
    let set = ann.friends().set(pool, [ann.id]).await;
    assert_eq!(
        set.as_ref().map_err(ToString::to_string),
        Err(format!(
            "Person.friends.set: a symmetric relation cannot link Person {} to itself",
            ann.id
        ))
    );
    assert!(is_self_link(set));
    // Nothing written, nothing lost.
    assert_eq!(ann.friends().ids(pool).await?, [b]);
    assert_eq!(raw::count_rows(pool, "PersonFriends").await?, 2);
    // A relation that is not symmetric links a row to itself.
    ann.following().add(pool, ann.id).await?;
    assert_eq!(ann.followers().ids(pool).await?, [ann.id]);
    Ok(())
}

/// Links of the friend graph without their mirror.
async fn one_way_links<DB: Backend>(pool: &Pool<DB>) -> Result<i64> {
    let q = raw::q::<DB>;
    raw::int(
        pool,
        &format!(
            "SELECT COUNT(*) FROM {t} AS a WHERE NOT EXISTS (SELECT 1 FROM {t} AS b WHERE b.{p} = a.{f} AND b.{f} = a.{p})",
            t = q("PersonFriends"),
            p = q("person_id"),
            f = q("friend_id"),
        ),
    )
    .await
}

/// Tasks adding, removing and setting friends of overlapping people at once: every call
/// succeeds (conflicts are run again), and every link keeps its mirror.
async fn symmetric_writes_under_concurrency<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let names: Vec<String> = (0..6).map(|i| format!("p{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let p = people(pool, &names).await?;
    let ids: Vec<i64> = p.iter().map(|p| p.id).collect();
    let tasks = (0..8u64).map(|task| {
        let ids = ids.clone();
        let pool = pool.clone();
        async move {
            let mut seed = task * 7919 + 17;
            let mut next = |bound: usize| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % bound as u64) as usize
            };
            for _ in 0..20 {
                let owner = ids[next(ids.len())];
                let others: Vec<i64> = ids.iter().copied().filter(|id| *id != owner).collect();
                let one = others[next(others.len())];
                let some: Vec<i64> = others.iter().copied().filter(|_| next(2) == 0).collect();
                let friends = Person::friends_of(owner);
                match next(6) {
                    0 => friends.add(&pool, one).await?,
                    1 => drop(friends.remove(&pool, one).await?),
                    2 => drop(friends.add_many(&pool, some).await?),
                    3 => drop(friends.remove_many(&pool, some).await?),
                    4 => friends.set(&pool, some).await?,
                    _ => drop(friends.clear(&pool).await?),
                }
            }
            Ok::<(), Error>(())
        }
    });
    for outcome in futures::future::join_all(tasks).await {
        outcome?;
    }
    assert_eq!(one_way_links(pool).await?, 0);
    Ok(())
}

habtm_tests::on_every_backend!(
    an_inverse_pair_reads_one_table_both_ways,
    a_symmetric_relation_keeps_both_directions,
    a_symmetric_link_to_itself_is_refused,
    symmetric_writes_under_concurrency
);
