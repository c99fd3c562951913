//! Building SQL text: quoted names, placeholders, column lists; and fixed statements that
//! carry the list of what they bind, filled by one binder.

use std::sync::Arc;

use sqlx::{SqlSafeStr, SqlStr};

use crate::backend::Backend;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::value::{DynList, DynValue};

/// The alias of the rows a statement reads (a model's table, a relation's targets), with
/// which a filter spliced into it qualifies its columns.
pub(crate) const ROWS: &str = "t";

/// The alias of a join table where a statement reads its rows beside the targets.
pub(crate) const JOIN_ROWS: &str = "j";

/// What a fixed statement binds, in the order it binds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param {
    /// The id of the model's row (or of a new row whose id the caller supplies).
    Id,
    /// The owner's id, in a relation's statement.
    Owner,
    /// The target's id, in a relation's statement.
    Target,
    /// Every column the operation writes from the caller's values (a new row's, a saved
    /// row's, a join row's data), in declaration order.
    Columns,
    /// A list of target ids as one array (PostgreSQL).
    Ids,
    /// The id at this place of the list, or its last id past its end (an `IN` list padded
    /// to a fixed length).
    IdAt(usize),
}

/// A statement built once, with the parameters it binds in order: text and binds cannot
/// drift apart, since [`bind`](Self::bind) follows the list the builder wrote.
#[derive(Debug)]
pub struct Statement {
    pub(crate) sql: String,
    pub(crate) params: Vec<Param>,
}

/// Binds the columns an operation writes, in declaration order.
pub(crate) type BindColumns<'a, DB> =
    &'a (dyn Fn(&mut <DB as sqlx::Database>::Arguments) -> Result<()> + Sync);

/// The values of one call, for the statement to take what its parameters name.
pub(crate) struct Binds<'a, DB: Backend> {
    pub(crate) id: Option<&'a dyn DynValue>,
    pub(crate) owner: Option<&'a dyn DynValue>,
    pub(crate) target: Option<&'a dyn DynValue>,
    pub(crate) columns: Option<BindColumns<'a, DB>>,
    pub(crate) ids: Option<&'a dyn DynList>,
}

impl<DB: Backend> Default for Binds<'_, DB> {
    fn default() -> Self {
        Binds {
            id: None,
            owner: None,
            target: None,
            columns: None,
            ids: None,
        }
    }
}

impl<'a, DB: Backend> Binds<'a, DB> {
    /// A row's id.
    pub(crate) fn id(id: &'a dyn DynValue) -> Self {
        Binds {
            id: Some(id),
            ..Binds::default()
        }
    }

    /// An owner's id.
    pub(crate) fn owner(owner: &'a dyn DynValue) -> Self {
        Binds {
            owner: Some(owner),
            ..Binds::default()
        }
    }

    /// An owner's and a target's ids.
    pub(crate) fn pair(owner: &'a dyn DynValue, target: &'a dyn DynValue) -> Self {
        Binds {
            owner: Some(owner),
            target: Some(target),
            ..Binds::default()
        }
    }

    /// These, and the list `ids`.
    pub(crate) fn ids(self, ids: &'a dyn DynList) -> Self {
        Binds {
            ids: Some(ids),
            ..self
        }
    }

    /// These, and the columns `columns` binds.
    pub(crate) fn columns(self, columns: BindColumns<'a, DB>) -> Self {
        Binds {
            columns: Some(columns),
            ..self
        }
    }
}

impl Statement {
    /// The text, borrowed from the `'static` cache it lives in.
    pub(crate) fn text(&'static self) -> SqlStr {
        SqlStr::from_static(&self.sql)
    }

    /// The text of a statement built for one call.
    pub(crate) fn into_text(self) -> SqlStr {
        sqlx::AssertSqlSafe(self.sql).into_sql_str()
    }

    /// The arguments of one run: each parameter from `binds`, in the statement's order.
    pub(crate) fn bind<DB: Backend>(&self, binds: &Binds<'_, DB>) -> Result<DB::Arguments> {
        let mut args = DB::Arguments::default();
        for param in &self.params {
            let value = match param {
                Param::Id => binds.id,
                Param::Owner => binds.owner,
                Param::Target => binds.target,
                Param::Columns => {
                    let columns = binds.columns.ok_or_else(|| missing(*param))?;
                    columns(&mut args)?;
                    continue;
                }
                Param::Ids => {
                    let ids = binds.ids.ok_or_else(|| missing(*param))?;
                    DB::bind_array(&mut args, ids).map_err(Error::encode)?;
                    continue;
                }
                Param::IdAt(place) => {
                    let ids = binds.ids.filter(|ids| !ids.is_empty());
                    let ids = ids.ok_or_else(|| missing(*param))?;
                    let item = ids.item((*place).min(ids.len() - 1));
                    DB::bind_dyn(&mut args, item).map_err(Error::encode)?;
                    continue;
                }
            };
            DB::bind_dyn(&mut args, value.ok_or_else(|| missing(*param))?)
                .map_err(Error::encode)?;
        }
        Ok(args)
    }
}

/// A statement asked for a value its caller did not give: a mistake in habtm itself.
fn missing(param: Param) -> Error {
    Error::Unsupported {
        operation: "binding a statement".into(),
        message: format!("no value given for {param:?}"),
    }
}

/// Writes one statement for one dialect, numbering placeholders as it goes.
pub(crate) struct SqlWriter {
    pub(crate) dialect: Dialect,
    pub(crate) sql: String,
    binds: usize,
    /// What a fixed statement binds, as the builder says while writing it.
    params: Vec<Param>,
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
            params: Vec::new(),
            lists: Vec::new(),
        }
    }

    /// Continues `prefix`, a statement that already holds `binds` parameters.
    /// A statement whose text so far, `prefix`, binds `params`, for a builder to go on.
    pub(crate) fn continuing_with(dialect: Dialect, prefix: &str, params: &[Param]) -> Self {
        let mut w = SqlWriter::continuing(dialect, prefix, params.len());
        w.params.extend_from_slice(params);
        w
    }

    pub(crate) fn continuing(dialect: Dialect, prefix: &str, binds: usize) -> Self {
        let mut sql = String::with_capacity(prefix.len() + 64);
        sql.push_str(prefix);
        SqlWriter {
            dialect,
            sql,
            binds,
            params: Vec::new(),
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

    /// The placeholder of `param`, which the statement binds here.
    pub(crate) fn param_of(&mut self, param: Param) -> &mut Self {
        self.params.push(param);
        self.param()
    }

    /// Says that the placeholders written next hold `param` (one role for several
    /// placeholders, as [`Param::Columns`] has).
    pub(crate) fn binds(&mut self, param: Param) -> &mut Self {
        self.params.push(param);
        self
    }

    /// The fixed statement written, with what it binds.
    pub(crate) fn statement(self) -> Statement {
        debug_assert!(
            self.lists.is_empty(),
            "a fixed statement with temporary lists"
        );
        Statement {
            sql: self.sql,
            params: self.params,
        }
    }

    /// Parameter `n` once more: PostgreSQL's `$n`, for a statement that uses a value twice.
    pub(crate) fn param_again(&mut self, n: usize) -> &mut Self {
        debug_assert!(self.dialect == Dialect::Postgres && n <= self.binds);
        self.dialect.placeholder_into(n, &mut self.sql);
        self
    }

    /// How many placeholders the statement holds so far.
    pub(crate) fn placeholders(&self) -> usize {
        self.binds
    }

    /// `name = <param>`, binding `param`.
    pub(crate) fn eq_param_of(&mut self, name: &str, param: Param) -> &mut Self {
        self.ident(name).push(" = ").param_of(param)
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
