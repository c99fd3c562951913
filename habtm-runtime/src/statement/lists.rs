//! The statements over a list of target ids: bound as one parameter (a PostgreSQL array, a
//! JSON text that SQLite reads with `json_each` and MySQL with `JSON_TABLE`), or as padded
//! places, one per id.

use crate::def::{ListStatements, ModelDef, RelationDef};
use crate::dialect::{Dialect, Lock};
use crate::sql::{Param, SqlWriter, Statement};

use super::postgres::{add_many, set_links};

/// The statements over a list of target ids bound as one parameter: a PostgreSQL array, or
/// a JSON text that SQLite reads with `json_each` and MySQL with `JSON_TABLE`.
pub(super) fn list_statements(rel: &RelationDef, dialect: Dialect) -> ListStatements {
    let list = IdList::one_parameter(dialect);
    let postgres = dialect == Dialect::Postgres;
    ListStatements {
        locks: Lock::ALL.map(|lock| lock_targets(rel, dialect, lock, list)),
        insert: insert_links(rel, dialect, false, list, &[]),
        // MySQL reads the pairs apart instead (see `insert_links`).
        insert_guarded: (dialect != Dialect::MySql)
            .then(|| insert_links(rel, dialect, true, list, &[])),
        delete: delete_links(rel, dialect, list),
        count_targets: (dialect == Dialect::Sqlite).then(|| count_targets(rel, dialect, list)),
        add_many: postgres.then(|| [add_many(rel, true), add_many(rel, false)]),
        set: postgres.then(|| set_links(rel)),
    }
}

/// `$n::int8[]`: the list of target ids as one array parameter, bound here.
pub(super) fn ids_param(s: &mut SqlWriter, target: &ModelDef) {
    s.binds(Param::Ids).param();
    array_cast(s, target);
}

/// `$n::int8[]`: the list of target ids, parameter `n`, once more.
pub(super) fn ids_again(s: &mut SqlWriter, target: &ModelDef, n: usize) {
    s.param_again(n);
    array_cast(s, target);
}

/// `::int8[]`: an array of the target's ids.
fn array_cast(s: &mut SqlWriter, target: &ModelDef) {
    let id_type = (target.id_column().sql_type)(Dialect::Postgres);
    s.push("::").push(&id_type).push("[]");
}

/// How a statement takes a list of target ids: one array parameter (PostgreSQL), one JSON
/// text (SQLite's `json_each`, MySQL's `JSON_TABLE`), or `n` parameters, the ids bound in
/// order and the last repeated in the places beyond them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdList {
    Array,
    Json,
    JsonTable,
    Places(usize),
}

impl IdList {
    /// The form in which a dialect takes a list of ids as one parameter.
    pub(crate) fn one_parameter(dialect: Dialect) -> IdList {
        match dialect {
            Dialect::Postgres => IdList::Array,
            Dialect::Sqlite => IdList::Json,
            Dialect::MySql => IdList::JsonTable,
        }
    }
}

/// MySQL: `JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$')) AS ids`, the ids as a table.
/// The statements read it first, `STRAIGHT_JOIN` the table on `ids.id`, so that the table is
/// only probed by key: a semi-join that the optimizer turned into a scan of the table would
/// lock every row of it, and a single-table `DELETE ... IN (...)` reads the list again for
/// every row.
fn json_table(s: &mut SqlWriter, target: &ModelDef) {
    let id_type = (target.id_column().sql_type)(Dialect::MySql);
    s.push("JSON_TABLE(")
        .param_of(Param::Ids)
        .push(", '$[*]' COLUMNS (id ")
        .push(&id_type)
        .push(" PATH '$')) AS ids");
}

/// ` IN (<the ids>)`.
pub(super) fn ids_in(s: &mut SqlWriter, target: &ModelDef, ids: IdList) {
    match ids {
        IdList::Array => {
            s.push(" IN (SELECT unnest(");
            ids_param(s, target);
            s.push("))");
        }
        IdList::Json => {
            s.push(" IN (SELECT value FROM json_each(")
                .param_of(Param::Ids)
                .push("))");
        }
        IdList::JsonTable => {
            s.push(" IN (SELECT ids.id FROM ");
            json_table(s, target);
            s.push(")");
        }
        IdList::Places(n) => {
            s.push(" IN (");
            for i in 0..n {
                if i > 0 {
                    s.push(", ");
                }
                s.param_of(Param::IdAt(i));
            }
            s.push(")");
        }
    }
}

/// `SELECT COUNT(*) FROM "Part" WHERE "id" IN (<the ids>)`: whether they all exist, where
/// nothing needs locking (SQLite's writers hold the database).
fn count_targets(rel: &RelationDef, dialect: Dialect, ids: IdList) -> Statement {
    let target = (rel.target)();
    let target_id = target.id_column().name;
    let mut s = SqlWriter::new(dialect);
    s.push("SELECT COUNT(*) FROM ")
        .ident(target.table)
        .push(" WHERE ")
        .ident(target_id);
    ids_in(&mut s, target, ids);
    s.statement()
}

/// `SELECT "id" FROM "Part" WHERE "id" IN (<the ids>) ORDER BY "id"` taking `lock`.
pub(crate) fn lock_targets(
    rel: &RelationDef,
    dialect: Dialect,
    lock: Lock,
    ids: IdList,
) -> Statement {
    let target = (rel.target)();
    let target_id = target.id_column().name;
    let mut s = SqlWriter::new(dialect);
    s.push("SELECT ").qualified("t", target_id).push(" FROM ");
    targets_among(&mut s, target, ids);
    s.push(" ORDER BY ")
        .qualified("t", target_id)
        .push(dialect.lock_clause(lock));
    s.statement()
}

/// `"Part" AS t WHERE t."id" IN (<the ids>)`; on MySQL, `JSON_TABLE(...) AS ids
/// STRAIGHT_JOIN "Part" AS t ON t."id" = ids.id`.
fn targets_among(s: &mut SqlWriter, target: &ModelDef, ids: IdList) {
    let target_id = target.id_column().name;
    if ids == IdList::JsonTable {
        json_table(s, target);
        s.push(" STRAIGHT_JOIN ")
            .ident(target.table)
            .push(" AS t ON ")
            .qualified("t", target_id)
            .push(" = ids.id");
        return;
    }
    s.ident(target.table)
        .push(" AS t WHERE ")
        .qualified("t", target_id);
    ids_in(s, target, ids);
}

/// Links the owner to the targets with these ids that exist, in ascending id order so that
/// concurrent inserts take their locks in one order, skipping existing pairs: `ON CONFLICT DO
/// NOTHING` (MySQL's `INSERT IGNORE`), and `NOT EXISTS` where the table has no unique key
/// (`guarded`; MySQL reads the pairs apart instead). MySQL's form with the ids as one JSON
/// text inserts them all, for rows the transaction has locked. Every new link gets the same
/// values of the join model's columns `data`, bound once, first.
pub(crate) fn insert_links(
    rel: &RelationDef,
    dialect: Dialect,
    guarded: bool,
    ids: IdList,
    data: &[&str],
) -> Statement {
    debug_assert!(
        !(guarded && ids == IdList::JsonTable),
        "MySQL reads the linked pairs apart"
    );
    let target = (rel.target)();
    let target_id = target.id_column().name;
    let mut s = SqlWriter::new(dialect);
    s.push(if dialect == Dialect::MySql {
        "INSERT IGNORE INTO "
    } else {
        "INSERT INTO "
    });
    s.ident(rel.table()).push(" (");
    s.idents(
        None,
        data.iter().copied().chain([rel.owner_key, rel.target_key]),
    )
    .push(") SELECT ");
    if !data.is_empty() {
        s.binds(Param::Columns);
    }
    for _ in data {
        s.param().push(", ");
    }
    s.param_of(Param::Owner);
    let owner_at = s.placeholders();
    if ids == IdList::JsonTable {
        // MySQL inserts only rows this transaction has locked already: the ids alone, which
        // spares the statement a probe and a lock per row (it takes a third less time).
        s.push(", ids.id FROM ");
        json_table(&mut s, target);
        s.push(" ORDER BY ids.id");
        return s.statement();
    }
    s.push(", ").qualified("t", target_id).push(" FROM ");
    targets_among(&mut s, target, ids);
    if guarded {
        s.push(" AND NOT EXISTS (SELECT 1 FROM ")
            .ident(rel.table())
            .push(" AS l WHERE ")
            .qualified("l", rel.owner_key)
            .push(" = ");
        if dialect == Dialect::Postgres {
            s.param_again(owner_at);
        } else {
            s.param_of(Param::Owner);
        }
        s.push(" AND ")
            .qualified("l", rel.target_key)
            .push(" = ")
            .qualified("t", target_id)
            .push(")");
    }
    s.push(" ORDER BY ").qualified("t", target_id);
    if dialect != Dialect::MySql && !guarded {
        // Guarded, the pairs are skipped by hand, and any unique key is another's: its
        // violation is the caller's error.
        s.push(" ON CONFLICT DO NOTHING");
    }
    s.statement()
}

/// ` WHERE "assembly_id" = ? AND "part_id" IN (<the ids>)`: the owner's links among them.
fn links_among(s: &mut SqlWriter, rel: &RelationDef, ids: IdList) {
    s.push(" WHERE ")
        .eq_param_of(rel.owner_key, Param::Owner)
        .push(" AND ")
        .ident(rel.target_key);
    ids_in(s, (rel.target)(), ids);
}

/// `DELETE FROM "AssemblyPart" WHERE "assembly_id" = ? AND "part_id" IN (<the ids>)`; on
/// MySQL, `DELETE l FROM JSON_TABLE(...) AS ids STRAIGHT_JOIN "AssemblyPart" AS l ON
/// l."assembly_id" = ? AND l."part_id" = ids.id`.
pub(crate) fn delete_links(rel: &RelationDef, dialect: Dialect, ids: IdList) -> Statement {
    let mut s = SqlWriter::new(dialect);
    if ids == IdList::JsonTable {
        s.push("DELETE l FROM ");
        json_table(&mut s, (rel.target)());
        s.push(" STRAIGHT_JOIN ")
            .ident(rel.table())
            .push(" AS l ON ")
            .qualified("l", rel.owner_key)
            .push(" = ")
            .param_of(Param::Owner)
            .push(" AND ")
            .qualified("l", rel.target_key)
            .push(" = ids.id");
        return s.statement();
    }
    s.push("DELETE FROM ").ident(rel.table());
    links_among(&mut s, rel, ids);
    s.statement()
}

/// `SELECT "part_id" FROM "AssemblyPart" WHERE "assembly_id" = ? AND "part_id" IN (<the
/// ids>)`: which of them are linked.
pub(crate) fn linked_among(rel: &RelationDef, dialect: Dialect, ids: IdList) -> Statement {
    let mut s = SqlWriter::new(dialect);
    s.push("SELECT ")
        .ident(rel.target_key)
        .push(" FROM ")
        .ident(rel.table());
    links_among(&mut s, rel, ids);
    s.statement()
}
