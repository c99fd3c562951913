use habtm::Model;

#[derive(Model)]
struct Assembly {
    id: i64,
    name: String,
    #[model(column = "name")]
    label: String,
}

fn main() {}
