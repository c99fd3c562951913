//! The tree of a filter's conditions, and how it is written as SQL with its values bound.

use std::sync::Arc;

use crate::backend::Backend;
use crate::def::{ModelDef, RelationDef};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::sql::SqlWriter;
use crate::value::{DynList, DynValue, json_list};

#[derive(Debug, Clone, Copy)]
pub(crate) enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    fn sql(self) -> &'static str {
        match self {
            CompareOp::Eq => " = ",
            CompareOp::Ne => " <> ",
            CompareOp::Lt => " < ",
            CompareOp::Le => " <= ",
            CompareOp::Gt => " > ",
            CompareOp::Ge => " >= ",
        }
    }
}

#[derive(Debug)]
pub(crate) enum Node {
    Compare {
        column: usize,
        op: CompareOp,
        value: Box<dyn DynValue>,
    },
    In {
        column: usize,
        negated: bool,
        values: Arc<dyn DynList>,
    },
    Like {
        column: usize,
        negated: bool,
        pattern: String,
    },
    Null {
        column: usize,
        negated: bool,
    },
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    Related {
        relation: fn() -> &'static RelationDef,
        quantifier: Quantifier,
        condition: Option<Box<Node>>,
        /// The join model, when the condition is on the join row rather than the related row.
        link: Option<fn() -> &'static ModelDef>,
    },
}

/// Which `IN` lists of a condition are too long for one parameter per value: those longer
/// than `longest_inline`. Such a list is one parameter, an array on PostgreSQL and a JSON
/// text on SQLite (integers and text), or else a temporary table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListLimit {
    dialect: Dialect,
    longest_inline: usize,
}

impl ListLimit {
    /// Lists longer than this are never inline: PostgreSQL plans an array as well, and
    /// parsing thousands of placeholders costs more than filling a temporary table.
    fn longest(dialect: Dialect) -> usize {
        match dialect {
            Dialect::Postgres => 1_000,
            Dialect::Sqlite | Dialect::MySql => 5_000,
        }
    }

    /// The limit for `condition` on `dialect`: the shortest lists stay inline while all
    /// the condition's parameters fit in half of a statement's (the other half is for the
    /// statement around it).
    pub(crate) fn of(condition: &Node, dialect: Dialect) -> Self {
        let mut lengths = Vec::new();
        let mut others = 0;
        condition.visit_binds(&mut lengths, &mut others);
        lengths.sort_unstable();
        let budget = dialect.max_binds() / 2;
        let mut used = others;
        let mut longest_inline = 0;
        for len in lengths {
            if len > Self::longest(dialect) || used + len > budget {
                break;
            }
            used += len;
            longest_inline = len;
        }
        ListLimit {
            dialect,
            longest_inline,
        }
    }

    fn inline(self, values: &dyn DynList) -> bool {
        values.len() <= self.longest_inline
    }

    /// Whether a list that is not inline is one parameter rather than a temporary table.
    fn one_parameter(self, values: &dyn DynList) -> bool {
        match self.dialect {
            Dialect::Postgres => true,
            Dialect::Sqlite => {
                json_list(self.dialect, (!values.is_empty()).then(|| values.item(0)))
            }
            // Whether the server has `JSON_TABLE` is known of a relation's server, not of a
            // filter's.
            Dialect::MySql => false,
        }
    }
}

impl Node {
    /// The lengths of the `IN` lists, and how many other parameters there are.
    fn visit_binds(&self, lists: &mut Vec<usize>, others: &mut usize) {
        match self {
            Node::Compare { .. } | Node::Like { .. } => *others += 1,
            Node::In { values, .. } => lists.push(values.len()),
            Node::Null { .. } => {}
            Node::All(nodes) | Node::Any(nodes) => {
                nodes.iter().for_each(|n| n.visit_binds(lists, others));
            }
            Node::Not(node) => node.visit_binds(lists, others),
            Node::Related { condition, .. } => {
                if let Some(node) = condition {
                    node.visit_binds(lists, others);
                }
            }
        }
    }

    pub(crate) fn bind_count(&self, lists: ListLimit) -> usize {
        match self {
            Node::Compare { .. } | Node::Like { .. } => 1,
            Node::In { values, .. } if lists.inline(values.as_ref()) => values.len(),
            Node::In { values, .. } => usize::from(lists.one_parameter(values.as_ref())),
            Node::Null { .. } => 0,
            Node::All(nodes) | Node::Any(nodes) => nodes.iter().map(|n| n.bind_count(lists)).sum(),
            Node::Not(node) => node.bind_count(lists),
            Node::Related { condition, .. } => {
                condition.as_deref().map_or(0, |n| n.bind_count(lists))
            }
        }
    }

    /// Writes the condition on the row of `def` called `alias`; `depth` numbers the aliases
    /// of nested relation predicates.
    pub(crate) fn write<DB: Backend>(
        &self,
        w: &mut SqlWriter,
        args: &mut DB::Arguments,
        def: &ModelDef,
        alias: &str,
        depth: usize,
        lists: ListLimit,
    ) -> Result<()> {
        let column = |w: &mut SqlWriter, index: usize| {
            w.qualified(alias, def.columns[index].name);
        };
        match self {
            Node::Compare {
                column: c,
                op,
                value,
            } => {
                column(w, *c);
                w.push(op.sql()).param();
                DB::bind_dyn(args, value.as_ref()).map_err(Error::encode)?;
            }
            Node::In {
                values, negated, ..
            } if values.is_empty() => {
                w.push(if *negated { "1 = 1" } else { "1 = 0" });
            }
            Node::In {
                column: c,
                negated,
                values,
            } => {
                column(w, *c);
                w.push(if *negated { " NOT IN " } else { " IN " });
                if lists.inline(values.as_ref()) {
                    w.param_list(values.len());
                    for i in 0..values.len() {
                        DB::bind_dyn(args, values.item(i)).map_err(Error::encode)?;
                    }
                } else if DB::DIALECT == Dialect::Postgres {
                    let sql_type = (def.columns[*c].sql_type)(DB::DIALECT);
                    w.push("(SELECT unnest(").param().push("::");
                    w.push(&sql_type).push("[]))");
                    DB::bind_array(args, values.as_ref()).map_err(Error::encode)?;
                } else if lists.one_parameter(values.as_ref()) {
                    w.push("(SELECT value FROM json_each(").param().push("))");
                    DB::bind_array(args, values.as_ref()).map_err(Error::encode)?;
                } else {
                    let sql_type = (def.columns[*c].sql_type)(DB::DIALECT);
                    w.temp_list(values.clone(), DB::DIALECT.ddl_type(&sql_type, false));
                }
            }
            Node::Like {
                column: c,
                negated,
                pattern,
            } => {
                column(w, *c);
                w.push(if *negated { " NOT LIKE " } else { " LIKE " })
                    .param();
                DB::bind(args, pattern).map_err(Error::encode)?;
            }
            Node::Null { column: c, negated } => {
                column(w, *c);
                w.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Node::All(nodes) | Node::Any(nodes) if nodes.is_empty() => {
                w.push(if matches!(self, Node::All(_)) {
                    "1 = 1"
                } else {
                    "1 = 0"
                });
            }
            Node::All(nodes) | Node::Any(nodes) => {
                let joiner = if matches!(self, Node::All(_)) {
                    " AND "
                } else {
                    " OR "
                };
                w.push("(");
                for (i, node) in nodes.iter().enumerate() {
                    if i > 0 {
                        w.push(joiner);
                    }
                    node.write::<DB>(w, args, def, alias, depth, lists)?;
                }
                w.push(")");
            }
            Node::Not(node) => {
                w.push("(");
                node.write::<DB>(w, args, def, alias, depth, lists)?;
                w.push(") IS NOT TRUE");
            }
            Node::Related {
                relation,
                quantifier,
                condition,
                link,
            } => {
                let rel = relation();
                let target = (rel.target)();
                let join_table = rel.table();
                let (j, t) = (format!("j{}", depth + 1), format!("t{}", depth + 1));
                if matches!(quantifier, Quantifier::None | Quantifier::Every) {
                    w.push("NOT ");
                }
                w.push("EXISTS (SELECT 1 FROM ")
                    .ident(join_table)
                    .push(" AS ")
                    .push(&j);
                w.push(" INNER JOIN ")
                    .ident(target.table)
                    .push(" AS ")
                    .push(&t)
                    .push(" ON ");
                w.qualified(&t, target.id_column().name)
                    .push(" = ")
                    .qualified(&j, rel.target_key);
                w.push(" WHERE ").qualified(&j, rel.owner_key).push(" = ");
                w.qualified(alias, def.id_column().name);
                if let Some(condition) = condition {
                    // A related row whose condition is unknown (NULL) does not match it:
                    // it makes `every` false, as `count_where` does not count it.
                    w.push(" AND (");
                    match link {
                        Some(link) => {
                            condition.write::<DB>(w, args, link(), &j, depth + 1, lists)?
                        }
                        None => condition.write::<DB>(w, args, target, &t, depth + 1, lists)?,
                    }
                    w.push(if *quantifier == Quantifier::Every {
                        ") IS NOT TRUE"
                    } else {
                        ")"
                    });
                }
                w.push(")");
            }
        }
        Ok(())
    }
}

/// Which related rows a relation predicate asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quantifier {
    Some,
    None,
    Every,
}
