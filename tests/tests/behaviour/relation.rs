//! The relation methods of `assembly.parts()`.

use habtm::sqlx::Pool;
use habtm::{Backend, Error, Filter, Result};

use crate::models::*;

async fn add_links_once<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let engine = Assembly::create(pool, new_assembly("engine")).await?;
    let bolt = Part::create(pool, new_part("B-1")).await?;
    engine.parts().add(pool, bolt.id).await?;
    engine.parts().add(pool, bolt.id).await?;
    assert_eq!(engine.parts().count(pool).await?, 1);
    assert_eq!(engine.parts().all(pool).await?, vec![bolt.clone()]);
    assert_eq!(bolt.assemblies().all(pool).await?, vec![engine.clone()]);
    let missing = engine.parts().add(pool, bolt.id + 1000).await.unwrap_err();
    assert!(matches!(missing, Error::NotFound { model: "Part", .. }), "{missing}");
    let missing = Assembly::parts_of(engine.id + 1000).add(pool, bolt.id).await.unwrap_err();
    assert!(matches!(missing, Error::NotFound { model: "Assembly", .. }), "{missing}");
    assert_eq!(engine.parts().count(pool).await?, 1);
    Ok(())
}

habtm_tests::on_every_backend!(add_links_once);
