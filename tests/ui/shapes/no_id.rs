use habtm::Model;

#[derive(Model)]
struct Assembly {
    key: i64,
    name: String,
}

fn main() {}
