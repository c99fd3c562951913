use habtm::Model;

#[derive(Model)]
#[relation(has_and_belongs_to_many, model = "Part")]
#[relation(has_and_belongs_to_many, model = "Part", name = "spare_parts")]
struct Assembly {
    id: i64,
}

#[derive(Model)]
struct Part {
    id: i64,
}

fn main() {}
