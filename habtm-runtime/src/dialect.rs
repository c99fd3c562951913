//! The three SQL dialects habtm writes, and how strongly a statement locks the rows it reads.
//!
//! Everything that differs in the text of SQL between SQLite, PostgreSQL and MySQL lives
//! here: identifier quoting, placeholders, `RETURNING`, locking clauses, bind-parameter
//! limits, `LIMIT`/`OFFSET`, and column types in DDL.

/// A SQL dialect habtm writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite 3.35 or newer.
    Sqlite,
    /// PostgreSQL 12 or newer.
    Postgres,
    /// MySQL 8 or MariaDB 10.5 or newer.
    MySql,
}

impl Dialect {
    /// Every dialect, in a fixed order.
    pub const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql];

    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// Appends `name` quoted as an identifier (`"name"`, or `` `name` `` on MySQL).
    ///
    /// Names are checked when the model is compiled (no quote characters, no NUL), so the
    /// quote character never needs escaping here; it is doubled anyway for names built at
    /// run time.
    pub fn quote_into(self, name: &str, out: &mut String) {
        let q = match self {
            Dialect::MySql => '`',
            Dialect::Sqlite | Dialect::Postgres => '"',
        };
        out.push(q);
        for c in name.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
    }

    /// `name` quoted as an identifier.
    pub fn quote(self, name: &str) -> String {
        let mut out = String::with_capacity(name.len() + 2);
        self.quote_into(name, &mut out);
        out
    }

    /// Appends the placeholder of the `n`-th bind parameter (1-based): `$n` or `?`.
    pub(crate) fn placeholder_into(self, n: usize, out: &mut String) {
        match self {
            Dialect::Postgres => {
                use std::fmt::Write;
                let _ = write!(out, "${n}");
            }
            Dialect::Sqlite | Dialect::MySql => out.push('?'),
        }
    }

    /// Whether `INSERT ... RETURNING` and `UPDATE ... RETURNING` are available.
    pub(crate) const fn has_returning(self) -> bool {
        matches!(self, Dialect::Sqlite | Dialect::Postgres)
    }

    /// How many places an `IN (...)` list of `n` ids gets in a statement built for one call:
    /// on MySQL, the next power of two (the last id repeated), so that few texts exist and
    /// stay in the connection's statement cache (see [`Backend::execute_once`]); elsewhere
    /// `n`.
    pub(crate) const fn padded(self, n: usize) -> usize {
        match self {
            Dialect::MySql => n.next_power_of_two(),
            Dialect::Sqlite | Dialect::Postgres => n,
        }
    }

    /// How many bind parameters one statement may carry.
    pub const fn max_binds(self) -> usize {
        match self {
            // SQLITE_MAX_VARIABLE_NUMBER of the bundled SQLite (3.32+).
            Dialect::Sqlite => 32_766,
            Dialect::Postgres | Dialect::MySql => 65_535,
        }
    }

    /// The clause that gives a selected row `lock` for the rest of the transaction; nothing on
    /// SQLite, whose transactions take the database's write lock when they begin.
    pub(crate) const fn lock_clause(self, lock: Lock) -> &'static str {
        match (self, lock) {
            (Dialect::Sqlite, _) => "",
            (Dialect::Postgres, Lock::KeyShare) => " FOR KEY SHARE",
            (Dialect::Postgres, Lock::Share) => " FOR SHARE",
            (Dialect::Postgres, Lock::Update) => " FOR NO KEY UPDATE",
            (Dialect::Postgres, Lock::Delete) => " FOR UPDATE",
            (Dialect::MySql, Lock::KeyShare | Lock::Share) => " LOCK IN SHARE MODE",
            (Dialect::MySql, Lock::Update | Lock::Delete) => " FOR UPDATE",
        }
    }

    /// `LIMIT`/`OFFSET` for a query; `None` means no bound. PostgreSQL and SQLite count rows
    /// in an `i64`: a larger bound is `i64::MAX`, which no table reaches.
    pub(crate) fn limit_offset(self, limit: Option<u64>, offset: Option<u64>, out: &mut String) {
        use std::fmt::Write;
        let fit = |n: u64| match self {
            Dialect::MySql => n,
            Dialect::Sqlite | Dialect::Postgres => n.min(i64::MAX.unsigned_abs()),
        };
        match (limit.map(fit), offset.map(fit)) {
            (None, None) => {}
            (Some(l), None) => {
                let _ = write!(out, " LIMIT {l}");
            }
            (limit, Some(o)) => {
                // SQLite and MySQL accept OFFSET only after a LIMIT.
                match (limit, self) {
                    (Some(l), _) => {
                        let _ = write!(out, " LIMIT {l}");
                    }
                    (None, Dialect::Sqlite) => out.push_str(" LIMIT -1"),
                    (None, Dialect::MySql) => out.push_str(" LIMIT 18446744073709551615"),
                    (None, Dialect::Postgres) => {}
                }
                let _ = write!(out, " OFFSET {o}");
            }
        }
    }

    /// The column type in DDL for a type whose driver calls it `driver_name`.
    ///
    /// `key` columns (primary and join keys) must be indexable: MySQL cannot index `TEXT`
    /// or `BLOB` without a length.
    pub(crate) fn ddl_type(self, driver_name: &str, key: bool) -> String {
        match (self, driver_name.to_ascii_uppercase().as_str()) {
            (Dialect::MySql, "VARCHAR" | "TEXT" | "CHAR" | "LONGTEXT" | "MEDIUMTEXT") => {
                if key { "VARCHAR(255)" } else { "TEXT" }.to_owned()
            }
            (Dialect::MySql, "BINARY" | "VARBINARY" | "BLOB" | "LONGBLOB" | "MEDIUMBLOB") => {
                if key { "VARBINARY(255)" } else { "BLOB" }.to_owned()
            }
            (Dialect::Sqlite, "NULL") => "BLOB".to_owned(),
            _ => driver_name.to_owned(),
        }
    }
}

/// How strongly an operation locks a model row it reads before writing links.
///
/// Every write takes its locks in one order: the rows of models (an owner before its targets,
/// targets in ascending id) before any row of a join table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Lock {
    /// The row may not be deleted or its key changed (a link to it is being written).
    KeyShare,
    /// As `KeyShare`, and no other transaction may take `Update` (writers of a pair on a
    /// join table without a unique key serialize on it).
    Share,
    /// The links of this owner are being rewritten: one writer at a time.
    Update,
    /// The row is being deleted.
    Delete,
}

impl Lock {
    /// Every lock, in the order of [`ModelStatements::locks`](crate::ModelStatements).
    pub(crate) const ALL: [Lock; 4] = [Lock::KeyShare, Lock::Share, Lock::Update, Lock::Delete];
}
