use habtm::Model;

#[derive(Model)]
struct Assembly {
    id: i64,
    #[model(column = "")]
    name: String,
}

fn main() {}
