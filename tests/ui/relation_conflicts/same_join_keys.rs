use habtm::Model;

#[derive(Model)]
#[relation(has_and_belongs_to_many, model = "Part", name = "subparts", key_through = "part_id")]
struct Part {
    id: i64,
}

fn main() {}
