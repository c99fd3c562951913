//! Join tables and keys: defaults from either side, overrides, self-relations, and two
//! relations between one pair.

use habtm::sqlx::Pool;
use habtm::{Backend, Result};
use habtm_tests::raw;

use crate::models::*;

async fn custom_table_and_keys_are_used<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    all_tables(pool).await?;
    let widget = Widget::create(pool, NewWidget { label: "w".into() }).await?;
    let gadget = Gadget::create(pool, NewGadget { label: "g".into() }).await?;
    let spare = Gadget::create(
        pool,
        NewGadget {
            label: "spare".into(),
        },
    )
    .await?;
    widget.gadgets().add(pool, gadget.id).await?;
    widget.spare_gadgets().add(pool, spare.id).await?;
    let q = raw::q::<DB>;
    let linked = raw::int(
        pool,
        &format!(
            "SELECT COUNT(*) FROM {} WHERE {} = {} AND {} = {}",
            q("widget_gadget_links"),
            q("widget_ref"),
            widget.id,
            q("gadget_ref"),
            gadget.id
        ),
    )
    .await?;
    assert_eq!(linked, 1);
    assert_eq!(
        raw::count_rows(pool, "GadgetWidget").await?,
        1,
        "the second relation has the default table"
    );
    // Each relation sees only its own links, and the other side sees the renamed table.
    assert_eq!(widget.gadgets().all(pool).await?, vec![gadget.clone()]);
    assert_eq!(widget.spare_gadgets().all(pool).await?, vec![spare.clone()]);
    assert_eq!(gadget.widgets().all(pool).await?, vec![widget.clone()]);
    assert!(spare.widgets().all(pool).await?.is_empty());
    Ok(())
}

async fn self_relation<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let engine = Part::create(pool, new_part("engine")).await?;
    let piston = Part::create(pool, new_part("piston")).await?;
    let ring = Part::create(pool, new_part("ring")).await?;
    engine
        .subparts()
        .add_many(pool, [piston.id, ring.id])
        .await?;
    piston.subparts().add(pool, ring.id).await?;
    assert_eq!(
        engine.subparts().all(pool).await?,
        vec![piston.clone(), ring.clone()]
    );
    assert_eq!(piston.subparts().all(pool).await?, vec![ring.clone()]);
    assert!(
        ring.subparts().all(pool).await?.is_empty(),
        "the relation has a direction"
    );
    let q = raw::q::<DB>;
    let rows = raw::int(
        pool,
        &format!(
            "SELECT COUNT(*) FROM {} WHERE {} = {}",
            q("PartSubparts"),
            q("subpart_id"),
            ring.id
        ),
    )
    .await?;
    assert_eq!(rows, 2);
    assert!(engine.subparts().destroy(pool, ring.id).await?);
    assert!(piston.subparts().all(pool).await?.is_empty());
    Ok(())
}

habtm_tests::on_every_backend!(custom_table_and_keys_are_used, self_relation);
