//! Query power: eager loading with per-owner filters, and relation predicates.

use habtm::sqlx::Pool;
use habtm::{Backend, Condition, Filter, Result};

use crate::models::*;

fn numbers(parts: &[Part]) -> Vec<&str> {
    parts.iter().map(|p| p.part_number.as_str()).collect()
}

/// Three assemblies: `a` has 5 parts, `b` has 2 (one shared with `a`), `c` none.
async fn catalogue<DB: Backend>(pool: &Pool<DB>) -> Result<(Assembly, Assembly, Assembly)> {
    schema(pool).await?;
    let a = Assembly::create(pool, new_assembly("a")).await?;
    let b = Assembly::create(pool, new_assembly("b")).await?;
    let c = Assembly::create(pool, new_assembly("c")).await?;
    for n in ["a1", "a2", "a3", "a4", "a5"] {
        a.parts().create(pool, new_part(n)).await?;
    }
    let shared = Part::find(pool, Filter::new().filter(Part::PART_NUMBER.eq("a3"))).await?;
    b.parts().add(pool, shared[0].id).await?;
    b.parts().create(pool, new_part("b1")).await?;
    Ok((a, b, c))
}

async fn eager_loading_is_aligned_with_the_owners<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let (a, b, c) = catalogue(pool).await?;
    let owners = vec![c.clone(), a.clone(), b.clone(), a.clone()];
    let loaded = Assembly::load_parts(pool, &owners, Filter::new()).await?;
    assert_eq!(loaded.len(), 4);
    assert!(loaded[0].is_empty());
    assert_eq!(numbers(&loaded[1]), ["a1", "a2", "a3", "a4", "a5"]);
    assert_eq!(numbers(&loaded[2]), ["a3", "b1"]);
    assert_eq!(loaded[3], loaded[1], "a repeated owner gets its rows again");
    for (owner, parts) in owners.iter().zip(&loaded) {
        assert_eq!(
            &owner.parts().all(pool).await?,
            parts,
            "the same as one query per owner"
        );
    }
    assert!(
        Assembly::load_parts(pool, &[], Filter::new())
            .await?
            .is_empty()
    );
    Ok(())
}

/// LoopBack applies an include's limit across all owners; habtm applies it to each.
async fn eager_limit_and_order_are_per_owner<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let (a, b, c) = catalogue(pool).await?;
    let owners = [a, b, c];
    let filter = Filter::new().order_by(Part::PART_NUMBER.desc()).limit(2);
    let loaded = Assembly::load_parts(pool, &owners, filter).await?;
    assert_eq!(numbers(&loaded[0]), ["a5", "a4"]);
    assert_eq!(numbers(&loaded[1]), ["b1", "a3"]);
    assert!(loaded[2].is_empty());
    let filter = Filter::new()
        .filter(Part::PART_NUMBER.ne("a1"))
        .skip(1)
        .limit(2);
    let loaded = Assembly::load_parts(pool, &owners, filter).await?;
    assert_eq!(numbers(&loaded[0]), ["a3", "a4"]);
    assert_eq!(numbers(&loaded[1]), ["b1"]);
    let filter = Filter::new().filter(Part::PART_NUMBER.like("%3"));
    let loaded = Assembly::load_parts(pool, &owners, filter).await?;
    assert_eq!(numbers(&loaded[0]), ["a3"]);
    assert_eq!(numbers(&loaded[1]), ["a3"]);
    // The other side loads the same links.
    let parts = Part::find(
        pool,
        Filter::new().filter(Part::PART_NUMBER.is_in(["a3", "b1"])),
    )
    .await?;
    let assemblies = Part::load_assemblies(pool, &parts, Filter::new()).await?;
    let names: Vec<Vec<&str>> = assemblies
        .iter()
        .map(|list| list.iter().map(|a| a.name.as_str()).collect())
        .collect();
    assert_eq!(names, [vec!["a", "b"], vec!["b"]]);
    Ok(())
}

fn names(assemblies: &[Assembly]) -> Vec<&str> {
    assemblies.iter().map(|a| a.name.as_str()).collect()
}

/// Prisma's some / none / every, compiled to EXISTS subqueries.
async fn relation_predicates<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    catalogue(pool).await?;
    let find =
        |condition: Condition<Assembly>| Assembly::find(pool, Filter::new().filter(condition));
    assert_eq!(
        names(&find(Assembly::PARTS.some(Part::PART_NUMBER.eq("a3"))).await?),
        ["a", "b"]
    );
    assert_eq!(
        names(&find(Assembly::PARTS.some(Part::PART_NUMBER.eq("b1"))).await?),
        ["b"]
    );
    assert_eq!(
        names(&find(Assembly::PARTS.none(Part::PART_NUMBER.eq("b1"))).await?),
        ["a", "c"]
    );
    assert_eq!(
        names(&find(Assembly::PARTS.every(Part::PART_NUMBER.like("a%"))).await?),
        ["a", "c"]
    );
    assert_eq!(names(&find(Assembly::PARTS.any()).await?), ["a", "b"]);
    assert_eq!(names(&find(Assembly::PARTS.is_empty()).await?), ["c"]);
    let combined = Assembly::PARTS
        .some(Part::PART_NUMBER.eq("a3"))
        .and(!Assembly::NAME.eq("a"));
    assert_eq!(names(&find(combined).await?), ["b"]);
    // Nested: parts that belong to an assembly that also has b1.
    let with_b1 = Part::ASSEMBLIES.some(Assembly::PARTS.some(Part::PART_NUMBER.eq("b1")));
    let parts = Part::find(pool, Filter::new().filter(with_b1)).await?;
    assert_eq!(numbers(&parts), ["a3", "b1"]);
    // On a relation's own find.
    let (a, ..) = (
        Assembly::find(pool, Filter::new().filter(Assembly::NAME.eq("a")))
            .await?
            .remove(0),
    );
    let shared = a
        .parts()
        .find(
            pool,
            Filter::new().filter(Part::ASSEMBLIES.some(Assembly::NAME.eq("b"))),
        )
        .await?;
    assert_eq!(numbers(&shared), ["a3"]);
    let count = a
        .parts()
        .count_where(
            pool,
            Filter::new().filter(Part::ASSEMBLIES.some(Assembly::NAME.eq("b"))),
        )
        .await?;
    assert_eq!(count, 1);
    Ok(())
}

habtm_tests::on_every_backend!(
    eager_loading_is_aligned_with_the_owners,
    eager_limit_and_order_are_per_owner,
    relation_predicates,
);
