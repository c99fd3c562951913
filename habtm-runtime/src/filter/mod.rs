//! Typed filters: which rows, in which order, how many.
//!
//! Columns are the associated constants `#[derive(Model)]` writes (`Part::PART_NUMBER`), so a
//! misspelled column or a value of the wrong type does not compile. Values are always bound
//! as parameters, never written into the SQL text.

#[cfg(feature = "json")]
mod json;
mod node;

pub(crate) use node::{CompareOp, ListLimit, Node, Quantifier};

use std::fmt::{self, Debug};
use std::marker::PhantomData;
use std::sync::Arc;

use crate::backend::Backend;
use crate::def::{Model, Relation, RelationDef};
use crate::dialect::Dialect;
use crate::error::Result;
use crate::sql::{ROWS, SqlWriter};
use crate::value::SqlType;

/// Which rows of `M` a query returns, in which order, and how many.
///
/// `Filter::new()` (or `Filter::default()`) matches every row. Conditions added with
/// [`filter`](Self::filter) must all hold; rows come ordered by id unless
/// [`order_by`](Self::order_by) says otherwise.
///
/// ```text
/// let filter = Filter::new()
///     .filter(Part::PART_NUMBER.like("AX-%"))
///     .order_by(Part::PART_NUMBER.desc())
///     .limit(10)
///     .skip(20);
/// ```
///
/// A filter that names its [`fields`](Self::fields) is a `Filter<M, OnlyForSelect>`: it reads
/// part of each row, so only `select` takes it (returning `Partial` rows); `find` and the
/// other calls that return whole rows take a `Filter<M>`, and refuse it at compile time.
pub struct Filter<M, S = AllFields> {
    condition: Option<Node>,
    order: Vec<(usize, Direction)>,
    fields: Option<Vec<usize>>,
    limit: Option<u64>,
    skip: Option<u64>,
    model: PhantomData<fn() -> (M, S)>,
}

/// What a [`Filter`] reads of each row: every field, as `find` returns them.
#[derive(Debug)]
pub enum AllFields {}

/// What a [`Filter`] with [`fields`](Filter::fields) reads: those fields alone, which only
/// `select` can return (as `Partial` rows, the unread fields `None`); the name says so in the
/// compile error of a `find` given such a filter.
#[derive(Debug)]
pub enum OnlyForSelect {}

impl<M> Default for Filter<M> {
    fn default() -> Self {
        Filter {
            condition: None,
            order: Vec::new(),
            fields: None,
            limit: None,
            skip: None,
            model: PhantomData,
        }
    }
}

impl<M, S> Debug for Filter<M, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter")
            .field("condition", &self.condition)
            .field("order", &self.order)
            .field("fields", &self.fields)
            .field("limit", &self.limit)
            .field("skip", &self.skip)
            .finish()
    }
}

impl<M: Model> Filter<M> {
    /// A filter that matches every row.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<M: Model, S> Filter<M, S> {
    /// The same filter, reading `T`.
    fn reading<T>(self) -> Filter<M, T> {
        Filter {
            condition: self.condition,
            order: self.order,
            fields: self.fields,
            limit: self.limit,
            skip: self.skip,
            model: PhantomData,
        }
    }

    /// The same filter reading whole rows.
    #[cfg(feature = "rest")]
    pub(crate) fn without_fields(mut self) -> Self {
        self.fields = None;
        self
    }

    /// `Ok` unless the filter names fields, which a read of whole rows (`find` and the like,
    /// given a filter read from JSON) cannot honour: [`Error::InvalidFilter`] naming
    /// `select`, before anything is sent to the database.
    pub(crate) fn whole_rows(&self, op: crate::error::Op) -> Result<()> {
        match self.fields {
            None => Ok(()),
            Some(_) => Err(crate::error::Error::InvalidFilter {
                message: format!(
                    "{op} returns whole rows and cannot honour `fields`: call `select`, which returns the fields that were read"
                ),
            }),
        }
    }

    /// Keeps only rows where `condition` holds (in addition to earlier conditions).
    #[must_use]
    pub fn filter(self, condition: Condition<M>) -> Self {
        self.with_node(condition.node)
    }

    /// Keeps only the row with this id.
    #[cfg(feature = "rest")]
    pub(crate) fn with_id(self, id: &M::Id) -> Self {
        self.with_node(Node::Compare {
            column: M::def().id,
            op: CompareOp::Eq,
            value: Box::new(id.clone()),
        })
    }

    pub(crate) fn with_node(mut self, node: Node) -> Self {
        self.condition = Some(match self.condition.take() {
            None => node,
            Some(Node::All(mut all)) => {
                all.push(node);
                Node::All(all)
            }
            Some(earlier) => Node::All(vec![earlier, node]),
        });
        self
    }

    #[cfg_attr(not(feature = "json"), allow(dead_code))]
    pub(crate) fn set_order(&mut self, order: Vec<(usize, Direction)>) {
        self.order = order;
    }

    #[cfg_attr(not(feature = "json"), allow(dead_code))]
    pub(crate) fn set_fields(&mut self, fields: Vec<usize>) {
        self.fields = Some(fields);
    }

    /// Reads only these columns (and the id) with `select`: LoopBack's `fields`.
    #[must_use]
    pub fn fields<T>(
        self,
        columns: impl IntoIterator<Item = Column<M, T>>,
    ) -> Filter<M, OnlyForSelect> {
        let mut this = self.reading::<OnlyForSelect>();
        let mut chosen = vec![M::def().id];
        chosen.extend(columns.into_iter().map(|c| c.index));
        chosen.sort_unstable();
        chosen.dedup();
        this.fields = Some(chosen);
        this
    }

    /// Also reads `column` with `select`; see [`fields`](Self::fields).
    #[must_use]
    pub fn field<T>(self, column: Column<M, T>) -> Filter<M, OnlyForSelect> {
        let mut this = self.reading::<OnlyForSelect>();
        let mut chosen = this.fields.take().unwrap_or_else(|| vec![M::def().id]);
        chosen.push(column.index);
        chosen.sort_unstable();
        chosen.dedup();
        this.fields = Some(chosen);
        this
    }

    /// Whether the filter names the columns to read (`fields`).
    #[cfg_attr(not(feature = "rest"), allow(dead_code))]
    pub(crate) fn has_fields(&self) -> bool {
        self.fields.is_some()
    }

    /// Which columns a projection reads: `mask[i]` for column `i`.
    pub(crate) fn field_mask(&self) -> Vec<bool> {
        let n = M::def().columns.len();
        match &self.fields {
            None => vec![true; n],
            Some(chosen) => (0..n).map(|i| chosen.contains(&i)).collect(),
        }
    }

    /// The SQL this filter adds to a query on `M` aliased `t`, and how many parameters it
    /// binds: for logging and tests. Values never appear in the text.
    pub fn to_sql<DB: Backend>(&self) -> Result<(String, usize)> {
        let mut w = SqlWriter::new(DB::DIALECT);
        let mut args = DB::Arguments::default();
        self.write_where::<DB>(&mut w, &mut args, ROWS, "WHERE ")?;
        self.write_tail(&mut w, ROWS);
        Ok((
            w.finish().trim_start().to_owned(),
            sqlx::Arguments::len(&args),
        ))
    }

    /// Orders by `order` after any earlier keys: `Part::NAME.desc()`, or a column for ascending.
    #[must_use]
    pub fn order_by(mut self, order: impl Into<Order<M>>) -> Self {
        let order = order.into();
        self.order.push((order.column, order.direction));
        self
    }

    /// Returns at most `n` rows.
    #[must_use]
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` rows.
    #[must_use]
    pub fn skip(mut self, n: u64) -> Self {
        self.skip = Some(n);
        self
    }

    /// Appends `<prefix><condition>` when there is a condition, binding its values; the
    /// statement names `M`'s table `alias`.
    pub(crate) fn write_where<DB: Backend>(
        &self,
        w: &mut SqlWriter,
        args: &mut DB::Arguments,
        alias: &str,
        prefix: &str,
    ) -> Result<()> {
        if let Some(condition) = &self.condition {
            w.push(prefix);
            let lists = ListLimit::of(condition, DB::DIALECT);
            condition.write::<DB>(w, args, M::def(), alias, 0, lists)?;
        }
        Ok(())
    }

    /// Appends the sort keys, on `M`'s table named `alias`: those asked for, else the id.
    pub(crate) fn write_order(&self, w: &mut SqlWriter, alias: &str) {
        let def = M::def();
        if self.order.is_empty() {
            w.qualified(alias, def.id_column().name);
        }
        for (i, (column, direction)) in self.order.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.qualified(alias, def.columns[*column].name)
                .push(match direction {
                    Direction::Asc => " ASC",
                    Direction::Desc => " DESC",
                });
        }
    }

    /// Appends `ORDER BY` (the id when none was asked for), `LIMIT` and `OFFSET`; a bound
    /// past what the database takes (PostgreSQL and SQLite count rows in an `i64`) is the
    /// largest it takes, which no table reaches.
    pub(crate) fn write_tail(&self, w: &mut SqlWriter, alias: &str) {
        w.push(" ORDER BY ");
        self.write_order(w, alias);
        let dialect = w.dialect;
        dialect.limit_offset(self.limit, self.skip, &mut w.sql);
    }

    /// [`write_tail`](Self::write_tail), ordering by `key` (a qualified column holding the
    /// same ids, such as a join table's key) when none was asked for.
    pub(crate) fn write_tail_keyed(&self, w: &mut SqlWriter, alias: &str, key: (&str, &str)) {
        if !self.order.is_empty() {
            return self.write_tail(w, alias);
        }
        w.push(" ORDER BY ").qualified(key.0, key.1);
        let dialect = w.dialect;
        dialect.limit_offset(self.limit, self.skip, &mut w.sql);
    }

    /// The limit, if any.
    pub(crate) fn limit_value(&self) -> Option<u64> {
        self.limit
    }

    /// The number of rows skipped, if any.
    pub(crate) fn skip_value(&self) -> Option<u64> {
        self.skip
    }

    /// How many parameters the condition binds on `dialect`.
    pub(crate) fn bind_count(&self, dialect: Dialect) -> usize {
        self.condition
            .as_ref()
            .map_or(0, |c| c.bind_count(ListLimit::of(c, dialect)))
    }
}

/// A column of model `M` holding values of type `T`, for building conditions and orders.
pub struct Column<M, T> {
    index: usize,
    marker: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Column<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, T> Copy for Column<M, T> {}

impl<M, T> Debug for Column<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Column({})", self.index)
    }
}

impl<M, T> Column<M, T> {
    /// The column at `index` in [`ModelDef::columns`](crate::ModelDef::columns).
    #[doc(hidden)]
    pub const fn new(index: usize) -> Self {
        Column {
            index,
            marker: PhantomData,
        }
    }
}

impl<M: Model, T: SqlType + Debug> Column<M, T> {
    fn compare(self, op: CompareOp, value: impl Into<T>) -> Condition<M> {
        Condition::from(Node::Compare {
            column: self.index,
            op,
            value: Box::new(value.into()),
        })
    }

    /// `column = value`.
    pub fn eq(self, value: impl Into<T>) -> Condition<M> {
        self.compare(CompareOp::Eq, value)
    }

    /// `column <> value`.
    pub fn ne(self, value: impl Into<T>) -> Condition<M> {
        self.compare(CompareOp::Ne, value)
    }

    /// `column < value`.
    pub fn lt(self, value: impl Into<T>) -> Condition<M> {
        self.compare(CompareOp::Lt, value)
    }

    /// `column <= value`.
    pub fn le(self, value: impl Into<T>) -> Condition<M> {
        self.compare(CompareOp::Le, value)
    }

    /// `column > value`.
    pub fn gt(self, value: impl Into<T>) -> Condition<M> {
        self.compare(CompareOp::Gt, value)
    }

    /// `column >= value`.
    pub fn ge(self, value: impl Into<T>) -> Condition<M> {
        self.compare(CompareOp::Ge, value)
    }

    fn membership<V: Into<T>>(
        self,
        negated: bool,
        values: impl IntoIterator<Item = V>,
    ) -> Condition<M> {
        let values: Vec<T> = values.into_iter().map(Into::into).collect();
        Condition::from(Node::In {
            column: self.index,
            negated,
            values: Arc::new(values),
        })
    }

    /// `column IN (values)`; an empty list matches nothing. Any number of values: past what
    /// a statement may carry as parameters, PostgreSQL gets them as one array and SQLite and
    /// MySQL read them from a temporary table.
    pub fn is_in<V: Into<T>>(self, values: impl IntoIterator<Item = V>) -> Condition<M> {
        self.membership(false, values)
    }

    /// `column NOT IN (values)`; an empty list matches everything.
    pub fn not_in<V: Into<T>>(self, values: impl IntoIterator<Item = V>) -> Condition<M> {
        self.membership(true, values)
    }

    /// `column LIKE pattern` (`%` and `_` wildcards; case sensitivity is the database's).
    pub fn like(self, pattern: impl Into<String>) -> Condition<M> {
        Condition::from(Node::Like {
            column: self.index,
            negated: false,
            pattern: pattern.into(),
        })
    }

    /// `column NOT LIKE pattern`.
    pub fn not_like(self, pattern: impl Into<String>) -> Condition<M> {
        Condition::from(Node::Like {
            column: self.index,
            negated: true,
            pattern: pattern.into(),
        })
    }

    /// `column IS NULL`.
    pub fn is_null(self) -> Condition<M> {
        Condition::from(Node::Null {
            column: self.index,
            negated: false,
        })
    }

    /// `column IS NOT NULL`.
    pub fn is_not_null(self) -> Condition<M> {
        Condition::from(Node::Null {
            column: self.index,
            negated: true,
        })
    }

    /// Ascending order on this column.
    pub fn asc(self) -> Order<M> {
        Order {
            column: self.index,
            direction: Direction::Asc,
            model: PhantomData,
        }
    }

    /// Descending order on this column.
    pub fn desc(self) -> Order<M> {
        Order {
            column: self.index,
            direction: Direction::Desc,
            model: PhantomData,
        }
    }
}

/// One sort key of a [`Filter`].
pub struct Order<M> {
    column: usize,
    direction: Direction,
    model: PhantomData<fn() -> M>,
}

impl<M: Model, T: SqlType + Debug> From<Column<M, T>> for Order<M> {
    fn from(column: Column<M, T>) -> Self {
        column.asc()
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Asc,
    Desc,
}

/// A boolean condition on the columns of `M`; combine with [`and`](Self::and),
/// [`or`](Self::or) and `!`.
///
/// A comparison with a NULL column does not hold, and its negation does: `!c` matches
/// exactly the rows `c` does not (SQL's `(c) IS NOT TRUE`, not `NOT (c)`), so
/// `count_where(c) + count_where(!c)` is the number of rows.
pub struct Condition<M> {
    node: Node,
    model: PhantomData<fn() -> M>,
}

impl<M> Debug for Condition<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

impl<M> Condition<M> {
    fn from(node: Node) -> Self {
        Condition {
            node,
            model: PhantomData,
        }
    }

    /// Both conditions hold.
    #[must_use]
    pub fn and(self, other: Condition<M>) -> Self {
        Condition::all([self, other])
    }

    /// At least one of the conditions holds.
    #[must_use]
    pub fn or(self, other: Condition<M>) -> Self {
        Condition::any([self, other])
    }

    /// Every condition holds; true for none.
    pub fn all(conditions: impl IntoIterator<Item = Condition<M>>) -> Self {
        Condition::from(Node::All(conditions.into_iter().map(|c| c.node).collect()))
    }

    /// At least one condition holds; false for none.
    pub fn any(conditions: impl IntoIterator<Item = Condition<M>>) -> Self {
        Condition::from(Node::Any(conditions.into_iter().map(|c| c.node).collect()))
    }
}

impl<M> std::ops::Not for Condition<M> {
    type Output = Condition<M>;

    /// The condition does not hold (or is unknown because of a NULL).
    fn not(self) -> Self::Output {
        Condition::from(Node::Not(Box::new(self.node)))
    }
}

/// A relation, for conditions on its owner about the related rows: the constant
/// `Assembly::PARTS` that `#[derive(Model)]` writes for each relation, and what the REST
/// builder takes.
///
/// ```text
/// // assemblies with at least one part numbered B-...
/// Assembly::find(&pool, Filter::new().filter(Assembly::PARTS.some(Part::PART_NUMBER.like("B-%"))))
/// ```
pub struct RelationRef<R> {
    marker: PhantomData<fn() -> R>,
}

impl<R> Clone for RelationRef<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for RelationRef<R> {}

impl<R: Relation> Debug for RelationRef<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelationRef({})", R::def().name)
    }
}

impl<R> RelationRef<R> {
    /// The constant for relation `R`.
    #[doc(hidden)]
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        RelationRef {
            marker: PhantomData,
        }
    }
}

impl<R: Relation> RelationRef<R> {
    /// The relation's description.
    pub fn def(self) -> &'static RelationDef {
        R::def()
    }

    fn predicate(
        self,
        quantifier: Quantifier,
        condition: Option<Condition<R::Target>>,
    ) -> Condition<R::Owner> {
        Condition::from(Node::Related {
            relation: R::def,
            quantifier,
            condition: condition.map(|c| Box::new(c.node)),
            link: None,
        })
    }

    /// At least one related row matches: `EXISTS (SELECT 1 FROM <join> ... AND <condition>)`.
    pub fn some(self, condition: Condition<R::Target>) -> Condition<R::Owner> {
        self.predicate(Quantifier::Some, Some(condition))
    }

    /// No related row matches: `NOT EXISTS (... AND <condition>)`.
    pub fn none(self, condition: Condition<R::Target>) -> Condition<R::Owner> {
        self.predicate(Quantifier::None, Some(condition))
    }

    /// Every related row matches (true when there are none): `NOT EXISTS (... AND (<condition>)
    /// IS NOT TRUE)`; a row for which the condition is unknown (a NULL column) does not match.
    pub fn every(self, condition: Condition<R::Target>) -> Condition<R::Owner> {
        self.predicate(Quantifier::Every, Some(condition))
    }

    /// At least one related row exists.
    pub fn any(self) -> Condition<R::Owner> {
        self.predicate(Quantifier::Some, None)
    }

    /// No related row exists.
    pub fn is_empty(self) -> Condition<R::Owner> {
        self.predicate(Quantifier::None, None)
    }
}

impl<R: Relation> RelationRef<R> {
    /// At least one link's join row matches, for a relation `through` a join model:
    /// `Kit::COMPONENTS.some_link(KitComponent::QUANTITY.gt(Some(2)))` is the kits with a
    /// link whose quantity is over 2: `EXISTS (SELECT 1 FROM "KitComponent" AS j1 ... AND
    /// j1."quantity" > ?)`.
    pub fn some_link(self, condition: Condition<R::Link>) -> Condition<R::Owner>
    where
        R::Link: crate::def::JoinModel,
    {
        Condition::from(Node::Related {
            relation: R::def,
            quantifier: Quantifier::Some,
            condition: Some(Box::new(condition.node)),
            link: Some(<R::Link as Model>::def),
        })
    }
}
