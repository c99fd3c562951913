//! Join models with extra columns: LoopBack's `through`.

use habtm::sqlx::Pool;
use habtm::{Backend, Error, Filter, Model, Result, Schema};
use habtm_tests::raw;

use crate::schema::catalog;

#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Component", through = "KitComponent")]
pub struct Kit {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Kit", through = "KitComponent")]
pub struct Component {
    pub id: i64,
    pub label: String,
}

/// The join row: which component, how many, where in the kit.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct KitComponent {
    pub id: i64,
    pub kit_id: i64,
    pub component_id: i64,
    pub quantity: Option<i32>,
    pub position: Option<i32>,
}

fn link(quantity: i32, position: i32) -> NewKitComponent {
    // The keys are filled in by `add_with`.
    NewKitComponent {
        kit_id: 0,
        component_id: 0,
        quantity: Some(quantity),
        position: Some(position),
    }
}

async fn components<DB: Backend>(pool: &Pool<DB>, labels: &[&str]) -> Result<Vec<Component>> {
    let mut out = Vec::new();
    for label in labels {
        out.push(
            Component::create(
                pool,
                NewComponent {
                    label: (*label).to_owned(),
                },
            )
            .await?,
        );
    }
    Ok(out)
}

async fn join_rows_carry_data<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    Schema::new()
        .model::<Kit>()
        .model::<Component>()
        .create_all(pool)
        .await?;
    let kit = Kit::create(
        pool,
        NewKit {
            name: "bike".into(),
        },
    )
    .await?;
    let c = components(pool, &["wheel", "frame", "bell"]).await?;
    let parts = kit.components();
    parts.add_with(pool, c[0].id, link(2, 3)).await?;
    parts.add_with(pool, c[1].id, link(1, 1)).await?;
    parts.add_with(pool, c[2].id, link(1, 2)).await?;
    parts.add_with(pool, c[0].id, link(9, 9)).await?;
    assert_eq!(
        raw::count_rows(pool, "KitComponent").await?,
        3,
        "linking again writes nothing"
    );
    assert!(
        parts
            .add_with(pool, 999, link(1, 1))
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Ordered by a column of the join row.
    let by_position = parts
        .find_with_links(pool, Filter::new().order_by(KitComponent::POSITION))
        .await?;
    let labels: Vec<&str> = by_position.iter().map(|(c, _)| c.label.as_str()).collect();
    assert_eq!(labels, ["frame", "bell", "wheel"]);
    let (wheel, wheel_link) = &by_position[2];
    assert_eq!(wheel, &c[0]);
    assert_eq!(
        (
            wheel_link.kit_id,
            wheel_link.component_id,
            wheel_link.quantity
        ),
        (kit.id, c[0].id, Some(2))
    );

    // Filtered on the join row.
    let plenty = parts
        .find_with_links(
            pool,
            Filter::new().filter(KitComponent::QUANTITY.gt(Some(1))),
        )
        .await?;
    assert_eq!(plenty.len(), 1);
    assert_eq!(
        parts
            .count_links(
                pool,
                Filter::new().filter(KitComponent::QUANTITY.gt(Some(1)))
            )
            .await?,
        1
    );
    assert_eq!(parts.count_links(pool, Filter::new()).await?, 3);
    // Owners filtered on their links' columns.
    let spare = Kit::create(
        pool,
        NewKit {
            name: "spare".into(),
        },
    )
    .await?;
    spare
        .components()
        .add_with(pool, c[0].id, link(1, 1))
        .await?;
    let with_plenty = |n: i32| {
        Filter::new().filter(Kit::COMPONENTS.some_link(KitComponent::QUANTITY.gt(Some(n))))
    };
    assert_eq!(Kit::find(pool, with_plenty(1)).await?, vec![kit.clone()]);
    assert_eq!(Kit::count(pool, with_plenty(0)).await?, 2);
    assert!(Kit::find(pool, with_plenty(100)).await?.is_empty());
    assert_eq!(
        Kit::find(
            pool,
            Filter::new()
                .filter(Kit::COMPONENTS.some_link(KitComponent::POSITION.eq(Some(1))))
                .filter(Kit::NAME.eq("spare".to_owned()))
        )
        .await?,
        vec![spare.clone()]
    );
    assert!(Kit::delete_by_id(pool, spare.id).await?);
    assert_eq!(
        Kit::components_of(kit.id + 1)
            .count_links(pool, Filter::new())
            .await?,
        0
    );

    assert!(parts.update_link(pool, c[0].id, link(4, 0)).await?);
    assert!(
        !Kit::components_of(kit.id + 1)
            .update_link(pool, c[0].id, link(4, 0))
            .await?
    );
    let first = parts
        .find_with_links(
            pool,
            Filter::new().order_by(KitComponent::POSITION).limit(1),
        )
        .await?;
    assert_eq!(
        (first[0].0.label.as_str(), first[0].1.quantity),
        ("wheel", Some(4))
    );

    // The other relation methods work on the join model's table.
    assert_eq!(parts.count(pool).await?, 3);
    assert_eq!(c[1].kits().all(pool).await?, vec![kit.clone()]);
    assert!(parts.remove(pool, c[2].id).await?);
    parts.set(pool, [c[0].id, c[2].id]).await?;
    let links = parts
        .find_with_links(pool, Filter::new().order_by(KitComponent::ID))
        .await?;
    let kept: Vec<(&str, Option<i32>)> = links
        .iter()
        .map(|(c, l)| (c.label.as_str(), l.quantity))
        .collect();
    assert_eq!(
        kept,
        [("wheel", Some(4)), ("bell", None)],
        "set keeps the data of links it keeps"
    );
    assert!(Component::delete_by_id(pool, c[0].id).await?);
    assert_eq!(
        raw::count_rows(pool, "KitComponent").await?,
        1,
        "ON DELETE CASCADE on the join model"
    );

    let (_, fks, indexed) = catalog(pool, "KitComponent").await?;
    assert_eq!(
        fks,
        [
            "component_id -> Component on delete CASCADE",
            "kit_id -> Kit on delete CASCADE"
        ]
    );
    assert!(
        indexed.contains(&"kit_id".to_owned()),
        "the pair is unique: {indexed:?}"
    );
    Ok(())
}

/// A user keyed by a string, a group keyed by a uuid, and a join model with a table name of
/// its own, as legacy schemas name them.
#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Group", through = "UserHasGroup")]
pub struct User {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[model(table = "groups")]
#[relation(has_and_belongs_to_many, model = "User", through = "UserHasGroup")]
pub struct Group {
    pub id: uuid::Uuid,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[model(table = "tbl_user_has_group")]
pub struct UserHasGroup {
    pub id: i64,
    pub user_id: String,
    pub group_id: uuid::Uuid,
    pub role: Option<String>,
}

/// The join model's own `table` is the join table, and string and uuid keys in it can hold
/// foreign keys on every backend (MariaDB needs indexable key types there).
async fn join_models_with_their_own_table_and_keys<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    Schema::new()
        .model::<User>()
        .model::<Group>()
        .model::<UserHasGroup>()
        .create_all(pool)
        .await?;
    let ada = User::create(pool, NewUser { id: "ada".into() }).await?;
    let admins = Group::create(
        pool,
        NewGroup {
            id: uuid::Uuid::from_u128(7),
            title: "admins".into(),
        },
    )
    .await?;
    let role = |r: &str| NewUserHasGroup {
        user_id: String::new(),
        group_id: uuid::Uuid::nil(),
        role: Some(r.to_owned()),
    };
    ada.groups()
        .add_with(pool, admins.id, role("owner"))
        .await?;
    ada.groups()
        .add_with(pool, admins.id, role("again"))
        .await?;
    assert_eq!(raw::count_rows(pool, "tbl_user_has_group").await?, 1);
    let links = ada.groups().find_with_links(pool, Filter::new()).await?;
    assert_eq!(links.len(), 1);
    assert_eq!(
        (&links[0].0, links[0].1.role.as_deref()),
        (&admins, Some("owner"))
    );
    assert_eq!(admins.users().ids(pool).await?, vec!["ada".to_owned()]);
    assert!(
        ada.groups()
            .update_link(pool, admins.id, role("member"))
            .await?
    );
    let nobody = ada
        .groups()
        .add_with(pool, uuid::Uuid::from_u128(8), role("x"))
        .await;
    assert!(nobody.unwrap_err().is_not_found());

    // Lists of text ids (one JSON text on SQLite, a quote inside) and of UUIDs (which
    // SQLite stores as blobs: one parameter each).
    let bob = "bo\"b".to_owned();
    User::create(pool, NewUser { id: bob.clone() }).await?;
    let both = ["ada".to_owned(), bob.clone()];
    assert_eq!(admins.users().add_many(pool, both.clone()).await?, 1);
    assert_eq!(admins.users().ids(pool).await?, both);
    let missing = admins.users().add_many(pool, ["cy\\".to_owned()]).await;
    assert!(
        matches!(missing, Err(Error::NotFound { model: "User", ref id }) if id == r#""cy\\""#),
        "{missing:?}"
    );
    admins.users().set(pool, [bob.clone()]).await?;
    assert_eq!(admins.users().ids(pool).await?, std::slice::from_ref(&bob));
    assert_eq!(ada.groups().add_many(pool, [admins.id]).await?, 1);
    assert_eq!(admins.users().remove_many(pool, both).await?, 2);

    let (_, fks, _) = catalog(pool, "tbl_user_has_group").await?;
    assert_eq!(
        fks,
        [
            "group_id -> groups on delete CASCADE",
            "user_id -> User on delete CASCADE"
        ]
    );
    assert!(User::delete_by_id(pool, "ada".to_owned()).await?);
    assert_eq!(raw::count_rows(pool, "tbl_user_has_group").await?, 0);
    Ok(())
}

/// A join model whose data column is required: every write of a link must carry it.
#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Sailor", through = "Berth")]
pub struct Crew {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
pub struct Sailor {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
pub struct Berth {
    pub id: i64,
    pub crew_id: i64,
    pub sailor_id: i64,
    pub role: String,
}

fn berth(role: &str) -> NewBerth {
    NewBerth {
        crew_id: 0,
        sailor_id: 0,
        role: role.to_owned(),
    }
}

/// Each crew's berths as (sailor, role), in sailor order.
async fn berths<DB: Backend>(pool: &Pool<DB>, crew: &Crew) -> Result<Vec<(String, String)>> {
    let rows = crew
        .sailors()
        .find_with_links(pool, Filter::new().order_by(Berth::SAILOR_ID))
        .await?;
    Ok(rows.into_iter().map(|(s, b)| (s.name, b.role)).collect())
}

async fn every_write_carries_join_data<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    Schema::new()
        .model::<Crew>()
        .model::<Sailor>()
        .create_all(pool)
        .await?;
    // At most one sailor per role in a crew: join data the table can refuse.
    let q = raw::q::<DB>;
    raw::execute(
        pool,
        &format!(
            "CREATE UNIQUE INDEX {} ON {} ({}, {})",
            q("berth_role"),
            q("Berth"),
            q("crew_id"),
            q("role")
        ),
    )
    .await?;
    let crew = Crew::create(pool, NewCrew { name: "a".into() }).await?;
    let new_sailor = |name: &str| NewSailor { name: name.into() };
    let mut sailors = Vec::new();
    for name in ["ann", "bob", "cy", "dee"] {
        sailors.push(Sailor::create(pool, new_sailor(name)).await?);
    }
    let id = |i: usize| sailors[i].id;
    let pair = |name: &str, role: &str| (name.to_owned(), role.to_owned());

    let eve = crew
        .sailors()
        .create_with(pool, new_sailor("eve"), &berth("captain"))
        .await?;
    assert_eq!(berths(pool, &crew).await?, [pair("eve", "captain")]);

    // The same role twice: the table refuses the link, and the new sailor is not written.
    let refused = crew
        .sailors()
        .create_with(pool, new_sailor("fay"), &berth("captain"))
        .await;
    assert!(
        matches!(refused, Err(Error::Database { .. })),
        "{refused:?}"
    );
    assert_eq!(Sailor::count(pool, Filter::new()).await?, 5);
    let missing = Crew::sailors_of(-1)
        .create_with(pool, new_sailor("gus"), &berth("cook"))
        .await;
    assert!(missing.is_err_and(|e| e.is_not_found()));
    assert_eq!(Sailor::count(pool, Filter::new()).await?, 5);

    assert_eq!(
        crew.sailors()
            .add_many_with(pool, [id(0)], &berth("cook"))
            .await?,
        1
    );
    // A link that exists keeps its data; the new one gets the given data.
    assert_eq!(
        crew.sailors()
            .add_many_with(pool, [id(0), id(1)], &berth("mate"))
            .await?,
        1
    );
    assert_eq!(
        berths(pool, &crew).await?,
        [
            pair("ann", "cook"),
            pair("bob", "mate"),
            pair("eve", "captain")
        ]
    );
    // Two new links with one role: refused as a whole.
    let refused = crew
        .sailors()
        .add_many_with(pool, [id(2), id(3)], &berth("deckhand"))
        .await;
    assert!(
        matches!(refused, Err(Error::Database { .. })),
        "{refused:?}"
    );
    assert_eq!(berths(pool, &crew).await?.len(), 3);

    crew.sailors()
        .set_with(pool, [id(1), id(2), eve.id], &berth("bosun"))
        .await?;
    assert_eq!(
        berths(pool, &crew).await?,
        [
            pair("bob", "mate"),
            pair("cy", "bosun"),
            pair("eve", "captain")
        ]
    );
    let missing = crew
        .sailors()
        .set_with(pool, [id(3), -5], &berth("cook"))
        .await;
    assert!(missing.is_err_and(|e| e.is_not_found()));
    assert_eq!(berths(pool, &crew).await?.len(), 3);
    Ok(())
}

habtm_tests::on_every_backend!(
    join_rows_carry_data,
    join_models_with_their_own_table_and_keys,
    every_write_carries_join_data
);
