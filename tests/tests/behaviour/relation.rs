//! The relation methods of `assembly.parts()`, LoopBack's `assembly.parts.*`.

use habtm::sqlx::Pool;
use habtm::{Backend, Error, Filter, Result};
use habtm_tests::raw;

use crate::models::*;

/// Two assemblies and four parts; the engine has bolt, nut and washer, the pump has nut.
struct Fixture {
    engine: Assembly,
    pump: Assembly,
    bolt: Part,
    nut: Part,
    washer: Part,
    spare: Part,
}

async fn fixture<DB: Backend>(pool: &Pool<DB>) -> Result<Fixture> {
    schema(pool).await?;
    let engine = Assembly::create(pool, new_assembly("engine")).await?;
    let pump = Assembly::create(pool, new_assembly("pump")).await?;
    let bolt = engine.parts().create(pool, new_part("B-1")).await?;
    let nut = engine.parts().create(pool, new_part("N-2")).await?;
    let washer = engine.parts().create(pool, new_part("W-3")).await?;
    let spare = Part::create(pool, new_part("S-4")).await?;
    pump.parts().add(pool, nut.id).await?;
    Ok(Fixture {
        engine,
        pump,
        bolt,
        nut,
        washer,
        spare,
    })
}

fn numbers(parts: &[Part]) -> Vec<&str> {
    parts.iter().map(|p| p.part_number.as_str()).collect()
}

async fn add_links_once<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let f = fixture(pool).await?;
    f.engine.parts().add(pool, f.spare.id).await?;
    f.engine.parts().add(pool, f.spare.id).await?;
    assert_eq!(f.engine.parts().count(pool).await?, 4);
    // Concurrent adds of one link: one row, no error.
    let parts = f.pump.parts();
    let (a, b, c, d) = tokio::join!(
        parts.add(pool, f.spare.id),
        parts.add(pool, f.spare.id),
        parts.add(pool, f.spare.id),
        parts.add(pool, f.spare.id),
    );
    for result in [a, b, c, d] {
        result?;
    }
    assert_eq!(f.pump.parts().ids(pool).await?, vec![f.nut.id, f.spare.id]);
    // Both sides see the same join table.
    assert_eq!(
        f.spare.assemblies().all(pool).await?,
        vec![f.engine.clone(), f.pump.clone()]
    );
    let joins = raw::count_rows(pool, "AssemblyPart").await?;
    assert_eq!(joins, 6);
    Ok(())
}

async fn add_of_a_missing_row_is_not_found<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let f = fixture(pool).await?;
    let error = f.engine.parts().add(pool, 999_999).await.unwrap_err();
    assert!(
        matches!(&error, Error::NotFound { model: "Part", id } if id == "999999"),
        "{error}"
    );
    assert_eq!(error.to_string(), "Part with id 999999 not found");
    let error = Assembly::parts_of(999_999)
        .add(pool, f.bolt.id)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::NotFound {
                model: "Assembly",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(raw::count_rows(pool, "AssemblyPart").await?, 4);
    Ok(())
}

async fn find_filters_on_part_columns<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let f = fixture(pool).await?;
    let parts = f.engine.parts();
    assert_eq!(
        numbers(&parts.find(pool, Filter::new()).await?),
        ["B-1", "N-2", "W-3"]
    );
    let by_name = parts
        .find(pool, Filter::new().filter(Part::PART_NUMBER.eq("N-2")))
        .await?;
    assert_eq!(by_name, vec![f.nut.clone()]);
    let by_id = parts
        .find(pool, Filter::new().filter(Part::ID.eq(f.washer.id)))
        .await?;
    assert_eq!(by_id, vec![f.washer.clone()]);
    let inq = parts
        .find(
            pool,
            Filter::new().filter(Part::ID.is_in([f.bolt.id, f.washer.id, f.spare.id])),
        )
        .await?;
    assert_eq!(
        numbers(&inq),
        ["B-1", "W-3"],
        "the unlinked spare is not returned"
    );
    let unlinked = parts
        .find(pool, Filter::new().filter(Part::ID.eq(f.spare.id)))
        .await?;
    assert!(unlinked.is_empty());
    let desc = parts
        .find(pool, Filter::new().order_by(Part::PART_NUMBER.desc()))
        .await?;
    assert_eq!(numbers(&desc), ["W-3", "N-2", "B-1"]);
    let page = parts
        .find(
            pool,
            Filter::new().order_by(Part::PART_NUMBER).skip(1).limit(1),
        )
        .await?;
    assert_eq!(numbers(&page), ["N-2"]);
    let skipped = parts.find(pool, Filter::new().skip(2)).await?;
    assert_eq!(numbers(&skipped), ["W-3"]);
    let limited = parts.find(pool, Filter::new().limit(2)).await?;
    assert_eq!(numbers(&limited), ["B-1", "N-2"]);
    let like = parts
        .find(pool, Filter::new().filter(Part::PART_NUMBER.like("%-3")))
        .await?;
    assert_eq!(numbers(&like), ["W-3"]);
    let either = Part::PART_NUMBER.eq("B-1").or(Part::PART_NUMBER.eq("W-3"));
    let not_nut = !Part::ID.eq(f.nut.id);
    let combined = parts
        .find(pool, Filter::new().filter(either).filter(not_nut))
        .await?;
    assert_eq!(numbers(&combined), ["B-1", "W-3"]);
    // The nut is linked to two assemblies and still comes back once.
    let nut_assemblies = f.nut.assemblies().all(pool).await?;
    assert_eq!(nut_assemblies.len(), 2);
    Ok(())
}

async fn build_writes_only_on_save<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let f = fixture(pool).await?;
    let mut built = f.engine.parts().build(new_part("G-5"));
    built.data.part_number.push('x');
    assert_eq!(raw::count_rows(pool, "Part").await?, 4);
    let gear = built.save(pool).await?;
    assert_eq!(gear.part_number, "G-5x");
    assert!(f.engine.parts().exists(pool, gear.id).await?);
    assert_eq!(Part::find_by_id(pool, gear.id).await?, Some(gear));
    Ok(())
}

async fn create_is_all_or_nothing<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let f = fixture(pool).await?;
    let error = Assembly::parts_of(f.pump.id + 100)
        .create(pool, new_part("X-9"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::NotFound {
                model: "Assembly",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(
        raw::count_rows(pool, "Part").await?,
        4,
        "the part was not left behind"
    );
    let created = f.pump.parts().create(pool, new_part("X-9")).await?;
    assert_eq!(
        f.pump.parts().find_by_id(pool, created.id).await?,
        Some(created)
    );
    Ok(())
}

async fn remove_unlinks_and_keeps_the_part<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let f = fixture(pool).await?;
    assert!(f.engine.parts().remove(pool, f.nut.id).await?);
    assert!(!f.engine.parts().remove(pool, f.nut.id).await?);
    assert!(!f.engine.parts().remove(pool, f.spare.id).await?);
    assert!(!f.engine.parts().exists(pool, f.nut.id).await?);
    assert!(
        f.pump.parts().exists(pool, f.nut.id).await?,
        "other links stay"
    );
    assert_eq!(Part::find_by_id(pool, f.nut.id).await?, Some(f.nut));
    Ok(())
}

async fn find_by_id_only_finds_linked_parts<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let f = fixture(pool).await?;
    assert_eq!(
        f.engine.parts().find_by_id(pool, f.bolt.id).await?,
        Some(f.bolt.clone())
    );
    assert_eq!(f.pump.parts().find_by_id(pool, f.bolt.id).await?, None);
    assert_eq!(f.pump.parts().find_by_id(pool, 999_999).await?, None);
    Ok(())
}

async fn update_by_id_only_updates_linked_parts<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let f = fixture(pool).await?;
    let data = NewPart {
        part_number: "B-1 rev2".into(),
        order: Some(7),
    };
    let updated = f.engine.parts().update_by_id(pool, f.bolt.id, data).await?;
    let expected = Part {
        id: f.bolt.id,
        part_number: "B-1 rev2".into(),
        order: Some(7),
    };
    assert_eq!(updated, Some(expected.clone()));
    assert_eq!(Part::find_by_id(pool, f.bolt.id).await?, Some(expected));
    let untouched = f
        .pump
        .parts()
        .update_by_id(pool, f.washer.id, new_part("hijack"))
        .await?;
    assert_eq!(untouched, None);
    assert_eq!(Part::find_by_id(pool, f.washer.id).await?, Some(f.washer));
    Ok(())
}

async fn destroy_deletes_the_part_and_all_its_links<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let f = fixture(pool).await?;
    assert!(
        !f.pump.parts().destroy(pool, f.bolt.id).await?,
        "not linked to the pump"
    );
    assert_eq!(
        Part::find_by_id(pool, f.bolt.id).await?,
        Some(f.bolt.clone())
    );
    assert!(f.engine.parts().destroy(pool, f.nut.id).await?);
    assert_eq!(Part::find_by_id(pool, f.nut.id).await?, None);
    assert!(
        f.pump.parts().ids(pool).await?.is_empty(),
        "no dangling link from the pump"
    );
    let dangling = raw::int(
        pool,
        &format!(
            "SELECT COUNT(*) FROM {} WHERE {} = {}",
            raw::q::<DB>("AssemblyPart"),
            raw::q::<DB>("part_id"),
            f.nut.id
        ),
    )
    .await?;
    assert_eq!(dangling, 0);
    assert!(!f.engine.parts().destroy(pool, f.nut.id).await?);
    assert_eq!(
        f.engine.parts().ids(pool).await?,
        vec![f.bolt.id, f.washer.id]
    );
    Ok(())
}

async fn exists_and_count<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let f = fixture(pool).await?;
    assert!(f.engine.parts().exists(pool, f.bolt.id).await?);
    assert!(!f.pump.parts().exists(pool, f.bolt.id).await?);
    assert!(!f.pump.parts().exists(pool, 999_999).await?);
    assert_eq!(f.engine.parts().count(pool).await?, 3);
    assert_eq!(f.pump.parts().count(pool).await?, 1);
    assert_eq!(f.spare.assemblies().count(pool).await?, 0);
    // The filter acts on Part's columns, not on the join table.
    let filter = Filter::new().filter(Part::PART_NUMBER.like("N%").or(Part::PART_NUMBER.eq("W-3")));
    assert_eq!(f.engine.parts().count_where(pool, filter).await?, 2);
    let filter = Filter::new().filter(Part::ID.eq(f.spare.id));
    assert_eq!(f.engine.parts().count_where(pool, filter).await?, 0);
    Ok(())
}

async fn clear_unlinks_everything<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let f = fixture(pool).await?;
    assert_eq!(f.engine.parts().clear(pool).await?, 3);
    assert_eq!(f.engine.parts().count(pool).await?, 0);
    assert_eq!(f.engine.parts().clear(pool).await?, 0);
    assert_eq!(raw::count_rows(pool, "Part").await?, 4, "parts stay");
    assert_eq!(f.pump.parts().ids(pool).await?, vec![f.nut.id]);
    Ok(())
}

async fn set_writes_only_the_difference<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let f = fixture(pool).await?;
    let parts = f.engine.parts();
    parts
        .set(pool, [f.washer.id, f.spare.id, f.spare.id, f.bolt.id])
        .await?;
    assert_eq!(
        parts.ids(pool).await?,
        vec![f.bolt.id, f.washer.id, f.spare.id]
    );
    parts.set(pool, vec![f.spare.id]).await?;
    assert_eq!(parts.ids(pool).await?, vec![f.spare.id]);
    let error = parts.set(pool, [f.bolt.id, 999_999]).await.unwrap_err();
    assert!(
        matches!(&error, Error::NotFound { model: "Part", id } if id == "999999"),
        "{error}"
    );
    assert_eq!(
        parts.ids(pool).await?,
        vec![f.spare.id],
        "a failed set changes nothing"
    );
    let error = Assembly::parts_of(999_999)
        .set(pool, [f.bolt.id])
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::NotFound {
                model: "Assembly",
                ..
            }
        ),
        "{error}"
    );
    parts.set(pool, []).await?;
    assert!(parts.ids(pool).await?.is_empty());
    assert_eq!(
        f.pump.parts().ids(pool).await?,
        vec![f.nut.id],
        "other owners untouched"
    );
    Ok(())
}

async fn add_many_and_remove_many<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let f = fixture(pool).await?;
    let pump = f.pump.parts();
    assert_eq!(
        pump.add_many(pool, [f.bolt.id, f.nut.id, f.bolt.id, f.spare.id])
            .await?,
        2
    );
    assert_eq!(pump.ids(pool).await?, vec![f.bolt.id, f.nut.id, f.spare.id]);
    assert_eq!(pump.add_many(pool, Vec::new()).await?, 0);
    let error = pump
        .add_many(pool, [f.washer.id, 424_242])
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::NotFound { model: "Part", id } if id == "424242"),
        "{error}"
    );
    assert!(!pump.exists(pool, f.washer.id).await?, "nothing written");
    assert_eq!(
        pump.remove_many(pool, [f.bolt.id, f.washer.id, f.bolt.id])
            .await?,
        1
    );
    assert_eq!(pump.ids(pool).await?, vec![f.nut.id, f.spare.id]);
    assert_eq!(pump.remove_many(pool, std::iter::empty()).await?, 0);
    Ok(())
}

/// More ids than one statement can bind on SQLite: the batch is split, and stays atomic.
async fn batches_larger_than_a_statement<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let kit = Assembly::create(pool, new_assembly("kit")).await?;
    let n: i64 = 25_000;
    insert_parts::<DB>(pool, n).await?;
    let ids: Vec<i64> = (1..=n).collect();
    assert_eq!(kit.parts().add_many(pool, ids.clone()).await?, n as u64);
    assert_eq!(kit.parts().count(pool).await?, n as u64);
    let mut with_missing = ids.clone();
    with_missing.push(n + 1);
    assert!(
        kit.parts()
            .set(pool, with_missing)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(kit.parts().count(pool).await?, n as u64);
    kit.parts()
        .set(pool, ids.iter().copied().filter(|id| id % 2 == 0))
        .await?;
    assert_eq!(kit.parts().count(pool).await?, n as u64 / 2);
    assert_eq!(kit.parts().remove_many(pool, ids).await?, n as u64 / 2);
    Ok(())
}

/// Inserts parts 1..=n with raw multi-row inserts.
async fn insert_parts<DB: Backend>(pool: &Pool<DB>, n: i64) -> Result<()> {
    let ids: Vec<i64> = (1..=n).collect();
    for chunk in ids.chunks(1000) {
        let values: Vec<String> = chunk.iter().map(|i| format!("({i}, 'P-{i}')")).collect();
        let sql = format!(
            "INSERT INTO {} ({}, {}) VALUES {}",
            raw::q::<DB>("Part"),
            raw::q::<DB>("id"),
            raw::q::<DB>("part_number"),
            values.join(", ")
        );
        raw::execute(pool, &sql).await?;
    }
    if DB::DIALECT == habtm::Dialect::Postgres {
        raw::execute(
            pool,
            &format!("SELECT setval(pg_get_serial_sequence('\"Part\"', 'id'), {n})"),
        )
        .await?;
    }
    Ok(())
}

habtm_tests::on_every_backend!(
    add_links_once,
    add_of_a_missing_row_is_not_found,
    find_filters_on_part_columns,
    build_writes_only_on_save,
    create_is_all_or_nothing,
    remove_unlinks_and_keeps_the_part,
    find_by_id_only_finds_linked_parts,
    update_by_id_only_updates_linked_parts,
    destroy_deletes_the_part_and_all_its_links,
    exists_and_count,
    clear_unlinks_everything,
    set_writes_only_the_difference,
    add_many_and_remove_many,
    batches_larger_than_a_statement,
);
