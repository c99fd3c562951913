use habtm::Model;

#[derive(Model)]
#[relation(
    has_and_belongs_to_many,
    model = "Part",
    through_table = "assemblies_and_their_parts_with_a_name_far_longer_than_any_database_allows"
)]
struct Assembly {
    id: i64,
}

#[derive(Model)]
struct Part {
    id: i64,
}

fn main() {}
