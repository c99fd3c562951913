//! The hand-written SQL: the statements habtm runs for `Assembly hasAndBelongsToMany Part`,
//! written out by hand (checked against what habtm sends before any timing).

/// The statements of one dialect; `pg` numbers placeholders `$1, $2, ...` instead of `?`.
/// On MySQL (`mysql`, a session with `ANSI_QUOTES`) only the set-up's statements are used:
/// habtm is compared with SeaORM there, not with its own statements by hand.
pub struct Sql {
    pub pg: bool,
    pub mysql: bool,
    /// `assembly.parts().all()` and `.find(Filter::new())`.
    pub all: &'static str,
    pub find_by_id: &'static str,
    pub count: &'static str,
    /// Links an existing part in one statement that reads both rows and skips an existing
    /// link: binds owner, part. SQLite writes the link or nothing; PostgreSQL answers one row:
    /// how many links it wrote, whether the owner exists, whether the part exists.
    pub add: &'static str,
    /// How many rows have the owner's id and the part's (0 or 1 each): binds owner, part.
    /// Run when SQLite's `add` wrote nothing, to tell a link that exists from a missing row.
    pub parents: &'static str,
    /// Links a new part: binds part, owner.
    pub link_new: &'static str,
    pub remove: &'static str,
    pub exists: &'static str,
    pub ids: &'static str,
    pub insert_part: &'static str,
    /// Keeps the owner's row from being deleted until the transaction ends (`add_many`).
    pub share_owner: &'static str,
    /// Locks the owner's row against other writers of its links (`set`).
    pub lock_owner: &'static str,
    /// The best SQL for `add_many`, habtm's or not: one statement inserting the ids of one
    /// parameter, skipping existing links, with no check that the parts exist (the join
    /// table's foreign key does it): binds owner, ids.
    pub best_add_many: &'static str,
    /// With `best_add_many` for the rest, the best SQL for `set` (PostgreSQL and SQLite):
    /// the links not in the list deleted in one statement: binds owner, ids.
    pub best_set_delete: Option<&'static str>,
}

/// The linked parts: a join from the join table, whose primary key holds each pair once and
/// in order (habtm reads a table without such a key through a semi-join instead).
const FROM_LINKED: &str = r#" FROM "AssemblyPart" AS j INNER JOIN "Part" AS t ON t."id" = j."part_id" WHERE j."assembly_id" = ?"#;

/// The link of owner and part, read from both rows: nothing when one is missing.
const LINK_BOTH: &str = r#"INSERT INTO "AssemblyPart" ("assembly_id", "part_id") SELECT o."id", t."id" FROM "Assembly" AS o, "Part" AS t WHERE o."id" = ? AND t."id" = ?"#;

/// The owner's row, to lock; SQLite takes no row locks (its transaction holds the database's
/// write lock from `BEGIN IMMEDIATE`), so the statement only tells whether the row exists.
const OWNER_ROW: &str = r#"SELECT 1 FROM "Assembly" WHERE "id" = ?"#;

impl Sql {
    pub fn new(pg: bool, mysql: bool) -> Sql {
        let fixed = |text: String| -> &'static str { Box::leak(numbered(&text, pg).into()) };
        Sql {
            pg,
            mysql,
            all: fixed(format!(r#"SELECT t."id", t."part_number"{FROM_LINKED} ORDER BY j."part_id""#)),
            find_by_id: fixed(format!(r#"SELECT t."id", t."part_number"{FROM_LINKED} AND j."part_id" = ?"#)),
            count: fixed(r#"SELECT COUNT(*) FROM "AssemblyPart" WHERE "assembly_id" = ?"#.into()),
            add: fixed(if pg {
                // The answer reads the two ids again, by number ($1, $2).
                format!(
                    r#"WITH linked AS ({LINK_BOTH} FOR KEY SHARE OF o, t ON CONFLICT DO NOTHING RETURNING 1) SELECT (SELECT COUNT(*) FROM linked), EXISTS (SELECT 1 FROM "Assembly" WHERE "id" = $1), EXISTS (SELECT 1 FROM "Part" WHERE "id" = $2)"#
                )
            } else {
                format!(
                    r#"{LINK_BOTH} AND NOT EXISTS (SELECT 1 FROM "AssemblyPart" AS l WHERE l."assembly_id" = o."id" AND l."part_id" = t."id") ON CONFLICT DO NOTHING"#
                )
            }),
            parents: fixed(
                r#"SELECT (SELECT COUNT(*) FROM "Assembly" WHERE "id" = ?), (SELECT COUNT(*) FROM "Part" WHERE "id" = ?)"#.into(),
            ),
            link_new: fixed(format!(
                r#"INSERT INTO "AssemblyPart" ("assembly_id", "part_id") SELECT o."id", ? FROM "Assembly" AS o WHERE o."id" = ?{}"#,
                key_share(pg)
            )),
            remove: fixed(
                r#"DELETE FROM "AssemblyPart" WHERE "assembly_id" = ? AND "part_id" = ?"#.into(),
            ),
            exists: fixed(
                r#"SELECT 1 FROM "AssemblyPart" WHERE "assembly_id" = ? AND "part_id" = ?"#.into(),
            ),
            ids: fixed(
                r#"SELECT "part_id" FROM "AssemblyPart" WHERE "assembly_id" = ? ORDER BY "part_id""#.into(),
            ),
            insert_part: fixed(
                r#"INSERT INTO "Part" ("part_number") VALUES (?) RETURNING "id", "part_number""#
                    .into(),
            ),
            share_owner: fixed(format!("{OWNER_ROW}{}", key_share(pg))),
            lock_owner: fixed(format!(
                "{OWNER_ROW}{}",
                if pg { " FOR NO KEY UPDATE" } else { "" }
            )),
            best_add_many: if pg {
                r#"INSERT INTO "AssemblyPart" ("assembly_id", "part_id") SELECT $1, unnest($2::INT8[]) ON CONFLICT DO NOTHING"#
            } else if mysql {
                r#"INSERT IGNORE INTO "AssemblyPart" ("assembly_id", "part_id") SELECT ?, ids.id FROM JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$')) AS ids"#
            } else {
                // (`WHERE TRUE` tells SQLite's parser the ON is not a join's.)
                r#"INSERT INTO "AssemblyPart" ("assembly_id", "part_id") SELECT ?, value FROM json_each(?) WHERE TRUE ON CONFLICT DO NOTHING"#
            },
            best_set_delete: if pg {
                Some(r#"DELETE FROM "AssemblyPart" WHERE "assembly_id" = $1 AND "part_id" NOT IN (SELECT unnest($2::INT8[]))"#)
            } else if mysql {
                // A anti-join with `JSON_TABLE`, which has no index, reads the list once per
                // link: no single statement of MySQL's is better than habtm's difference.
                None
            } else {
                Some(r#"DELETE FROM "AssemblyPart" WHERE "assembly_id" = ? AND "part_id" NOT IN (SELECT value FROM json_each(?))"#)
            },
        }
    }

    /// `prefix` followed by `rows` tuples of `columns` placeholders (set-up only).
    pub fn values(&self, prefix: &str, columns: usize, rows: usize) -> String {
        let mut w = Writer::new(self.pg);
        w.push(prefix);
        for i in 0..rows {
            if i > 0 {
                w.push(", ");
            }
            w.list(columns);
        }
        w.sql
    }

    /// A plain multi-row insert of one owner's links to `n` parts, skipping existing links:
    /// binds owner, part pairs.
    pub fn insert_values(&self, n: usize) -> String {
        let mut w = Writer::new(self.pg);
        w.push(if self.mysql {
            "INSERT IGNORE INTO "
        } else {
            "INSERT INTO "
        });
        w.push(r#""AssemblyPart" ("assembly_id", "part_id") VALUES "#);
        for i in 0..n {
            if i > 0 {
                w.push(", ");
            }
            w.list(2);
        }
        if !self.mysql {
            w.push(" ON CONFLICT DO NOTHING");
        }
        w.sql
    }
}

/// PostgreSQL's statements over a list of part ids bound as one `INT8[]` parameter, as habtm
/// writes them there: one text whatever the number of ids.
pub mod arrays {
    /// Which of the parts exist, in ascending order, keeping them from being deleted until
    /// the links are written: binds the ids.
    pub const LOCK_PARTS: &str = r#"SELECT "id" FROM "Part" WHERE "id" IN (SELECT unnest($1::INT8[])) ORDER BY "id" FOR KEY SHARE"#;
    /// Links one owner to the parts, skipping existing links: binds owner, ids.
    pub const INSERT_LINKS: &str = r#"INSERT INTO "AssemblyPart" ("assembly_id", "part_id") SELECT $1, t."id" FROM "Part" AS t WHERE t."id" IN (SELECT unnest($2::INT8[])) ORDER BY t."id" ON CONFLICT DO NOTHING"#;
    /// The parts of many owners (eager loading): binds the owners' ids.
    pub const LOAD: &str = r#"SELECT j."assembly_id" AS habtm_owner, t."id", t."part_number" FROM "Part" AS t INNER JOIN "AssemblyPart" AS j ON j."part_id" = t."id" WHERE j."assembly_id" IN (SELECT unnest($1::INT8[])) ORDER BY j."assembly_id", t."id""#;
    /// Unlinks the parts from one owner: binds owner, ids.
    pub const DELETE_LINKS: &str = r#"DELETE FROM "AssemblyPart" WHERE "assembly_id" = $1 AND "part_id" IN (SELECT unnest($2::INT8[]))"#;
    /// `add_many` in one statement: the owner locked, the parts read (the join table's
    /// foreign key locks each as its link is inserted); the links inserted if every part
    /// exists. Answers whether the owner exists, how many links are new, and the first id
    /// without a part: binds owner, ids.
    pub const ADD_MANY: &str = r#"WITH o AS (SELECT "id" FROM "Assembly" WHERE "id" = $1 FOR KEY SHARE), t AS (SELECT "id" FROM "Part" WHERE "id" IN (SELECT unnest($2::INT8[])) AND EXISTS (SELECT 1 FROM o)), l AS (INSERT INTO "AssemblyPart" ("assembly_id", "part_id") SELECT $1, t."id" FROM t WHERE (SELECT COUNT(*) FROM t) = cardinality($2::INT8[]) ORDER BY t."id" ON CONFLICT DO NOTHING RETURNING 1) SELECT EXISTS (SELECT 1 FROM o), (SELECT COUNT(*) FROM l), CASE WHEN NOT (SELECT COUNT(*) FROM t) = cardinality($2::INT8[]) THEN (SELECT w.id FROM unnest($2::INT8[]) WITH ORDINALITY AS w(id, n) WHERE w.id NOT IN (SELECT "id" FROM t) ORDER BY w.n LIMIT 1) END"#;
    /// `set`'s writes in one statement, once the owner is locked: the parts not linked yet
    /// locked, the links not wanted deleted and the new ones inserted if every part exists.
    /// Answers the first id without a part: binds owner, ids.
    pub const SET: &str = r#"WITH c AS (SELECT "part_id" AS id FROM "AssemblyPart" WHERE "assembly_id" = $1), x AS (SELECT c.id AS cur, w.id AS want FROM c FULL JOIN unnest($2::INT8[]) AS w(id) ON c.id = w.id WHERE c.id IS NULL OR w.id IS NULL), t AS (SELECT "id" FROM "Part" WHERE "id" IN (SELECT want FROM x) ORDER BY "id" FOR KEY SHARE), ok AS (SELECT (SELECT COUNT(*) FROM t) = (SELECT COUNT(want) FROM x) AS ok), d AS (DELETE FROM "AssemblyPart" WHERE "assembly_id" = $1 AND "part_id" IN (SELECT cur FROM x) AND (SELECT ok FROM ok)), l AS (INSERT INTO "AssemblyPart" ("assembly_id", "part_id") SELECT $1, t."id" FROM t WHERE (SELECT ok FROM ok) ORDER BY t."id" ON CONFLICT DO NOTHING RETURNING 1) SELECT CASE WHEN NOT (SELECT ok FROM ok) THEN (SELECT w.id FROM unnest($2::INT8[]) WITH ORDINALITY AS w(id, n) WHERE w.id IN (SELECT want FROM x) AND w.id NOT IN (SELECT "id" FROM t) ORDER BY w.n LIMIT 1) END"#;
    /// `create` in one statement: the owner locked, the part inserted if it exists, and
    /// linked; no row when the owner is missing: binds owner, part number.
    pub const CREATE: &str = r#"WITH o AS (SELECT "id" FROM "Assembly" WHERE "id" = $1 FOR KEY SHARE), r AS (INSERT INTO "Part" ("part_number") SELECT $2 FROM o RETURNING "id", "part_number"), l AS (INSERT INTO "AssemblyPart" ("assembly_id", "part_id") SELECT o."id", r."id" FROM o, r) SELECT r."id", r."part_number" FROM r"#;
}

/// SQLite's statements over a list of part ids bound as one JSON text, read with
/// `json_each`, as habtm writes them there.
pub mod json {
    /// How many of the parts exist (SQLite takes no row locks): binds the ids.
    pub const COUNT_PARTS: &str =
        r#"SELECT COUNT(*) FROM "Part" WHERE "id" IN (SELECT value FROM json_each(?))"#;
    /// Links one owner to the parts, skipping existing links (the join table's primary key):
    /// binds owner, ids.
    pub const INSERT_LINKS: &str = r#"INSERT INTO "AssemblyPart" ("assembly_id", "part_id") SELECT ?, t."id" FROM "Part" AS t WHERE t."id" IN (SELECT value FROM json_each(?)) ORDER BY t."id" ON CONFLICT DO NOTHING"#;
    /// Unlinks the parts from one owner: binds owner, ids.
    pub const DELETE_LINKS: &str = r#"DELETE FROM "AssemblyPart" WHERE "assembly_id" = ? AND "part_id" IN (SELECT value FROM json_each(?))"#;
    /// The parts of many owners (eager loading): binds the owners' ids.
    pub const LOAD: &str = r#"SELECT j."assembly_id" AS habtm_owner, t."id", t."part_number" FROM "Part" AS t INNER JOIN "AssemblyPart" AS j ON j."part_id" = t."id" WHERE j."assembly_id" IN (SELECT value FROM json_each(?)) ORDER BY j."assembly_id", t."id""#;
}

/// Builds a statement, numbering placeholders on PostgreSQL.
struct Writer {
    pg: bool,
    sql: String,
    binds: usize,
}

impl Writer {
    fn new(pg: bool) -> Writer {
        Writer {
            pg,
            sql: String::with_capacity(256),
            binds: 0,
        }
    }

    fn push(&mut self, text: &str) {
        self.sql.push_str(text);
    }

    fn param(&mut self) {
        self.binds += 1;
        if self.pg {
            use std::fmt::Write;
            let _ = write!(self.sql, "${}", self.binds);
        } else {
            self.sql.push('?');
        }
    }

    fn list(&mut self, n: usize) {
        self.sql.push('(');
        for i in 0..n {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.param();
        }
        self.sql.push(')');
    }
}

/// PostgreSQL's lock that keeps a row from being deleted while a link to it is written.
fn key_share(pg: bool) -> &'static str {
    if pg { " FOR KEY SHARE" } else { "" }
}

/// `text` with its `?` placeholders numbered `$1, $2, ...` when `pg`.
fn numbered(text: &str, pg: bool) -> String {
    let mut w = Writer::new(pg);
    for (i, piece) in text.split('?').enumerate() {
        if i > 0 {
            w.param();
        }
        w.push(piece);
    }
    w.sql
}
