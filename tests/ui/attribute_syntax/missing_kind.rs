use habtm::Model;

#[derive(Model)]
#[relation(model = "Part")]
struct Assembly {
    id: i64,
}

#[derive(Model)]
struct Part {
    id: i64,
}

fn main() {}
