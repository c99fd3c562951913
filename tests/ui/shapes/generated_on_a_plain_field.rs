use habtm::Model;

#[derive(Model)]
struct Assembly {
    id: i64,
    #[model(generated = true)]
    name: String,
}

fn main() {}
