use habtm::Model;

#[derive(Model)]
#[relation(has_and_belongs_to_many, model = "Part", name = "find")]
#[relation(has_and_belongs_to_many, model = "Part", name = "count", through_table = "Counted")]
struct Assembly {
    id: i64,
}

#[derive(Model)]
struct Part {
    id: i64,
}

fn main() {}
