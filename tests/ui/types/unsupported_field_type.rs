use habtm::Model;

struct Color;

#[derive(Model)]
struct Assembly {
    id: i64,
    color: Color,
}

fn main() {}
