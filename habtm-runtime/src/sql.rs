//! Building SQL text: quoted names, placeholders, column lists, and the per-dialect cache
//! that makes fixed statements a one-time cost.

use std::sync::Arc;

use sqlx::SqlStr;

use crate::dialect::Dialect;
use crate::value::DynList;

/// Writes one statement for one dialect, numbering placeholders as it goes.
pub(crate) struct SqlWriter {
    pub(crate) dialect: Dialect,
    pub(crate) sql: String,
    binds: usize,
    /// Value lists the statement reads from temporary tables, which must exist when it runs.
    lists: Vec<TempList>,
}

/// A list of values too long for parameters, in a temporary table of one column `v`.
pub(crate) struct TempList {
    /// The table's name, unique in its statement.
    pub(crate) table: String,
    /// The type of `v`.
    pub(crate) column_type: String,
    pub(crate) values: Arc<dyn DynList>,
}

impl SqlWriter {
    pub(crate) fn new(dialect: Dialect) -> Self {
        SqlWriter {
            dialect,
            sql: String::with_capacity(128),
            binds: 0,
            lists: Vec::new(),
        }
    }

    /// Continues `prefix`, a statement that already holds `binds` parameters.
    pub(crate) fn continuing(dialect: Dialect, prefix: &str, binds: usize) -> Self {
        let mut sql = String::with_capacity(prefix.len() + 64);
        sql.push_str(prefix);
        SqlWriter {
            dialect,
            sql,
            binds,
            lists: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.sql.push_str(text);
        self
    }

    /// A quoted identifier.
    pub(crate) fn ident(&mut self, name: &str) -> &mut Self {
        self.dialect.quote_into(name, &mut self.sql);
        self
    }

    /// `alias.column`, quoted.
    pub(crate) fn qualified(&mut self, alias: &str, name: &str) -> &mut Self {
        self.sql.push_str(alias);
        self.sql.push('.');
        self.ident(name)
    }

    /// The next bind parameter.
    pub(crate) fn param(&mut self) -> &mut Self {
        self.binds += 1;
        self.dialect.placeholder_into(self.binds, &mut self.sql);
        self
    }

    /// Parameter `n` once more: PostgreSQL's `$n`, for a statement that uses a value twice.
    pub(crate) fn param_again(&mut self, n: usize) -> &mut Self {
        debug_assert!(self.dialect == Dialect::Postgres && n <= self.binds);
        self.dialect.placeholder_into(n, &mut self.sql);
        self
    }

    /// How many parameters the statement holds so far.
    pub(crate) fn binds(&self) -> usize {
        self.binds
    }

    /// `name = <param>`.
    pub(crate) fn eq_param(&mut self, name: &str) -> &mut Self {
        self.ident(name).push(" = ").param()
    }

    /// `(p, p, ...)` with `n` parameters.
    pub(crate) fn param_list(&mut self, n: usize) -> &mut Self {
        self.sql.push('(');
        for i in 0..n {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.param();
        }
        self.sql.push(')');
        self
    }

    /// Comma-separated names, each optionally qualified by `alias`.
    pub(crate) fn idents<'a>(
        &mut self,
        alias: Option<&str>,
        names: impl IntoIterator<Item = &'a str>,
    ) -> &mut Self {
        for (i, name) in names.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            match alias {
                Some(alias) => self.qualified(alias, name),
                None => self.ident(name),
            };
        }
        self
    }

    /// `(SELECT "v" FROM <temporary table>)`: a list read from a table that is filled before
    /// the statement runs and dropped after it. The tables of a statement are numbered from
    /// 0, so that its text repeats (and stays prepared) from one call to the next; a
    /// connection runs one statement at a time.
    pub(crate) fn temp_list(&mut self, values: Arc<dyn DynList>, column_type: String) -> &mut Self {
        let table = format!("habtm_list_{}", self.lists.len());
        self.push("(SELECT ")
            .ident("v")
            .push(" FROM ")
            .ident(&table)
            .push(")");
        self.lists.push(TempList {
            table,
            column_type,
            values,
        });
        self
    }

    /// The statement text; it must read no temporary list.
    pub(crate) fn finish(self) -> String {
        debug_assert!(self.lists.is_empty(), "a statement with temporary lists");
        self.sql
    }

    /// The statement text and the temporary lists it reads.
    pub(crate) fn into_parts(self) -> (String, Vec<TempList>) {
        (self.sql, self.lists)
    }
}

/// A fixed statement: borrowed from a `'static` cache, never copied.
pub(crate) fn fixed(sql: &'static str) -> SqlStr {
    SqlStr::from_static(sql)
}
