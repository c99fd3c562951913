//! Building the fixed statements of models and relations, once per dialect.

use crate::def::{
    ColumnDef, ModelDef, ModelStatements, RelationDef, RelationStatements, Shape, ThroughStatements,
};
use crate::dialect::{Dialect, Lock};
use crate::sql::SqlWriter;

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
    w.push(&select)
        .push(" WHERE ")
        .qualified("t", id)
        .push(" = ")
        .param();
    let find_by_id = w.finish();

    let returning = |w: &mut SqlWriter| {
        if dialect.has_returning() {
            w.push(" RETURNING ").idents(None, all());
        }
    };

    let mut w = SqlWriter::new(dialect);
    let n = def.insert_columns().count();
    w.push("INSERT INTO ").ident(def.table).push(" (");
    w.idents(None, def.insert_columns().map(|c| c.name));
    w.push(") VALUES ").param_list(n);
    returning(&mut w);
    let insert = w.finish();

    let mut w = SqlWriter::new(dialect);
    w.push("UPDATE ").ident(def.table).push(" SET ");
    for (i, column) in def.value_columns().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.eq_param(column.name);
    }
    w.push(" WHERE ").eq_param(id);
    let update = w.finish();
    let mut w = SqlWriter::continuing(dialect, &update, n + 1);
    returning(&mut w);
    let update_returning = w.finish();

    let mut w = SqlWriter::new(dialect);
    w.push("DELETE FROM ")
        .ident(def.table)
        .push(" WHERE ")
        .eq_param(id);
    let delete = w.finish();

    let mut w = SqlWriter::new(dialect);
    w.push("SELECT 1 FROM ")
        .ident(def.table)
        .push(" WHERE ")
        .eq_param(id);
    let exists = w.finish();

    let locks = Lock::ALL.map(|lock| format!("{exists}{}", dialect.lock_clause(lock)));

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
    let unlink = keys
        .into_iter()
        .map(|(table, key)| {
            let mut w = SqlWriter::new(dialect);
            w.push("DELETE FROM ")
                .ident(table)
                .push(" WHERE ")
                .eq_param(key);
            w.finish()
        })
        .collect();

    ModelStatements {
        select_list,
        select,
        find_by_id,
        insert,
        update,
        update_returning,
        delete,
        exists,
        locks,
        unlink,
    }
}

fn build_relation(rel: &RelationDef, dialect: Dialect) -> RelationStatements {
    let owner = (rel.owner)();
    let target = (rel.target)();
    let join_table = rel.table();
    let target_stmts = model(target, dialect);
    let owner_id = owner.id_column().name;
    let target_id = target.id_column().name;
    let w = || SqlWriter::new(dialect);

    // A semi-join: a part linked twice (possible in LoopBack's own join tables, which
    // have no unique key) still comes back once.
    let linked = |s: &mut SqlWriter| {
        s.qualified("t", target_id)
            .push(" IN (SELECT ")
            .qualified("j", rel.target_key);
        s.push(" FROM ")
            .ident(join_table)
            .push(" AS j WHERE ")
            .qualified("j", rel.owner_key);
        s.push(" = ").param().push(")");
    };

    let mut s = w();
    s.push(" FROM ").ident(target.table).push(" AS t WHERE ");
    linked(&mut s);
    let from_linked = s.finish();
    let select = format!("SELECT {}{from_linked}", target_stmts.select_list);

    let mut s = w();
    s.push(&select).push(" ORDER BY ").qualified("t", target_id);
    let all = s.finish();

    let mut s = SqlWriter::continuing(dialect, &select, 1);
    s.push(" AND ")
        .qualified("t", target_id)
        .push(" = ")
        .param();
    let find_by_id = s.finish();

    let count = format!("SELECT COUNT(*){from_linked}");

    let mut s = w();
    s.push("SELECT (SELECT COUNT(*) FROM ")
        .ident(owner.table)
        .push(" WHERE ")
        .eq_param(owner_id);
    s.push("), (SELECT COUNT(*) FROM ")
        .ident(target.table)
        .push(" WHERE ")
        .eq_param(target_id)
        .push(")");
    let parents = s.finish();

    let mut s = w();
    s.push("INSERT INTO ").ident(join_table).push(" (");
    s.idents(None, [rel.owner_key, rel.target_key])
        .push(") SELECT ")
        .qualified("o", owner_id);
    s.push(", ")
        .param()
        .push(" FROM ")
        .ident(owner.table)
        .push(" AS o WHERE ");
    s.qualified("o", owner_id).push(" = ").param();
    if dialect == Dialect::Postgres {
        s.push(dialect.lock_clause(Lock::KeyShare));
    }
    let link_new = s.finish();

    let pair = |s: &mut SqlWriter| {
        s.eq_param(rel.owner_key)
            .push(" AND ")
            .eq_param(rel.target_key);
    };

    let mut s = w();
    s.push("DELETE FROM ").ident(join_table).push(" WHERE ");
    pair(&mut s);
    let remove = s.finish();

    let mut s = w();
    s.push("SELECT 1 FROM ").ident(join_table).push(" WHERE ");
    pair(&mut s);
    let exists = s.finish();

    let mut s = w();
    s.push("DELETE FROM ")
        .ident(join_table)
        .push(" WHERE ")
        .eq_param(rel.owner_key);
    let clear = s.finish();

    let mut s = w();
    s.push("SELECT ")
        .ident(rel.target_key)
        .push(" FROM ")
        .ident(join_table);
    s.push(" WHERE ")
        .eq_param(rel.owner_key)
        .push(" ORDER BY ")
        .ident(rel.target_key);
    let ids = s.finish();

    let mut s = w();
    s.push("DELETE FROM ")
        .ident(join_table)
        .push(" WHERE ")
        .eq_param(rel.target_key);
    let unlink_target = s.finish();

    let mut s = w();
    s.push("UPDATE ").ident(target.table).push(" SET ");
    for (i, column) in target.value_columns().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.eq_param(column.name);
    }
    s.push(" WHERE ")
        .eq_param(target_id)
        .push(" AND EXISTS (SELECT 1 FROM ");
    s.ident(join_table)
        .push(" AS j WHERE ")
        .qualified("j", rel.owner_key)
        .push(" = ");
    s.param()
        .push(" AND ")
        .qualified("j", rel.target_key)
        .push(" = ")
        .param()
        .push(")");
    if dialect.has_returning() {
        s.push(" RETURNING ")
            .idents(None, target.columns.iter().map(|c| c.name));
    }
    let update_linked = s.finish();

    let through = rel.through.map(|through| {
        let join = through();
        let data = data_columns(rel, join);
        let names: Vec<&str> = data.iter().map(|&i| join.columns[i].name).collect();
        let update_link = (!data.is_empty()).then(|| {
            let mut s = w();
            s.push("UPDATE ").ident(join_table).push(" SET ");
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    s.push(", ");
                }
                s.eq_param(name);
            }
            s.push(" WHERE ");
            pair(&mut s);
            s.finish()
        });
        ThroughStatements {
            add: link_insert(rel, dialect, &names, false),
            add_guarded: link_insert(rel, dialect, &names, true),
            update_link,
            data,
        }
    });

    RelationStatements {
        from_linked,
        select,
        all,
        find_by_id,
        count,
        add: link_insert(rel, dialect, &[], false),
        add_guarded: link_insert(rel, dialect, &[], true),
        parents,
        link_new,
        remove,
        exists,
        clear,
        ids,
        unlink_target,
        update_linked,
        through,
        shape: Shape::default(),
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
fn link_insert(rel: &RelationDef, dialect: Dialect, data: &[&str], guarded: bool) -> String {
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
        s.qualified("o", owner_id).push(" = ").param().push(" AND ");
        s.qualified("t", target_id).push(" = ").param();
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
            let (o, t) = (s.binds() - 1, s.binds());
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
                .param()
                .push(", ")
                .param();
            let (o, t) = (s.binds() - 1, s.binds());
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
            s.push(") VALUES ").param_list(data.len() + 2);
        }
    }
    s.finish()
}
