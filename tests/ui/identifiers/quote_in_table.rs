use habtm::Model;

#[derive(Model)]
#[model(table = "assembly\"; DROP TABLE x; --")]
struct Assembly {
    id: i64,
}

fn main() {}
