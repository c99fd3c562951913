use habtm::{Filter, Model};

#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Part")]
struct Assembly {
    id: i64,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Assembly")]
struct Part {
    id: i64,
    part_number: String,
}

// `parts` has no join model: there is no join row to filter on.
fn main() {
    let _ = Filter::<Assembly>::new()
        .filter(Assembly::PARTS.some_link(Part::PART_NUMBER.eq("x".to_owned())));
}
