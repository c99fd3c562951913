//! Typed eager loading: several relations and levels in one call, one statement per relation
//! and level, each level's filter applying to each of its owners on its own.

use habtm::sqlx::Pool;
use habtm::{Backend, Filter, Loader, Result};

use crate::models::*;

/// The part numbers of some parts.
fn numbers(parts: &[Part]) -> Vec<&str> {
    parts.iter().map(|p| p.part_number.as_str()).collect()
}

async fn several_relations_and_levels_in_one_call<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let mut assemblies = Vec::new();
    for name in ["engine", "pump", "empty"] {
        assemblies.push(Assembly::create(pool, new_assembly(name)).await?);
    }
    let mut parts = Vec::new();
    for number in ["p1", "p2", "p3", "p4", "p5"] {
        parts.push(Part::create(pool, new_part(number)).await?);
    }
    let id = |i: usize| parts[i - 1].id;
    assemblies[0]
        .parts()
        .add_many(pool, [id(1), id(2), id(3)])
        .await?;
    assemblies[1].parts().add_many(pool, [id(2), id(4)]).await?;
    parts[0].subparts().add_many(pool, [id(4), id(5)]).await?;
    parts[1].subparts().add(pool, id(5)).await?;

    // Two levels: each assembly's parts, each with its subparts.
    let by_number = || Filter::new().order_by(Part::PART_NUMBER);
    let plan = Assembly::PARTS
        .include(by_number())
        .with(Part::SUBPARTS.include(by_number()));
    // A future that a server can spawn.
    fn send<T: Send>(future: T) -> T {
        future
    }
    let loaded = send(plan.load(pool, &assemblies)).await?;
    let shape: Vec<Vec<(&str, Vec<&str>)>> = loaded
        .iter()
        .map(|parts| {
            parts
                .iter()
                .map(|(part, subparts)| (part.part_number.as_str(), numbers(subparts)))
                .collect()
        })
        .collect();
    assert_eq!(
        shape,
        [
            vec![("p1", vec!["p4", "p5"]), ("p2", vec!["p5"]), ("p3", vec![])],
            vec![("p2", vec!["p5"]), ("p4", vec![])],
            vec![],
        ]
    );

    // Several relations of one owner, with filters per parent: each part's first subpart
    // in descending order, beside its assemblies.
    let plan = (
        Part::ASSEMBLIES.include(Filter::new().order_by(Assembly::NAME)),
        Part::SUBPARTS.include(Filter::new().order_by(Part::PART_NUMBER.desc()).limit(1)),
    );
    let loaded = plan.load(pool, &parts).await?;
    let shape: Vec<(Vec<&str>, Vec<&str>)> = loaded
        .iter()
        .map(|(assemblies, subparts)| {
            let names = assemblies.iter().map(|a| a.name.as_str()).collect();
            (names, numbers(subparts))
        })
        .collect();
    assert_eq!(
        shape,
        [
            (vec!["engine"], vec!["p5"]),
            (vec!["engine", "pump"], vec!["p5"]),
            (vec!["engine"], vec![]),
            (vec!["pump"], vec![]),
            (vec![], vec![]),
        ]
    );

    // Three levels, the last of two relations: assemblies -> parts -> (subparts,
    // the assemblies of each part).
    let plan = Assembly::PARTS.include(by_number()).with((
        Part::SUBPARTS.include(by_number()),
        Part::ASSEMBLIES.include(Filter::new().filter(Assembly::NAME.ne("engine"))),
    ));
    let loaded = plan.load(pool, &assemblies[..1]).await?;
    let (p2, (subparts, others)) = &loaded[0][1];
    assert_eq!(p2.part_number, "p2");
    assert_eq!(numbers(subparts), ["p5"]);
    assert_eq!(others, std::slice::from_ref(&assemblies[1]));

    // No owners: nothing read, nothing returned.
    assert!(plan.load(pool, &[]).await?.is_empty());
    Ok(())
}

habtm_tests::on_every_backend!(several_relations_and_levels_in_one_call);
