use habtm::Model;

#[derive(Model)]
struct Assembly(i64, String);

fn main() {}
