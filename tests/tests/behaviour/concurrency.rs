//! Many tasks at once on the same rows: links are never duplicated, dangling or lost, and no
//! error reaches the caller that it could not act on.

use std::collections::{BTreeSet, HashSet};

use futures::future::join_all;
use habtm::sqlx::Pool;
use habtm::{Backend, Error, Filter, Result};
use habtm_tests::raw;

use crate::models::*;

/// A small deterministic generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// Links of `AssemblyPart` whose assembly or part does not exist.
async fn dangling<DB: Backend>(pool: &Pool<DB>) -> Result<i64> {
    let q = raw::q::<DB>;
    raw::int(
        pool,
        &format!(
            "SELECT COUNT(*) FROM {j} WHERE {p} NOT IN (SELECT {id} FROM {part}) OR {a} NOT IN (SELECT {id} FROM {asm})",
            j = q("AssemblyPart"),
            p = q("part_id"),
            a = q("assembly_id"),
            id = q("id"),
            part = q("Part"),
            asm = q("Assembly"),
        ),
    )
    .await
}

/// Pairs of `AssemblyPart` stored more than once.
async fn duplicated<DB: Backend>(pool: &Pool<DB>) -> Result<i64> {
    let q = raw::q::<DB>;
    raw::int(
        pool,
        &format!(
            "SELECT COUNT(*) FROM (SELECT {a}, {p} FROM {j} GROUP BY {a}, {p} HAVING COUNT(*) > 1) AS d",
            j = q("AssemblyPart"),
            p = q("part_id"),
            a = q("assembly_id"),
        ),
    )
    .await
}

async fn parts<DB: Backend>(pool: &Pool<DB>, n: usize) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(Part::create(pool, new_part(&format!("P-{i}"))).await?.id);
    }
    Ok(ids)
}

/// Adds from many tasks, with overlaps: every link that any task added is there, once.
async fn concurrent_adds_lose_nothing<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let kit = Assembly::create(pool, new_assembly("kit")).await?;
    let ids = parts(pool, 120).await?;
    let tasks = ids.chunks(10).enumerate().map(|(task, chunk)| {
        let kit = kit.parts();
        let shared = ids[0];
        async move {
            if task % 2 == 0 {
                kit.add_many(pool, chunk.iter().copied().chain([shared]))
                    .await?;
            } else {
                for id in chunk {
                    kit.add(pool, *id).await?;
                }
                kit.add(pool, shared).await?;
            }
            Ok::<_, Error>(())
        }
    });
    for result in join_all(tasks).await {
        result?;
    }
    assert_eq!(kit.parts().ids(pool).await?, ids);
    assert_eq!(
        raw::count_rows(pool, "AssemblyPart").await?,
        ids.len() as i64
    );
    Ok(())
}

/// Removes from many tasks at once, some of the same links: exactly those links go.
async fn concurrent_removes_remove_exactly_those<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let kit = Assembly::create(pool, new_assembly("kit")).await?;
    let ids = parts(pool, 60).await?;
    kit.parts().add_many(pool, ids.clone()).await?;
    let doomed: Vec<i64> = ids.iter().copied().filter(|id| id % 3 == 0).collect();
    let tasks = (0..8).map(|task| {
        let kit = kit.parts();
        let doomed = &doomed;
        async move {
            if task % 2 == 0 {
                kit.remove_many(pool, doomed.iter().copied())
                    .await
                    .map(|_| ())
            } else {
                for id in doomed {
                    kit.remove(pool, *id).await?;
                }
                Ok(())
            }
        }
    });
    for result in join_all(tasks).await {
        result?;
    }
    let expected: Vec<i64> = ids.iter().copied().filter(|id| id % 3 != 0).collect();
    assert_eq!(kit.parts().ids(pool).await?, expected);
    Ok(())
}

/// Concurrent `set` calls on one owner end in exactly one of the requested sets.
async fn concurrent_sets_end_in_one_requested_set<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let kit = Assembly::create(pool, new_assembly("kit")).await?;
    let ids = parts(pool, 40).await?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let requested: Vec<BTreeSet<i64>> = (0..12)
        .map(|_| ids.iter().copied().filter(|_| rng.next(2) == 0).collect())
        .collect();
    let kit_parts = kit.parts();
    for round in 0..3 {
        let tasks = requested
            .iter()
            .map(|set| kit_parts.set(pool, set.iter().copied()));
        for result in join_all(tasks).await {
            result?;
        }
        let now: BTreeSet<i64> = kit.parts().ids(pool).await?.into_iter().collect();
        assert!(
            requested.contains(&now),
            "round {round}: {now:?} is none of the requested sets"
        );
    }
    Ok(())
}

/// Every operation at once on three assemblies and thirty parts.
async fn chaos_keeps_every_invariant<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let mut assemblies = Vec::new();
    for name in ["a", "b", "c"] {
        assemblies.push(Assembly::create(pool, new_assembly(name)).await?);
    }
    let ids = parts(pool, 30).await?;
    let tasks = (0..12u64).map(|task| {
        let assemblies = &assemblies;
        let ids = &ids;
        async move {
            let mut rng = Rng(task * 7919 + 17);
            let mut destroyed = Vec::new();
            let mut created = Vec::new();
            for _ in 0..20 {
                let parts = assemblies[rng.next(3) as usize].parts();
                let id = ids[rng.next(ids.len() as u64) as usize];
                let some: Vec<i64> = (0..rng.next(6))
                    .map(|_| ids[rng.next(ids.len() as u64) as usize])
                    .collect();
                let outcome = match rng.next(8) {
                    0 => parts.add(pool, id).await,
                    1 => parts.remove(pool, id).await.map(|_| ()),
                    2 => parts.set(pool, some).await,
                    3 => parts.add_many(pool, some).await.map(|_| ()),
                    4 => parts.remove_many(pool, some).await.map(|_| ()),
                    5 => parts
                        .create(pool, new_part("new"))
                        .await
                        .map(|p| created.push(p.id)),
                    6 => parts.destroy(pool, id).await.map(|gone| {
                        if gone {
                            destroyed.push(id);
                        }
                    }),
                    _ => parts.count(pool).await.map(|_| ()),
                };
                match outcome {
                    Ok(()) | Err(Error::NotFound { model: "Part", .. }) => {}
                    Err(other) => return Err(other),
                }
            }
            Ok::<_, Error>((destroyed, created))
        }
    });
    let mut destroyed = HashSet::new();
    let mut created = Vec::new();
    for result in join_all(tasks).await {
        let (d, c) = result?;
        destroyed.extend(d);
        created.extend(c);
    }
    assert_eq!(
        dangling::<DB>(pool).await?,
        0,
        "no link points at a missing row"
    );
    assert_eq!(duplicated::<DB>(pool).await?, 0);
    for id in &destroyed {
        assert_eq!(
            Part::find_by_id(pool, *id).await?,
            None,
            "a destroyed part stays destroyed"
        );
    }
    let survivors: HashSet<i64> = Part::find(pool, Filter::new())
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    for id in created.iter().filter(|id| !destroyed.contains(id)) {
        assert!(survivors.contains(id), "created part {id} was lost");
    }
    Ok(())
}

/// `add` of a pair that another task keeps removing: every `add` succeeds (it never answers
/// `NotFound` for rows that exist), and every `remove` says whether it removed a link.
async fn add_and_remove_of_one_pair<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let kit = Assembly::create(pool, new_assembly("kit")).await?;
    let bolt = Part::create(pool, new_part("bolt")).await?;
    let tasks = (0..8).map(|task| {
        let kit = kit.parts();
        async move {
            for _ in 0..40 {
                if task % 2 == 0 {
                    kit.add(pool, bolt.id).await?;
                } else {
                    kit.remove(pool, bolt.id).await?;
                }
            }
            Ok::<_, Error>(())
        }
    });
    for result in join_all(tasks).await {
        result?;
    }
    assert!(kit.parts().count(pool).await? <= 1);
    Ok(())
}

/// Writers on both sides of one relation at once, with `save` and `delete_by_id` of the rows
/// involved: nothing but `NotFound` for a row another task deleted reaches the caller.
async fn both_sides_and_the_rows_themselves<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let mut assemblies = Vec::new();
    for name in ["a", "b", "c", "d"] {
        assemblies.push(Assembly::create(pool, new_assembly(name)).await?);
    }
    let ids = parts(pool, 16).await?;
    let tasks = (0..10u64).map(|task| {
        let (assemblies, ids) = (&assemblies, &ids);
        async move {
            let mut rng = Rng(task * 104_729 + 7);
            for _ in 0..16 {
                let assembly = &assemblies[rng.next(assemblies.len() as u64) as usize];
                let part = ids[rng.next(ids.len() as u64) as usize];
                let some: Vec<i64> = (0..rng.next(5))
                    .map(|_| ids[rng.next(ids.len() as u64) as usize])
                    .collect();
                let outcome = match rng.next(9) {
                    0 => assembly.parts().add(pool, part).await,
                    1 => Part::subparts_of(part).add(pool, ids[0]).await,
                    2 => assembly.parts().set(pool, some).await,
                    3 => Part::assemblies_of(part).add(pool, assembly.id).await,
                    4 => {
                        Part::assemblies_of(part)
                            .set(
                                pool,
                                assemblies.iter().map(|a| a.id).take(rng.next(4) as usize),
                            )
                            .await
                    }
                    5 => assembly.save(pool).await,
                    6 => Part::find_by_id(pool, part)
                        .await
                        .and_then(|found| match found {
                            Some(p) => Ok(p),
                            None => Err(Error::NotFound {
                                model: "Part",
                                id: part.to_string(),
                            }),
                        })
                        .map(|_| ()),
                    7 => assembly.parts().remove_many(pool, some).await.map(|_| ()),
                    _ => Part::delete_by_id(pool, part).await.map(|_| ()),
                };
                match outcome {
                    Ok(()) | Err(Error::NotFound { model: "Part", .. }) => {}
                    Err(other) => return Err(other),
                }
            }
            Ok::<_, Error>(())
        }
    });
    for result in join_all(tasks).await {
        result?;
    }
    assert_eq!(
        dangling::<DB>(pool).await?,
        0,
        "no link points at a missing row"
    );
    assert_eq!(duplicated::<DB>(pool).await?, 0);
    Ok(())
}

habtm_tests::on_every_backend!(
    concurrent_adds_lose_nothing,
    concurrent_removes_remove_exactly_those,
    concurrent_sets_end_in_one_requested_set,
    chaos_keeps_every_invariant,
    add_and_remove_of_one_pair,
    both_sides_and_the_rows_themselves,
);

/// Futures of relation methods are `Send`: they run on `tokio::spawn`.
macro_rules! spawned_tasks {
    ($($module:ident: $db:ty),*) => {$(
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn spawned_tasks() {
                habtm_tests::run::<$db, _, _>(concat!(stringify!($module), "_spawned"), |pool| async move {
                    schema(&pool).await?;
                    let kit = Assembly::create(&pool, new_assembly("kit")).await?;
                    let ids = parts(&pool, 16).await?;
                    let handles: Vec<_> = ids
                        .iter()
                        .map(|&id| {
                            let (pool, kit) = (pool.clone(), kit.clone());
                            tokio::spawn(async move {
                                kit.parts().add(&pool, id).await?;
                                kit.parts().remove(&pool, id).await?;
                                kit.parts().set(&pool, [id]).await
                            })
                        })
                        .collect();
                    for handle in handles {
                        handle.await.expect("task")?;
                    }
                    assert_eq!(kit.parts().count(&pool).await?, 1, "one of the sets won");
                    Ok(())
                })
                .await;
            }
        }
    )*};
}

spawned_tasks!(spawn_sqlite: habtm::sqlx::Sqlite, spawn_postgres: habtm::sqlx::Postgres, spawn_mysql: habtm::sqlx::MySql);
