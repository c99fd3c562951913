use habtm::Model;

#[derive(Model)]
#[relation(has_and_belongs_to_many, name = "parts")]
struct Assembly {
    id: i64,
}

fn main() {}
