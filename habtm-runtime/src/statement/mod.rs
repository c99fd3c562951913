//! Building the fixed statements of models and relations, once per dialect.

use crate::def::{
    ColumnDef, ModelDef, ModelStatements, Reads, RelationDef, RelationStatements, Shape,
    ThroughStatements,
};
use crate::dialect::{Dialect, Lock};
use crate::sql::{Param, SqlWriter, Statement};

mod lists;
mod postgres;

use lists::list_statements;
pub(crate) use lists::{IdList, delete_links, insert_links, linked_among, lock_targets};
use postgres::{create_linked, delete_with_links};
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
pub(super) fn unlink_keys(def: &ModelDef) -> Vec<(&'static str, &'static str)> {
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
        let list = IdList::one_parameter(dialect);
        ThroughStatements {
            with_links: s.finish(),
            add: link_insert(rel, dialect, &names, false),
            add_guarded: link_insert(rel, dialect, &names, true),
            update_link,
            data,
            insert: insert_links(rel, dialect, false, list, &names),
            insert_guarded: (dialect != Dialect::MySql)
                .then(|| insert_links(rel, dialect, true, list, &names)),
            names,
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
        lists: list_statements(rel, dialect),
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
///   EXISTS` keeps join tables without a unique key right too, SQLite's writers taking turns
///   (there, `guarded`, without the `ON CONFLICT`, which would skip a violation of any other
///   unique key);
/// - PostgreSQL: the same insert `FOR KEY SHARE OF o, t ON CONFLICT DO NOTHING RETURNING 1`
///   in a `WITH`, whose `SELECT` answers how many links it wrote and which rows exist, in one
///   round trip;
/// - MySQL: the insert `ON DUPLICATE KEY UPDATE <key> = <key>`, which counts an existing
///   link as one row (the driver asks for found rows) and keeps foreign-key errors, unlike
///   `INSERT IGNORE`: no row then means a missing owner or target.
///
/// With `guarded` (a join table without a unique key, or a link with join data; both rows
/// already locked, so writers of one pair take turns): PostgreSQL `INSERT ... SELECT <data>, $k, $k+1 WHERE NOT EXISTS
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
            if !guarded {
                s.push(" ON CONFLICT DO NOTHING");
            }
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
