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

/// A part whose column is NULL does not match a condition on it: `every` agrees with
/// `count_where`, and `!c` matches exactly the rows `c` does not.
async fn predicates_and_nulls_agree<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let kit = Assembly::create(pool, new_assembly("kit")).await?;
    let ordered = |n: &str, order: Option<i32>| NewPart {
        part_number: n.to_owned(),
        order,
    };
    kit.parts().create(pool, ordered("p1", Some(1))).await?;
    kit.parts().create(pool, ordered("p2", None)).await?;
    let positive = || Part::ORDER.gt(0);
    let matching = kit
        .parts()
        .count_where(pool, Filter::new().filter(positive()))
        .await?;
    let all = kit.parts().count(pool).await?;
    assert_eq!((matching, all), (1, 2), "the NULL part does not match");
    let every = Assembly::find(
        pool,
        Filter::new().filter(Assembly::PARTS.every(positive())),
    )
    .await?;
    assert!(
        every.is_empty(),
        "not every part matches, as count_where says"
    );
    let some = Assembly::find(pool, Filter::new().filter(Assembly::PARTS.some(positive()))).await?;
    assert_eq!(names(&some), ["kit"]);
    let not_matching = kit
        .parts()
        .count_where(pool, Filter::new().filter(!positive()))
        .await?;
    assert_eq!(
        not_matching,
        all - matching,
        "`!c` is the rest, the NULL part included"
    );
    let none = Assembly::find(
        pool,
        Filter::new().filter(Assembly::PARTS.none(!positive())),
    )
    .await?;
    assert!(none.is_empty(), "the NULL part matches `!c`");
    Ok(())
}

/// `is_in` and `not_in` (and LoopBack's `inq`/`nin`) with more values than a statement may
/// carry as parameters on any backend.
async fn membership_takes_any_number_of_values<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let kit = Assembly::create(pool, new_assembly("kit")).await?;
    let p1 = kit.parts().create(pool, new_part("p1")).await?;
    let p2 = kit.parts().create(pool, new_part("p2")).await?;
    let p3 = Part::create(pool, new_part("p3")).await?;
    // 70,000 ids: p1 and p3 among many that do not exist.
    let many = || (1_000_000..1_070_000i64).chain([p1.id, p3.id]);
    let found = Part::find(pool, Filter::new().filter(Part::ID.is_in(many()))).await?;
    assert_eq!(found, vec![p1.clone(), p3.clone()]);
    let rest = Part::find(pool, Filter::new().filter(Part::ID.not_in(many()))).await?;
    assert_eq!(rest, vec![p2.clone()]);
    let linked = kit
        .parts()
        .count_where(pool, Filter::new().filter(Part::ID.is_in(many())))
        .await?;
    assert_eq!(linked, 1);
    // Two long lists and a short one in one filter, and eager loading with one.
    let both = Part::ID
        .is_in(many())
        .and(Part::ID.not_in(1_000_000..1_050_000i64))
        .and(Part::PART_NUMBER.is_in(["p1", "p2"]));
    assert_eq!(
        Part::find(pool, Filter::new().filter(both)).await?,
        vec![p1.clone()]
    );
    // A long list of text, with quotes and backslashes: one JSON text on SQLite, a temporary
    // table on MySQL.
    let names = || {
        (0..6_000)
            .map(|i| format!("x\"{i}\\"))
            .chain(["p3".to_owned()])
    };
    assert_eq!(
        Part::find(pool, Filter::new().filter(Part::PART_NUMBER.is_in(names()))).await?,
        vec![p3.clone()]
    );
    let others = Filter::new()
        .filter(Part::PART_NUMBER.not_in(names()))
        .order_by(Part::ID.asc());
    assert_eq!(
        Part::find(pool, others).await?,
        vec![p1.clone(), p2.clone()]
    );
    let loaded = Assembly::load_parts(
        pool,
        std::slice::from_ref(&kit),
        Filter::new().filter(Part::ID.not_in(many())),
    )
    .await?;
    assert_eq!(loaded, vec![vec![p2.clone()]]);
    // The same through LoopBack's JSON filter.
    let ids: Vec<String> = many().map(|id| id.to_string()).collect();
    let json = format!(
        r#"{{"where": {{"id": {{"inq": [{}]}}}}, "order": "id"}}"#,
        ids.join(",")
    );
    assert_eq!(
        Part::find(pool, Filter::from_json(&json)?).await?,
        vec![p1, p3]
    );
    let json = format!(r#"{{"where": {{"id": {{"nin": [{}]}}}}}}"#, ids.join(","));
    assert_eq!(Part::find(pool, Filter::from_json(&json)?).await?, vec![p2]);
    Ok(())
}

habtm_tests::on_every_backend!(
    eager_loading_is_aligned_with_the_owners,
    eager_limit_and_order_are_per_owner,
    relation_predicates,
    predicates_and_nulls_agree,
    membership_takes_any_number_of_values,
);
