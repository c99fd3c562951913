//! Building the fixed statements of models and relations, once per dialect.

use crate::def::{
    ColumnDef, ListStatements, ModelDef, ModelStatements, Reads, RelationDef, RelationStatements,
    Shape, ThroughStatements,
};
use crate::dialect::{Dialect, Lock};
use crate::sql::{Param, SqlWriter, Statement};

/// The fixed statements of model `def` on `dialect`, built on first use.
pub(crate) fn model(def: &ModelDef, dialect: Dialect) -> &ModelStatements {
    def.statements.get(dialect, || build_model(def, dialect))
}

/// The fixed statements of relation `rel` on `dialect`, built on first use.
pub(crate) fn relation(rel: &RelationDef, dialect: Dialect) -> &RelationStatements {
    rel.statements.get(dialect, || build_relation(rel, dialect))
}

fn build_model(def: &ModelDef, dialect: Dialect) -> ModelStatements {
    let id = def.id_column().name;
    let all = || def.columns.iter().map(|c| c.name);

    let mut w = SqlWriter::new(dialect);
    w.idents(Some("t"), all());
    let select_list = w.finish();

    let mut w = SqlWriter::new(dialect);
    w.push("SELECT ")
        .push(&select_list)
        .push(" FROM ")
        .ident(def.table)
        .push(" AS t");
    let select = w.finish();

    let mut w = SqlWriter::new(dialect);
    w.push("SELECT COUNT(*) FROM ")
        .ident(def.table)
        .push(" AS t");
    let count = w.finish();

    let mut w = SqlWriter::new(dialect);
    w.push(&select)
        .push(" WHERE ")
        .qualified("t", id)
        .push(" = ");
    w.param_of(Param::Id);
    let find_by_id = w.statement();

    let returning = |w: &mut SqlWriter| {
        if dialect.has_returning() {
            w.push(" RETURNING ").idents(None, all());
        }
    };

    let mut w = SqlWriter::new(dialect);
    let n = def.insert_columns().count();
    w.push("INSERT INTO ").ident(def.table).push(" (");
    w.idents(None, def.insert_columns().map(|c| c.name));
    w.push(") VALUES ");
    if !def.id_generated {
        w.binds(Param::Id);
    }
    w.binds(Param::Columns).param_list(n);
    returning(&mut w);
    let insert = w.statement();

    let update = |returns: bool| {
        let mut w = SqlWriter::new(dialect);
        w.push("UPDATE ").ident(def.table).push(" SET ");
        w.binds(Param::Columns);
        for (i, column) in def.value_columns().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.eq_param(column.name);
        }
        w.push(" WHERE ").eq_param_of(id, Param::Id);
        if returns {
            returning(&mut w);
        }
        w.statement()
    };

    let mut w = SqlWriter::new(dialect);
    w.push("DELETE FROM ")
        .ident(def.table)
        .push(" WHERE ")
        .eq_param_of(id, Param::Id);
    let delete = w.statement();

    let exists = |lock: Option<Lock>| {
        let mut w = SqlWriter::new(dialect);
        w.push("SELECT 1 FROM ")
            .ident(def.table)
            .push(" WHERE ")
            .eq_param_of(id, Param::Id);
        if let Some(lock) = lock {
            w.push(dialect.lock_clause(lock));
        }
        w.statement()
    };

    let keys = unlink_keys(def);
    let unlink = keys
        .iter()
        .map(|(table, key)| {
            let mut w = SqlWriter::new(dialect);
            w.push("DELETE FROM ")
                .ident(table)
                .push(" WHERE ")
                .eq_param_of(key, Param::Id);
            w.statement()
        })
        .collect();

    ModelStatements {
        select_list,
        select,
        count,
        find_by_id,
        insert,
        update: update(false),
        update_returning: update(true),
        delete,
        exists: exists(None),
        locks: Lock::ALL.map(|lock| exists(Some(lock))),
        unlink,
        delete_with_links: (dialect == Dialect::Postgres).then(|| delete_with_links(def, None)),
    }
}

/// The join-table columns that hold `def`'s ids in the relations it declares, as (table,
/// column), each once.
fn unlink_keys(def: &ModelDef) -> Vec<(&'static str, &'static str)> {
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for relation in def.relations.iter().map(|r| r()) {
        let mut add = |key| {
            if !keys.contains(&(relation.table(), key)) {
                keys.push((relation.table(), key));
            }
        };
        add(relation.owner_key);
        if std::ptr::eq((relation.target)(), def) {
            add(relation.target_key);
        }
    }
    keys
}

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
fn delete_with_links(def: &ModelDef, link: Option<&RelationDef>) -> Statement {
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

fn build_relation(rel: &RelationDef, dialect: Dialect) -> RelationStatements {
    let owner = (rel.owner)();
    let target = (rel.target)();
    let join_table = rel.table();
    let owner_id = owner.id_column().name;
    let target_id = target.id_column().name;
    let w = || SqlWriter::new(dialect);

    let mut s = w();
    s.push("SELECT (SELECT COUNT(*) FROM ")
        .ident(owner.table)
        .push(" WHERE ")
        .eq_param_of(owner_id, Param::Owner);
    s.push("), (SELECT COUNT(*) FROM ")
        .ident(target.table)
        .push(" WHERE ")
        .eq_param_of(target_id, Param::Target)
        .push(")");
    let parents = s.statement();

    let mut s = w();
    s.push("INSERT INTO ").ident(join_table).push(" (");
    s.idents(None, [rel.owner_key, rel.target_key])
        .push(") SELECT ")
        .qualified("o", owner_id);
    s.push(", ")
        .param_of(Param::Target)
        .push(" FROM ")
        .ident(owner.table)
        .push(" AS o WHERE ");
    s.qualified("o", owner_id)
        .push(" = ")
        .param_of(Param::Owner);
    if dialect == Dialect::Postgres {
        s.push(dialect.lock_clause(Lock::KeyShare));
    }
    let link_new = s.statement();

    let pair = |s: &mut SqlWriter| {
        s.eq_param_of(rel.owner_key, Param::Owner)
            .push(" AND ")
            .eq_param_of(rel.target_key, Param::Target);
    };

    let mut s = w();
    s.push("DELETE FROM ").ident(join_table).push(" WHERE ");
    pair(&mut s);
    let remove = s.statement();

    let mut s = w();
    s.push("SELECT 1 FROM ").ident(join_table).push(" WHERE ");
    pair(&mut s);
    let exists = s.statement();

    let mut s = w();
    s.push("DELETE FROM ")
        .ident(join_table)
        .push(" WHERE ")
        .eq_param_of(rel.owner_key, Param::Owner);
    let clear = s.statement();

    let mut s = w();
    s.push("SELECT ")
        .ident(rel.target_key)
        .push(" FROM ")
        .ident(join_table);
    s.push(" WHERE ")
        .eq_param_of(rel.owner_key, Param::Owner)
        .push(" ORDER BY ")
        .ident(rel.target_key);
    let ids = s.statement();

    let mut s = w();
    s.push("DELETE FROM ")
        .ident(join_table)
        .push(" WHERE ")
        .eq_param_of(rel.target_key, Param::Target);
    let unlink_target = s.statement();

    let mut s = w();
    s.push("UPDATE ").ident(target.table).push(" SET ");
    s.binds(Param::Columns);
    for (i, column) in target.value_columns().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.eq_param(column.name);
    }
    s.push(" WHERE ")
        .eq_param_of(target_id, Param::Target)
        .push(" AND EXISTS (SELECT 1 FROM ");
    s.ident(join_table)
        .push(" AS j WHERE ")
        .qualified("j", rel.owner_key)
        .push(" = ");
    s.param_of(Param::Owner)
        .push(" AND ")
        .qualified("j", rel.target_key)
        .push(" = ")
        .param_of(Param::Target)
        .push(")");
    if dialect.has_returning() {
        s.push(" RETURNING ")
            .idents(None, target.columns.iter().map(|c| c.name));
    }
    let update_linked = s.statement();

    let through = rel.through.map(|through| {
        let join = through();
        let data = data_columns(rel, join);
        let names: Vec<&str> = data.iter().map(|&i| join.columns[i].name).collect();
        let update_link = (!data.is_empty()).then(|| {
            let mut s = w();
            s.push("UPDATE ").ident(join_table).push(" SET ");
            s.binds(Param::Columns);
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    s.push(", ");
                }
                s.eq_param(name);
            }
            s.push(" WHERE ");
            pair(&mut s);
            s.statement()
        });
        let mut s = w();
        s.push("SELECT ")
            .idents(Some("t"), target.columns.iter().map(|c| c.name))
            .push(", ")
            .idents(Some("j"), join.columns.iter().map(|c| c.name));
        s.push(" FROM ")
            .ident(join_table)
            .push(" AS j INNER JOIN ")
            .ident(target.table);
        s.push(" AS t ON ")
            .qualified("t", target_id)
            .push(" = ")
            .qualified("j", rel.target_key);
        s.push(" WHERE ")
            .qualified("j", rel.owner_key)
            .push(" = ")
            .param_of(Param::Owner);
        ThroughStatements {
            with_links: s.finish(),
            add: link_insert(rel, dialect, &names, false),
            add_guarded: link_insert(rel, dialect, &names, true),
            update_link,
            data,
        }
    });

    RelationStatements {
        semi_join: reads(rel, dialect, false),
        join: reads(rel, dialect, true),
        add: link_insert(rel, dialect, &[], false),
        add_guarded: link_insert(rel, dialect, &[], true),
        parents,
        link_new,
        create: (dialect == Dialect::Postgres)
            .then(|| create_linked(rel))
            .flatten(),
        destroy: (dialect == Dialect::Postgres).then(|| delete_with_links(target, Some(rel))),
        remove,
        exists,
        clear,
        ids,
        unlink_target,
        update_linked,
        through,
        lists: (dialect != Dialect::MySql).then(|| list_statements(rel, dialect)),
        shape: Shape::default(),
    }
}

/// The reads of one owner's linked rows: through a semi-join (`joined` false), or a join from
/// the join table, for one that holds each pair once.
fn reads(rel: &RelationDef, dialect: Dialect, joined: bool) -> Reads {
    let target = (rel.target)();
    let target_id = target.id_column().name;
    let mut s = SqlWriter::new(dialect);
    if joined {
        s.push(" FROM ")
            .ident(rel.table())
            .push(" AS j INNER JOIN ")
            .ident(target.table);
        s.push(" AS t ON ")
            .qualified("t", target_id)
            .push(" = ")
            .qualified("j", rel.target_key);
        s.push(" WHERE ").qualified("j", rel.owner_key).push(" = ");
    } else {
        s.push(" FROM ").ident(target.table).push(" AS t WHERE ");
        s.qualified("t", target_id)
            .push(" IN (SELECT ")
            .qualified("j", rel.target_key);
        s.push(" FROM ")
            .ident(rel.table())
            .push(" AS j WHERE ")
            .qualified("j", rel.owner_key)
            .push(" = ");
    }
    s.param_of(Param::Owner);
    if !joined {
        s.push(")");
    }
    let from_linked = s.sql.clone();
    let id_order = if joined {
        ("j", rel.target_key)
    } else {
        ("t", target_id)
    };
    // The owner's id is the one parameter of `from_linked`.
    let linked = |head: &str| SqlWriter::continuing_with(dialect, head, &[Param::Owner]);
    let select = format!("SELECT {}{from_linked}", model(target, dialect).select_list);

    let mut s = linked(&select);
    s.push(" ORDER BY ").qualified(id_order.0, id_order.1);
    let all = s.statement();

    let mut s = linked(&select);
    s.push(" AND ")
        .qualified(id_order.0, id_order.1)
        .push(" = ");
    s.param_of(Param::Target);
    let find_by_id = s.statement();

    let count_where = format!("SELECT COUNT(*){from_linked}");
    let count = if joined {
        // Each pair once: the join table alone counts the links.
        let mut s = SqlWriter::new(dialect);
        s.push("SELECT COUNT(*) FROM ")
            .ident(rel.table())
            .push(" WHERE ")
            .eq_param_of(rel.owner_key, Param::Owner);
        s.statement()
    } else {
        linked(&count_where).statement()
    };
    Reads {
        from_linked,
        select,
        all,
        find_by_id,
        count,
        count_where,
        id_order,
    }
}

/// The statements over a list of target ids bound as one parameter: a PostgreSQL array, or
/// a JSON text that SQLite reads with `json_each`.
fn list_statements(rel: &RelationDef, dialect: Dialect) -> ListStatements {
    let list = if dialect == Dialect::Postgres {
        IdList::Array
    } else {
        IdList::Json
    };
    let postgres = dialect == Dialect::Postgres;
    ListStatements {
        locks: Lock::ALL.map(|lock| lock_targets(rel, dialect, lock, list)),
        insert: insert_links(rel, dialect, false, list),
        insert_guarded: insert_links(rel, dialect, true, list),
        delete: delete_links(rel, dialect, list),
        count_targets: (!postgres).then(|| count_targets(rel, dialect, list)),
        add_many: postgres.then(|| [add_many(rel, true), add_many(rel, false)]),
        set: postgres.then(|| set_links(rel)),
    }
}

/// `$n::int8[]`: the list of target ids as one array parameter, bound here.
fn ids_param(s: &mut SqlWriter, target: &ModelDef) {
    s.binds(Param::Ids).param();
    array_cast(s, target);
}

/// `$n::int8[]`: the list of target ids, parameter `n`, once more.
fn ids_again(s: &mut SqlWriter, target: &ModelDef, n: usize) {
    s.param_again(n);
    array_cast(s, target);
}

/// `::int8[]`: an array of the target's ids.
fn array_cast(s: &mut SqlWriter, target: &ModelDef) {
    let id_type = (target.id_column().sql_type)(Dialect::Postgres);
    s.push("::").push(&id_type).push("[]");
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
fn add_many(rel: &RelationDef, lock_targets: bool) -> Statement {
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
fn set_links(rel: &RelationDef) -> Statement {
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
fn create_linked(rel: &RelationDef) -> Option<Statement> {
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

/// How a statement takes a list of target ids: one array parameter (PostgreSQL), one JSON
/// text (SQLite), or `n` parameters, the ids bound in order and the last repeated in the
/// places beyond them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum IdList {
    Array,
    Json,
    Places(usize),
}

/// ` IN (<the ids>)`.
fn ids_in(s: &mut SqlWriter, target: &ModelDef, ids: IdList) {
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
    s.push("SELECT ")
        .ident(target_id)
        .push(" FROM ")
        .ident(target.table)
        .push(" WHERE ")
        .ident(target_id);
    ids_in(&mut s, target, ids);
    s.push(" ORDER BY ")
        .ident(target_id)
        .push(dialect.lock_clause(lock));
    s.statement()
}

/// Links the owner to the targets with these ids that exist, in ascending id order so that
/// concurrent inserts take their locks in one order, skipping existing pairs: `ON CONFLICT DO
/// NOTHING` (MySQL's `INSERT IGNORE`), and `NOT EXISTS` where the table has no unique key
/// (`guarded`; MySQL reads the pairs apart instead).
pub(crate) fn insert_links(
    rel: &RelationDef,
    dialect: Dialect,
    guarded: bool,
    ids: IdList,
) -> Statement {
    let target = (rel.target)();
    let target_id = target.id_column().name;
    let mut s = SqlWriter::new(dialect);
    s.push(if dialect == Dialect::MySql {
        "INSERT IGNORE INTO "
    } else {
        "INSERT INTO "
    });
    s.ident(rel.table()).push(" (");
    s.idents(None, [rel.owner_key, rel.target_key])
        .push(") SELECT ")
        .param_of(Param::Owner);
    s.push(", ")
        .qualified("t", target_id)
        .push(" FROM ")
        .ident(target.table)
        .push(" AS t WHERE ")
        .qualified("t", target_id);
    ids_in(&mut s, target, ids);
    if guarded {
        s.push(" AND NOT EXISTS (SELECT 1 FROM ")
            .ident(rel.table())
            .push(" AS l WHERE ")
            .qualified("l", rel.owner_key)
            .push(" = ");
        if dialect == Dialect::Postgres {
            s.param_again(1);
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
    if dialect != Dialect::MySql {
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

/// `DELETE FROM "AssemblyPart" WHERE "assembly_id" = ? AND "part_id" IN (<the ids>)`.
pub(crate) fn delete_links(rel: &RelationDef, dialect: Dialect, ids: IdList) -> Statement {
    let mut s = SqlWriter::new(dialect);
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

/// The columns of join model `join` that a link writes from the caller's data: all but a
/// generated id and the two keys, as indexes into its columns.
fn data_columns(rel: &RelationDef, join: &ModelDef) -> Vec<usize> {
    join.columns
        .iter()
        .enumerate()
        .filter(|(i, c): &(usize, &ColumnDef)| {
            !(join.id_generated && *i == join.id)
                && c.name != rel.owner_key
                && c.name != rel.target_key
        })
        .map(|(i, _)| i)
        .collect()
}

/// The statement that writes one link (with `data`, the join model's other columns, bound
/// first, then the owner's and the target's ids).
///
/// Where the join table holds each pair once (`guarded` false), one statement reads both rows
/// (which keeps them from being deleted until it ends) and inserts unless the pair exists:
///
/// - SQLite: `INSERT ... SELECT <data>, o.id, t.id FROM "Assembly" AS o, "Part" AS t WHERE
///   o.id = ? AND t.id = ? AND NOT EXISTS (<the pair>) ON CONFLICT DO NOTHING`; the `NOT
///   EXISTS` keeps join tables without a unique key right too, SQLite's writers taking turns;
/// - PostgreSQL: the same insert `FOR KEY SHARE OF o, t ON CONFLICT DO NOTHING RETURNING 1`
///   in a `WITH`, whose `SELECT` answers how many links it wrote and which rows exist, in one
///   round trip;
/// - MySQL: the insert `ON DUPLICATE KEY UPDATE <key> = <key>`, which counts an existing
///   link as one row (the driver asks for found rows) and keeps foreign-key errors, unlike
///   `INSERT IGNORE`: no row then means a missing owner or target.
///
/// With `guarded` (a join table without a unique key; both rows already locked, so writers of
/// one pair take turns): PostgreSQL `INSERT ... SELECT <data>, $k, $k+1 WHERE NOT EXISTS
/// (<the pair>)`, MySQL `INSERT ... VALUES (...)` after a plain read of the pair (a locking
/// read would lock the whole table when it has no index), SQLite as above.
fn link_insert(rel: &RelationDef, dialect: Dialect, data: &[&str], guarded: bool) -> Statement {
    let owner = (rel.owner)();
    let target = (rel.target)();
    let join_table = rel.table();
    let (owner_id, target_id) = (owner.id_column().name, target.id_column().name);
    let mut s = SqlWriter::new(dialect);
    let insert = |s: &mut SqlWriter| {
        s.push("INSERT INTO ").ident(join_table).push(" (");
        s.idents(
            None,
            data.iter().copied().chain([rel.owner_key, rel.target_key]),
        );
        s.push(")");
        if !data.is_empty() {
            s.binds(Param::Columns);
        }
        for i in 0..data.len() {
            s.push(if i == 0 { " SELECT " } else { ", " }).param();
        }
    };
    let from_both = |s: &mut SqlWriter| {
        s.push(if data.is_empty() { " SELECT " } else { ", " })
            .qualified("o", owner_id)
            .push(", ")
            .qualified("t", target_id);
        s.push(" FROM ")
            .ident(owner.table)
            .push(" AS o, ")
            .ident(target.table)
            .push(" AS t WHERE ");
        s.qualified("o", owner_id)
            .push(" = ")
            .param_of(Param::Owner)
            .push(" AND ");
        s.qualified("t", target_id)
            .push(" = ")
            .param_of(Param::Target);
    };
    let pair_absent =
        |s: &mut SqlWriter, owner: &dyn Fn(&mut SqlWriter), target: &dyn Fn(&mut SqlWriter)| {
            s.push(" NOT EXISTS (SELECT 1 FROM ")
                .ident(join_table)
                .push(" AS l WHERE ")
                .qualified("l", rel.owner_key)
                .push(" = ");
            owner(s);
            s.push(" AND ").qualified("l", rel.target_key).push(" = ");
            target(s);
            s.push(")");
        };
    match (dialect, guarded) {
        (Dialect::Sqlite, _) => {
            insert(&mut s);
            from_both(&mut s);
            s.push(" AND");
            pair_absent(
                &mut s,
                &|s| {
                    s.qualified("o", owner_id);
                },
                &|s| {
                    s.qualified("t", target_id);
                },
            );
            s.push(" ON CONFLICT DO NOTHING");
        }
        (Dialect::Postgres, false) => {
            s.push("WITH linked AS (");
            insert(&mut s);
            from_both(&mut s);
            let (o, t) = (s.placeholders() - 1, s.placeholders());
            s.push(" FOR KEY SHARE OF o, t ON CONFLICT DO NOTHING RETURNING 1)");
            s.push(" SELECT (SELECT COUNT(*) FROM linked), EXISTS (SELECT 1 FROM ")
                .ident(owner.table)
                .push(" WHERE ");
            s.ident(owner_id).push(" = ").param_again(o);
            s.push("), EXISTS (SELECT 1 FROM ")
                .ident(target.table)
                .push(" WHERE ")
                .ident(target_id);
            s.push(" = ").param_again(t).push(")");
        }
        (Dialect::Postgres, true) => {
            insert(&mut s);
            s.push(if data.is_empty() { " SELECT " } else { ", " })
                .param_of(Param::Owner)
                .push(", ")
                .param_of(Param::Target);
            let (o, t) = (s.placeholders() - 1, s.placeholders());
            s.push(" WHERE");
            pair_absent(
                &mut s,
                &|s| {
                    s.param_again(o);
                },
                &|s| {
                    s.param_again(t);
                },
            );
        }
        (Dialect::MySql, false) => {
            insert(&mut s);
            from_both(&mut s);
            s.push(" ON DUPLICATE KEY UPDATE ")
                .qualified(&dialect.quote(join_table), rel.owner_key);
            s.push(" = ")
                .qualified(&dialect.quote(join_table), rel.owner_key);
        }
        (Dialect::MySql, true) => {
            s.push("INSERT INTO ").ident(join_table).push(" (");
            s.idents(
                None,
                data.iter().copied().chain([rel.owner_key, rel.target_key]),
            );
            s.push(") VALUES (");
            if !data.is_empty() {
                s.binds(Param::Columns);
            }
            for _ in data {
                s.param().push(", ");
            }
            s.param_of(Param::Owner)
                .push(", ")
                .param_of(Param::Target)
                .push(")");
        }
    }
    s.statement()
}
