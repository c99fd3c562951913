use habtm::Model;

#[derive(Model)]
enum Assembly {
    Small,
    Large,
}

fn main() {}
