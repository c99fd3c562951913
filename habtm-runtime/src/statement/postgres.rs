//! PostgreSQL's writes in one statement: data-modifying CTEs that lock rows in the order
//! every write takes them, write only if every row exists, and answer what is missing.

use crate::def::{ModelDef, RelationDef};
use crate::dialect::{Dialect, Lock};
use crate::sql::{Param, SqlWriter, Statement};

use super::lists::{IdList, ids_again, ids_in, ids_param};
use super::unlink_keys;

/// For PostgreSQL, the deletes of a locked row of `def` and its links in one statement:
///
/// ```sql
/// WITH u0 AS (DELETE FROM "AssemblyPart" WHERE "part_id" = $1), ...,
///   d AS (DELETE FROM "Part" WHERE "id" = $1 RETURNING 1)
/// SELECT COUNT(*) FROM d
/// ```
///
/// With `link`, `destroy`'s: the link of `link`'s owner (`$1`) to the row (`$2`) deleted
/// first, `l AS (DELETE FROM "AssemblyPart" WHERE "assembly_id" = $1 AND "part_id" = $2
/// RETURNING 1)`, and the rest only if there was one, also unlinking the row in `link`
/// (whose target model may not declare it). Foreign keys are checked when the statement
/// ends, after every delete.
pub(super) fn delete_with_links(def: &ModelDef, link: Option<&RelationDef>) -> Statement {
    let id = def.id_column().name;
    let mut s = SqlWriter::new(Dialect::Postgres);
    let mut keys = unlink_keys(def);
    // The row's id: `$2` after the link's owner, or `$1`, bound at its first use.
    let (row, guard) = match link {
        Some(rel) => {
            s.push("WITH l AS (DELETE FROM ")
                .ident(rel.table())
                .push(" WHERE ")
                .eq_param_of(rel.owner_key, Param::Owner);
            s.push(" AND ")
                .eq_param_of(rel.target_key, Param::Target)
                .push(" RETURNING 1");
            if !keys.contains(&(rel.table(), rel.target_key)) {
                keys.insert(0, (rel.table(), rel.target_key));
            }
            (2, " AND EXISTS (SELECT 1 FROM l)")
        }
        None => (1, ""),
    };
    let deletes = keys
        .iter()
        .enumerate()
        .map(|(i, &(table, column))| (format!("u{i}"), table, column))
        .chain([("d".to_owned(), def.table, id)]);
    for (name, table, column) in deletes {
        let first = s.placeholders() == 0;
        s.push(if first { "WITH " } else { "), " });
        s.push(&name)
            .push(" AS (DELETE FROM ")
            .ident(table)
            .push(" WHERE ");
        s.ident(column).push(" = ");
        if first {
            s.param_of(Param::Id);
        } else {
            s.param_again(row);
        }
        s.push(guard);
    }
    s.push(" RETURNING 1) SELECT COUNT(*) FROM d");
    s.statement()
}

/// `WITH o AS (SELECT "id" FROM "Assembly" WHERE "id" = $1 FOR KEY SHARE)`: the owner, kept
/// from being deleted until the statement ends.
fn owner_locked(s: &mut SqlWriter, rel: &RelationDef) {
    let owner = (rel.owner)();
    let owner_id = owner.id_column().name;
    s.push("WITH o AS (SELECT ")
        .ident(owner_id)
        .push(" FROM ")
        .ident(owner.table);
    s.push(" WHERE ")
        .eq_param_of(owner_id, Param::Owner)
        .push(Dialect::Postgres.lock_clause(Lock::KeyShare))
        .push(")");
}

/// `l AS (INSERT INTO "AssemblyPart" (...) SELECT $1, t."id" FROM t WHERE <ok> ORDER BY
/// t."id" ON CONFLICT DO NOTHING RETURNING 1)`: links to the rows of `t`, in ascending id,
/// when `ok` holds.
fn insert_from_t(s: &mut SqlWriter, rel: &RelationDef, ok: &str) {
    let target_id = (rel.target)().id_column().name;
    s.push(", l AS (INSERT INTO ").ident(rel.table()).push(" (");
    s.idents(None, [rel.owner_key, rel.target_key])
        .push(") SELECT ")
        .param_again(1);
    s.push(", t.")
        .ident(target_id)
        .push(" FROM t WHERE ")
        .push(ok)
        .push(" ORDER BY t.");
    s.ident(target_id)
        .push(" ON CONFLICT DO NOTHING RETURNING 1)");
}

/// The first of the listed ids (`$2`), in the caller's order, that the query `among`
/// answers and `t` lacks: `(SELECT w.id FROM unnest($2::int8[]) WITH ORDINALITY AS w(id, n) WHERE ... ORDER
/// BY w.n LIMIT 1)`.
fn first_missing(s: &mut SqlWriter, rel: &RelationDef, among: Option<&str>) {
    let target = (rel.target)();
    s.push("(SELECT w.id FROM unnest(");
    ids_again(s, target, 2);
    s.push(") WITH ORDINALITY AS w(id, n) WHERE ");
    if let Some(among) = among {
        s.push("w.id IN (").push(among).push(") AND ");
    }
    s.push("w.id NOT IN (SELECT ")
        .ident(target.id_column().name)
        .push(" FROM t) ORDER BY w.n LIMIT 1)");
}

/// `add_many` in one statement, for PostgreSQL and a join table with a unique key:
///
/// ```sql
/// WITH o AS (SELECT "id" FROM "Assembly" WHERE "id" = $1 FOR KEY SHARE),
///   t AS (SELECT "id" FROM "Part" WHERE "id" IN (SELECT unnest($2::int8[]))
///         AND EXISTS (SELECT 1 FROM o) ORDER BY "id" FOR KEY SHARE),
///   l AS (INSERT INTO "AssemblyPart" (...) SELECT $1, t."id" FROM t
///         WHERE (SELECT COUNT(*) FROM t) = cardinality($2::int8[]) ORDER BY t."id"
///         ON CONFLICT DO NOTHING RETURNING 1)
/// SELECT EXISTS (SELECT 1 FROM o), (SELECT COUNT(*) FROM l), CASE WHEN <some row missing>
///   THEN <the first id missing> END
/// ```
///
/// The owner is locked before the rows (each CTE runs when the next one first reads it), the
/// rows in ascending id, as every write takes them; nothing is inserted unless every row
/// exists. The ids must be distinct.
///
/// Without `lock_targets`, for a join table whose foreign key checks each target: `t` only
/// reads the rows, and the key's check locks each one as its link is inserted, in the same
/// ascending order; a row deleted in between fails the statement with a foreign-key
/// violation, and the caller runs it again.
pub(super) fn add_many(rel: &RelationDef, lock_targets: bool) -> Statement {
    let target = (rel.target)();
    let target_id = target.id_column().name;
    let mut s = SqlWriter::new(Dialect::Postgres);
    owner_locked(&mut s, rel);
    s.push(", t AS (SELECT ")
        .ident(target_id)
        .push(" FROM ")
        .ident(target.table)
        .push(" WHERE ")
        .ident(target_id);
    ids_in(&mut s, target, IdList::Array);
    s.push(" AND EXISTS (SELECT 1 FROM o)");
    if lock_targets {
        s.push(" ORDER BY ")
            .ident(target_id)
            .push(Dialect::Postgres.lock_clause(Lock::KeyShare));
    }
    s.push(")");
    let id_type = (target.id_column().sql_type)(Dialect::Postgres);
    let all_found = format!("(SELECT COUNT(*) FROM t) = cardinality($2::{id_type}[])");
    insert_from_t(&mut s, rel, &all_found);
    s.push(" SELECT EXISTS (SELECT 1 FROM o), (SELECT COUNT(*) FROM l), CASE WHEN NOT ")
        .push(&all_found)
        .push(" THEN ");
    first_missing(&mut s, rel, None);
    s.push(" END");
    s.statement()
}

/// `set`'s writes in one statement, for PostgreSQL and a join table with a unique key, run
/// once the owner is locked (so that the statement reads the links as they stand after
/// every earlier `set` of it):
///
/// ```sql
/// WITH c AS (SELECT "part_id" AS id FROM "AssemblyPart" WHERE "assembly_id" = $1),
///   x AS (SELECT c.id AS cur, w.id AS want FROM c FULL JOIN unnest($2::int8[]) AS w(id)
///         ON c.id = w.id WHERE c.id IS NULL OR w.id IS NULL),
///   t AS (SELECT "id" FROM "Part" WHERE "id" IN (SELECT want FROM x) ORDER BY "id"
///         FOR KEY SHARE),
///   ok AS (SELECT (SELECT COUNT(*) FROM t) = (SELECT COUNT(want) FROM x) AS ok),
///   d AS (DELETE FROM "AssemblyPart" WHERE "assembly_id" = $1
///         AND "part_id" IN (SELECT cur FROM x) AND (SELECT ok FROM ok)),
///   l AS (<the links to t, when ok>)
/// SELECT CASE WHEN NOT (SELECT ok FROM ok) THEN <the first id missing> END
/// ```
///
/// `x` is the difference, from one pass over the links and the list: the links to remove
/// (`cur`) and the ids to link (`want`). Only the rows to link are locked and checked.
pub(super) fn set_links(rel: &RelationDef) -> Statement {
    let target = (rel.target)();
    let target_id = target.id_column().name;
    let mut s = SqlWriter::new(Dialect::Postgres);
    s.push("WITH c AS (SELECT ")
        .ident(rel.target_key)
        .push(" AS id FROM ")
        .ident(rel.table());
    s.push(" WHERE ")
        .eq_param_of(rel.owner_key, Param::Owner)
        .push("), x AS (SELECT c.id AS cur, w.id AS want FROM c FULL JOIN unnest(");
    ids_param(&mut s, target);
    s.push(") AS w(id) ON c.id = w.id WHERE c.id IS NULL OR w.id IS NULL), t AS (SELECT ")
        .ident(target_id)
        .push(" FROM ")
        .ident(target.table);
    s.push(" WHERE ")
        .ident(target_id)
        .push(" IN (SELECT want FROM x) ORDER BY ")
        .ident(target_id)
        .push(Dialect::Postgres.lock_clause(Lock::KeyShare));
    s.push("), ok AS (SELECT (SELECT COUNT(*) FROM t) = (SELECT COUNT(want) FROM x) AS ok)");
    s.push(", d AS (DELETE FROM ")
        .ident(rel.table())
        .push(" WHERE ")
        .ident(rel.owner_key)
        .push(" = ")
        .param_again(1);
    s.push(" AND ")
        .ident(rel.target_key)
        .push(" IN (SELECT cur FROM x) AND (SELECT ok FROM ok))");
    insert_from_t(&mut s, rel, "(SELECT ok FROM ok)");
    s.push(" SELECT CASE WHEN NOT (SELECT ok FROM ok) THEN ");
    first_missing(&mut s, rel, Some("SELECT want FROM x"));
    s.push(" END");
    s.statement()
}

/// `create` in one statement, for PostgreSQL:
///
/// ```sql
/// WITH o AS (SELECT "id" FROM "Assembly" WHERE "id" = $1 FOR KEY SHARE),
///   r AS (INSERT INTO "Part" ("part_number") SELECT $2 FROM o RETURNING "id", "part_number"),
///   l AS (INSERT INTO "AssemblyPart" ("assembly_id", "part_id") SELECT o."id", r."id" FROM o, r)
/// SELECT r."id", r."part_number" FROM r
/// ```
///
/// No row when the owner does not exist, and then nothing is written. `None` for a model
/// with no column to insert.
pub(super) fn create_linked(rel: &RelationDef) -> Option<Statement> {
    let target = (rel.target)();
    let n = target.insert_columns().count();
    if n == 0 {
        return None;
    }
    let all = || target.columns.iter().map(|c| c.name);
    let mut s = SqlWriter::new(Dialect::Postgres);
    owner_locked(&mut s, rel);
    s.push(", r AS (INSERT INTO ")
        .ident(target.table)
        .push(" (");
    s.idents(None, target.insert_columns().map(|c| c.name))
        .push(") SELECT ");
    if !target.id_generated {
        s.binds(Param::Id);
    }
    s.binds(Param::Columns);
    for i in 0..n {
        if i > 0 {
            s.push(", ");
        }
        s.param();
    }
    s.push(" FROM o RETURNING ").idents(None, all());
    s.push("), l AS (INSERT INTO ")
        .ident(rel.table())
        .push(" (");
    s.idents(None, [rel.owner_key, rel.target_key])
        .push(") SELECT o.")
        .ident((rel.owner)().id_column().name);
    s.push(", r.")
        .ident(target.id_column().name)
        .push(" FROM o, r) SELECT ")
        .idents(Some("r"), all())
        .push(" FROM r");
    Some(s.statement())
}
