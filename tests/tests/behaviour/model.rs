//! The model's own methods, awkward values, and keys that are not integers.

use habtm::sqlx::Pool;
use habtm::{Backend, Error, Filter, Model, Result};
use habtm_tests::raw;

use crate::models::*;

async fn create_find_save_delete<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let mut bolt = Part::create(
        pool,
        NewPart {
            part_number: "B-1".into(),
            order: Some(3),
        },
    )
    .await?;
    let nut = Part::create(pool, new_part("N-2")).await?;
    assert_ne!(bolt.id, nut.id);
    assert_eq!(Part::find_by_id(pool, bolt.id).await?, Some(bolt.clone()));
    assert_eq!(Part::find_by_id(pool, 999_999).await?, None);
    bolt.part_number = "B-1a".into();
    bolt.order = None;
    bolt.save(pool).await?;
    assert_eq!(Part::find_by_id(pool, bolt.id).await?, Some(bolt.clone()));
    assert_eq!(
        Part::find(pool, Filter::new()).await?,
        vec![bolt.clone(), nut.clone()]
    );
    let named = Part::find(pool, Filter::new().filter(Part::PART_NUMBER.eq("N-2"))).await?;
    assert_eq!(named, vec![nut.clone()]);
    let engine = Assembly::create(pool, new_assembly("engine")).await?;
    engine.parts().add_many(pool, [bolt.id, nut.id]).await?;
    assert!(Part::delete_by_id(pool, bolt.id).await?);
    assert!(!Part::delete_by_id(pool, bolt.id).await?);
    assert_eq!(
        engine.parts().ids(pool).await?,
        vec![nut.id],
        "its link went with it"
    );
    let error = bolt.save(pool).await.unwrap_err();
    assert!(
        matches!(error, Error::NotFound { model: "Part", .. }),
        "{error}"
    );
    assert!(Assembly::delete_by_id(pool, engine.id).await?);
    assert_eq!(raw::count_rows(pool, "AssemblyPart").await?, 0);
    Ok(())
}

/// Values that look like SQL, quotes and non-ASCII text are stored and matched as they are.
async fn hostile_strings_round_trip<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let values = [
        "Robert'); DROP TABLE \"Part\";--",
        "O'Brien `backtick` \"double\"",
        "ünïcødé ✓ 部品",
        "%_ \\ LIKE wildcards",
        "",
    ];
    let kit = Assembly::create(pool, new_assembly("'; DELETE FROM \"Assembly\"; --")).await?;
    for value in values {
        let part = kit.parts().create(pool, new_part(value)).await?;
        assert_eq!(part.part_number, value);
        let found = kit
            .parts()
            .find(pool, Filter::new().filter(Part::PART_NUMBER.eq(value)))
            .await?;
        assert_eq!(found, vec![part]);
    }
    assert_eq!(kit.parts().count(pool).await?, values.len() as u64);
    assert_eq!(Assembly::find_by_id(pool, kit.id).await?, Some(kit));
    Ok(())
}

/// `order` is a reserved word in every dialect; `desc` and `type` too.
async fn reserved_words_as_columns<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    all_tables(pool).await?;
    let kit = Assembly::create(pool, new_assembly("kit")).await?;
    for (number, order) in [("A", 2), ("B", 1), ("C", 3)] {
        kit.parts()
            .create(
                pool,
                NewPart {
                    part_number: number.into(),
                    order: Some(order),
                },
            )
            .await?;
    }
    let ordered = kit
        .parts()
        .find(pool, Filter::new().order_by(Part::ORDER.desc()))
        .await?;
    let numbers: Vec<&str> = ordered.iter().map(|p| p.part_number.as_str()).collect();
    assert_eq!(numbers, ["C", "A", "B"]);
    let low = kit
        .parts()
        .find(pool, Filter::new().filter(Part::ORDER.lt(Some(3))))
        .await?;
    assert_eq!(low.len(), 2);
    let tag = Tag::create(
        pool,
        NewTag {
            code: "t".into(),
            description: Some("desc".into()),
            r#type: "kind".into(),
        },
    )
    .await?;
    let typed = Tag::find(
        pool,
        Filter::new()
            .filter(Tag::TYPE.eq("kind"))
            .filter(Tag::DESCRIPTION.is_not_null()),
    )
    .await?;
    assert_eq!(typed, vec![tag]);
    Ok(())
}

/// String keys are supplied by the caller, and work on both sides of a relation.
async fn string_keys<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    all_tables(pool).await?;
    let quoted = "it's \"quoted\"".to_owned();
    let tag = Tag::create(
        pool,
        NewTag {
            code: quoted.clone(),
            description: None,
            r#type: "t".into(),
        },
    )
    .await?;
    assert_eq!(tag.code, quoted);
    let error = Tag::create(
        pool,
        NewTag {
            code: quoted.clone(),
            description: None,
            r#type: "t".into(),
        },
    )
    .await;
    assert!(
        matches!(error, Err(Error::Database { .. })),
        "a duplicate key is a database error"
    );
    let bolt = Part::create(pool, new_part("B")).await?;
    let nut = Part::create(pool, new_part("N")).await?;
    tag.tagged_parts().set(pool, [bolt.id, nut.id]).await?;
    assert_eq!(
        Tag::tagged_parts_of(quoted.clone()).ids(pool).await?,
        vec![bolt.id, nut.id]
    );
    let error = Tag::tagged_parts_of("missing".into())
        .add(pool, bolt.id)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::NotFound { model: "Tag", id } if id == "\"missing\""),
        "{error}"
    );
    assert_eq!(
        Tag::find_by_id(pool, quoted).await?.map(|t| t.id().clone()),
        Some(tag.code)
    );
    Ok(())
}

/// The model-level operations: `count`, `find_one`, `exists`, `create_many`, and
/// `delete_where`, which takes the deleted rows' links in every relation with them.
async fn model_level_operations<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    schema(pool).await?;
    let parts = Part::create_many(
        pool,
        vec![
            new_part("p3"),
            new_part("p1"),
            new_part("p2"),
            new_part("x1"),
        ],
    )
    .await?;
    let numbers: Vec<&str> = parts.iter().map(|p| p.part_number.as_str()).collect();
    assert_eq!(numbers, ["p3", "p1", "p2", "x1"], "rows in input order");
    assert!(parts.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(Part::count(pool, Filter::new()).await?, 4);
    let p_rows = || Filter::new().filter(Part::PART_NUMBER.like("p%"));
    assert_eq!(Part::count(pool, p_rows()).await?, 3);
    let first = Part::find_one(pool, p_rows().order_by(Part::PART_NUMBER.asc())).await?;
    assert_eq!(first.map(|p| p.part_number), Some("p1".to_owned()));
    let second = Part::find_one(pool, p_rows().order_by(Part::PART_NUMBER.asc()).skip(1)).await?;
    assert_eq!(second.map(|p| p.part_number), Some("p2".to_owned()));
    let none = Filter::new().filter(Part::PART_NUMBER.eq("zz".to_owned()));
    assert_eq!(Part::find_one(pool, none).await?, None);
    assert!(Part::exists(pool, parts[0].id).await?);
    assert!(!Part::exists(pool, -1).await?);
    assert!(Part::create_many(pool, Vec::new()).await?.is_empty());

    // delete_where: the rows and their links in both directions, nothing else.
    let kit = Assembly::create(pool, new_assembly("kit")).await?;
    kit.parts()
        .add_many(pool, parts.iter().map(|p| p.id))
        .await?;
    parts[3].subparts().add(pool, parts[0].id).await?;
    parts[0].subparts().add(pool, parts[3].id).await?;
    let deleted = Part::delete_where(pool, p_rows()).await?;
    assert_eq!(deleted, 3);
    assert_eq!(Part::count(pool, Filter::new()).await?, 1);
    assert_eq!(kit.parts().ids(pool).await?, vec![parts[3].id]);
    assert!(
        parts[3].subparts().ids(pool).await?.is_empty(),
        "links to deleted rows went too"
    );
    assert_eq!(Part::delete_where(pool, p_rows()).await?, 0);
    assert_eq!(
        Assembly::count(pool, Filter::new()).await?,
        1,
        "owners are kept"
    );
    Ok(())
}

/// A model whose generated structs derive what `#[model(derive(...))]` asks.
#[derive(Debug, Clone, PartialEq, Model)]
#[model(derive(Debug, Clone, PartialEq, serde::Deserialize, Default))]
pub struct Gizmo {
    pub id: i64,
    pub name: String,
    pub size: Option<i32>,
}

/// `NewGizmo` and `PartialGizmo` are `Debug`, `Clone`, `PartialEq` and `Deserialize`: a new
/// row read from JSON, copied, and created.
async fn generated_structs_take_derives<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    habtm::Schema::new()
        .model::<Gizmo>()
        .create_all(pool)
        .await?;
    let new: NewGizmo =
        serde_json::from_str(r#"{"name": "g1", "size": 3}"#).expect("a NewGizmo from JSON");
    let copy = new.clone();
    assert_eq!(copy, new);
    assert_eq!(
        format!("{copy:?}"),
        r#"NewGizmo { name: "g1", size: Some(3) }"#
    );
    let made = Gizmo::create(pool, copy).await?;
    assert_eq!((made.name.as_str(), made.size), ("g1", Some(3)));
    let partial: Vec<PartialGizmo> =
        Gizmo::select(pool, Filter::new().fields([Gizmo::NAME])).await?;
    assert_eq!(partial.clone(), partial);
    assert_eq!(partial[0].name.as_deref(), Some("g1"));
    assert_eq!(NewGizmo::default().name, "");
    Ok(())
}

/// A field renamed for sqlx with `#[sqlx(rename)]`: habtm reads and writes that column.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct Sprocket {
    pub id: i64,
    #[sqlx(rename = "label_text")]
    pub label: String,
}

async fn sqlx_rename_names_the_column<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    habtm::Schema::new()
        .model::<Sprocket>()
        .create_all(pool)
        .await?;
    let made = Sprocket::create(
        pool,
        NewSprocket {
            label: "a".to_owned(),
        },
    )
    .await?;
    let q = raw::q::<DB>;
    raw::execute(
        pool,
        &format!("UPDATE {} SET {} = 'b'", q("Sprocket"), q("label_text")),
    )
    .await?;
    let found = Sprocket::find_by_id(pool, made.id).await?.expect("the row");
    assert_eq!(found.label, "b", "the column is label_text");
    Ok(())
}

/// `Model::stream`: the filter's rows in its order, on a pool, a held connection or a
/// transaction; a stream dropped early leaves the connection usable.
async fn rows_as_a_stream<DB: Backend>(pool: &Pool<DB>) -> Result<()>
where
    for<'c> &'c mut DB::Connection: habtm::sqlx::Executor<'c, Database = DB>,
{
    use futures::TryStreamExt;
    schema(pool).await?;
    let news: Vec<NewPart> = (0..2_000).map(|i| new_part(&format!("s{i:04}"))).collect();
    Part::create_many(pool, news).await?;
    let newest_first = || Filter::new().order_by(Part::PART_NUMBER.desc());
    let all: Vec<Part> = Part::stream(pool, newest_first()).try_collect().await?;
    assert_eq!(all.len(), 2_000);
    assert_eq!(all[0].part_number, "s1999");
    assert_eq!(all, Part::find(pool, newest_first()).await?);

    let mut conn = pool.acquire().await?;
    let some = Filter::new().filter(Part::PART_NUMBER.like("s00%"));
    let mut rows = Part::stream(&mut *conn, some);
    let first = rows.try_next().await?.expect("a row");
    assert_eq!(first.part_number, "s0000");
    drop(rows);
    assert_eq!(
        Part::count(&mut conn, Filter::new()).await?,
        2_000,
        "the connection still works"
    );
    drop(conn);

    let mut tx = pool.begin().await?;
    Part::create(&mut tx, new_part("in-tx")).await?;
    let seen: Vec<Part> = Part::stream(
        &mut *tx,
        Filter::new().filter(Part::PART_NUMBER.eq("in-tx".to_owned())),
    )
    .try_collect()
    .await?;
    assert_eq!(seen.len(), 1, "the transaction's own row");
    tx.rollback().await?;
    Ok(())
}

habtm_tests::on_every_backend!(
    rows_as_a_stream,
    sqlx_rename_names_the_column,
    generated_structs_take_derives,
    model_level_operations,
    create_find_save_delete,
    hostile_strings_round_trip,
    reserved_words_as_columns,
    string_keys,
);

/// `create` on a connection that may insert but not read the table back (a user with INSERT
/// and no SELECT privilege): it fails, and no row is left for a retry to duplicate. MySQL
/// writes and reads back in one transaction; PostgreSQL's `INSERT ... RETURNING` is one
/// statement. SQLite has no privileges.
mod write_only {
    use std::str::FromStr;

    use habtm::sqlx::{self, Connection};
    use habtm_tests::raw;

    use super::*;

    async fn create_is_all_or_nothing<DB: Backend>(
        pool: &Pool<DB>,
        writer: &mut DB::Connection,
    ) -> Result<()>
    where
        for<'c> &'c mut DB::Connection: habtm::Db<Database = DB>,
    {
        let error = Part::create(&mut *writer, new_part("lonely"))
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Database { .. }), "{error}");
        assert_eq!(
            raw::count_rows(pool, "Part").await?,
            0,
            "no row left behind"
        );
        Ok(())
    }

    #[tokio::test]
    async fn mysql() {
        habtm_tests::run::<sqlx::MySql, _, _>("mysql_write_only", |pool| async move {
            schema(&pool).await?;
            let database = raw::texts(&pool, "SELECT DATABASE()", 1)
                .await?
                .remove(0)
                .remove(0);
            let user = format!("w{}", database.len() + std::process::id() as usize);
            raw::execute(&pool, &format!("DROP USER IF EXISTS '{user}'@'%'")).await?;
            raw::execute(
                &pool,
                &format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'writer'"),
            )
            .await?;
            raw::execute(
                &pool,
                &format!("GRANT INSERT ON `{database}`.`Part` TO '{user}'@'%'"),
            )
            .await?;
            let url = std::env::var("HABTM_TEST_MYSQL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
            let options = sqlx::mysql::MySqlConnectOptions::from_str(&url)?
                .username(&user)
                .password("writer")
                .database(&database);
            let mut writer = sqlx::MySqlConnection::connect_with(&options).await?;
            let result = create_is_all_or_nothing(&pool, &mut writer).await;
            raw::execute(&pool, &format!("DROP USER '{user}'@'%'")).await?;
            result
        })
        .await;
    }

    #[tokio::test]
    async fn postgres() {
        habtm_tests::run::<sqlx::Postgres, _, _>("postgres_write_only", |pool| async move {
            schema(&pool).await?;
            let schema_name = raw::texts(&pool, "SELECT current_schema()::text", 1)
                .await?
                .remove(0)
                .remove(0);
            let role = format!("w_{schema_name}");
            raw::execute(&pool, &format!("CREATE ROLE \"{role}\"")).await?;
            for grant in [
                format!("GRANT USAGE ON SCHEMA \"{schema_name}\" TO \"{role}\""),
                format!("GRANT INSERT ON \"{schema_name}\".\"Part\" TO \"{role}\""),
                format!("GRANT USAGE ON ALL SEQUENCES IN SCHEMA \"{schema_name}\" TO \"{role}\""),
            ] {
                raw::execute(&pool, &grant).await?;
            }
            let mut writer = pool.acquire().await?;
            raw_on(&mut writer, &format!("SET ROLE \"{role}\"")).await?;
            let result = create_is_all_or_nothing(&pool, &mut writer).await;
            raw_on(&mut writer, "RESET ROLE").await?;
            drop(writer);
            raw::execute(&pool, &format!("DROP OWNED BY \"{role}\"")).await?;
            raw::execute(&pool, &format!("DROP ROLE \"{role}\"")).await?;
            result
        })
        .await;
    }

    async fn raw_on(conn: &mut sqlx::PgConnection, sql: &str) -> Result<()> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(conn)
            .await?;
        Ok(())
    }
}
