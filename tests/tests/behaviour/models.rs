//! The models the behaviour tests share.

use habtm::sqlx::Pool;
use habtm::{Backend, Model, Schema};

#[derive(Debug, Clone, PartialEq, Model)]
#[model(plural = "Assemblies")]
#[relation(has_and_belongs_to_many, model = "Part")]
pub struct Assembly {
    pub id: i64,
    pub name: String,
}

// Clippy mistakes repeated derive attributes for duplicates (rust-clippy#13238).
#[allow(clippy::duplicated_attributes)]
#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Assembly")]
#[relation(has_and_belongs_to_many, model = "Part", name = "subparts")]
pub struct Part {
    pub id: i64,
    pub part_number: String,
    /// A column named with a reserved word.
    pub order: Option<i32>,
}

/// Creates the tables of `Assembly` and `Part`.
pub async fn schema<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    Schema::new()
        .model::<Assembly>()
        .model::<Part>()
        .create_all(pool)
        .await
}

pub fn new_part(number: &str) -> NewPart {
    NewPart {
        part_number: number.to_owned(),
        order: None,
    }
}

pub fn new_assembly(name: &str) -> NewAssembly {
    NewAssembly {
        name: name.to_owned(),
    }
}

/// Two relations between one pair: one through a renamed table with custom keys, one with
/// the defaults.
#[allow(clippy::duplicated_attributes)]
#[derive(Debug, Clone, PartialEq, Model)]
#[relation(
    has_and_belongs_to_many,
    model = "Gadget",
    through_table = "widget_gadget_links",
    foreign_key = "widget_ref",
    key_through = "gadget_ref"
)]
#[relation(has_and_belongs_to_many, model = "Gadget", name = "spare_gadgets")]
pub struct Widget {
    pub id: i64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[relation(
    has_and_belongs_to_many,
    model = "Widget",
    through_table = "widget_gadget_links",
    foreign_key = "gadget_ref",
    key_through = "widget_ref"
)]
pub struct Gadget {
    pub id: i64,
    pub label: String,
}

/// A caller-supplied string key, a renamed table, a column named with a reserved word and a
/// raw identifier.
#[derive(Debug, Clone, PartialEq, Model)]
#[model(table = "tags")]
#[relation(has_and_belongs_to_many, model = "Part", name = "tagged_parts")]
pub struct Tag {
    #[model(id)]
    pub code: String,
    #[model(column = "desc")]
    pub description: Option<String>,
    pub r#type: String,
}

pub async fn all_tables<DB: Backend>(pool: &Pool<DB>) -> habtm::Result<()> {
    Schema::new()
        .model::<Assembly>()
        .model::<Part>()
        .model::<Widget>()
        .model::<Gadget>()
        .model::<Tag>()
        .create_all(pool)
        .await
}

/// A newtype id the database generates (it converts from `i64`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, habtm::sqlx::Type, serde::Serialize, serde::Deserialize,
)]
#[sqlx(transparent)]
pub struct ShelfId(pub i64);

impl From<i64> for ShelfId {
    fn from(id: i64) -> Self {
        ShelfId(id)
    }
}

/// A newtype over a uuid, supplied by the caller.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, habtm::sqlx::Type, serde::Serialize, serde::Deserialize,
)]
#[sqlx(transparent)]
pub struct BookId(pub uuid::Uuid);

#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Book")]
pub struct Shelf {
    #[model(id, generated = true)]
    pub id: ShelfId,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Shelf")]
pub struct Book {
    pub id: BookId,
    pub title: String,
}
