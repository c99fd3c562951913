//! DDL: idempotent creation, and the constraints each backend's catalog reports.

use habtm::sqlx::Pool;
use habtm::{Backend, Dialect, Result, Schema};
use habtm_tests::raw;

use crate::models::*;

async fn create_all_is_idempotent<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    all_tables(pool).await?;
    all_tables(pool).await?;
    let script = Schema::new()
        .model::<Assembly>()
        .model::<Part>()
        .sql::<DB>();
    assert_eq!(script.matches("CREATE TABLE").count(), 4, "{script}");
    assert!(script.contains("ON DELETE CASCADE"), "{script}");
    Ok(())
}

/// (primary key columns, foreign keys as "column -> table on delete RULE", indexed columns)
pub async fn catalog<DB: Backend>(
    pool: &Pool<DB>,
    table: &str,
) -> Result<(Vec<String>, Vec<String>, Vec<String>)> {
    let flat = |rows: Vec<Vec<String>>| rows.into_iter().map(|r| r.join(" ")).collect::<Vec<_>>();
    Ok(match DB::DIALECT {
        Dialect::Sqlite => (
            flat(raw::texts(pool, &format!("SELECT name FROM pragma_table_info('{table}') WHERE pk > 0 ORDER BY pk"), 1).await?),
            flat(
                raw::texts(
                    pool,
                    &format!(
                        "SELECT \"from\" || ' -> ' || \"table\" || ' on delete ' || on_delete \
                         FROM pragma_foreign_key_list('{table}') ORDER BY \"from\""
                    ),
                    1,
                )
                .await?,
            ),
            flat(
                raw::texts(
                    pool,
                    &format!(
                        "SELECT ii.name FROM pragma_index_list('{table}') AS il, pragma_index_info(il.name) AS ii \
                         WHERE il.origin IN ('c', 'u')"
                    ),
                    1,
                )
                .await?,
            ),
        ),
        Dialect::Postgres => (
            flat(
                raw::texts(
                    pool,
                    &format!(
                        "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid \
                         AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '\"{table}\"'::regclass AND i.indisprimary \
                         ORDER BY array_position(i.indkey, a.attnum)"
                    ),
                    1,
                )
                .await?,
            ),
            flat(
                raw::texts(
                    pool,
                    &format!(
                        "SELECT a.attname::text || ' -> ' || (SELECT relname::text FROM pg_class WHERE oid = c.confrelid) || ' on delete ' || \
                         CASE c.confdeltype WHEN 'c' THEN 'CASCADE' ELSE c.confdeltype::text END \
                         FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
                         WHERE c.conrelid = '\"{table}\"'::regclass AND c.contype = 'f' ORDER BY 1"
                    ),
                    1,
                )
                .await?,
            ),
            flat(
                raw::texts(
                    pool,
                    &format!(
                        "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid \
                         AND a.attnum = i.indkey[0] WHERE i.indrelid = '\"{table}\"'::regclass AND NOT i.indisprimary"
                    ),
                    1,
                )
                .await?,
            ),
        ),
        Dialect::MySql => (
            flat(
                raw::texts(
                    pool,
                    &format!(
                        "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.KEY_COLUMN_USAGE \
                         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}' AND CONSTRAINT_NAME = 'PRIMARY' \
                         ORDER BY ORDINAL_POSITION"
                    ),
                    1,
                )
                .await?,
            ),
            flat(
                raw::texts(
                    pool,
                    &format!(
                        "SELECT CAST(CONCAT(k.COLUMN_NAME, ' -> ', k.REFERENCED_TABLE_NAME, ' on delete ', r.DELETE_RULE) AS CHAR) \
                         FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
                         ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
                         WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = '{table}' ORDER BY 1"
                    ),
                    1,
                )
                .await?,
            ),
            flat(
                raw::texts(
                    pool,
                    &format!(
                        "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.STATISTICS \
                         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}' AND INDEX_NAME <> 'PRIMARY' \
                         AND SEQ_IN_INDEX = 1"
                    ),
                    1,
                )
                .await?,
            ),
        ),
    })
}

async fn join_tables_have_their_constraints<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    all_tables(pool).await?;
    let (pk, fks, indexed) = catalog(pool, "AssemblyPart").await?;
    assert_eq!(pk, ["assembly_id", "part_id"]);
    assert_eq!(
        fks,
        [
            "assembly_id -> Assembly on delete CASCADE",
            "part_id -> Part on delete CASCADE"
        ]
    );
    assert!(
        indexed.contains(&"part_id".to_owned()),
        "reverse index: {indexed:?}"
    );
    let (pk, fks, _) = catalog(pool, "widget_gadget_links").await?;
    assert_eq!(pk, ["widget_ref", "gadget_ref"]);
    assert_eq!(
        fks,
        [
            "gadget_ref -> Gadget on delete CASCADE",
            "widget_ref -> Widget on delete CASCADE"
        ]
    );
    let (pk, fks, _) = catalog(pool, "PartSubparts").await?;
    assert_eq!(pk, ["part_id", "subpart_id"]);
    assert_eq!(
        fks,
        [
            "part_id -> Part on delete CASCADE",
            "subpart_id -> Part on delete CASCADE"
        ]
    );
    let (pk, _, _) = catalog(pool, "tags").await?;
    assert_eq!(pk, ["code"]);
    Ok(())
}

habtm_tests::on_every_backend!(create_all_is_idempotent, join_tables_have_their_constraints);
