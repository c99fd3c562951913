use habtm::Model;

#[derive(Model)]
struct Assembly {
    #[model(id)]
    key: i64,
    #[model(id)]
    other: i64,
}

fn main() {}
