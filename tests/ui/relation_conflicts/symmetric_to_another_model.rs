use habtm::Model;

#[derive(Model)]
#[relation(has_and_belongs_to_many, model = "Part", symmetric)]
struct Assembly {
    id: i64,
}

#[derive(Model)]
struct Part {
    id: i64,
}

fn main() {}
