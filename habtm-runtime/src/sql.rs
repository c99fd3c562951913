//! Building SQL text: quoted names, placeholders, column lists, and the per-dialect cache
//! that makes fixed statements a one-time cost.

use std::sync::OnceLock;

use crate::backend::Dialect;

/// Writes one statement for one dialect, numbering placeholders as it goes.
pub(crate) struct SqlWriter {
    pub(crate) dialect: Dialect,
    pub(crate) sql: String,
    binds: usize,
}

impl SqlWriter {
    pub(crate) fn new(dialect: Dialect) -> Self {
        SqlWriter {
            dialect,
            sql: String::with_capacity(128),
            binds: 0,
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

    pub(crate) fn finish(self) -> String {
        self.sql
    }
}

/// One lazily built value per dialect: the fixed statements of a model or relation.
///
/// Lives in a `static` beside the generated definition, so each statement is formatted once
/// per process and dialect, then borrowed as `&'static str` on every call.
pub struct StatementCache<S> {
    slots: [OnceLock<S>; 3],
}

impl<S> StatementCache<S> {
    /// An empty cache.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        StatementCache {
            slots: [const { OnceLock::new() }; 3],
        }
    }

    pub(crate) fn get(&self, dialect: Dialect, build: impl FnOnce() -> S) -> &S {
        self.slots[dialect.index()].get_or_init(build)
    }
}

impl<S> std::fmt::Debug for StatementCache<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatementCache")
    }
}
