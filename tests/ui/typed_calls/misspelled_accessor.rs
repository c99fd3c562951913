use habtm::Model;

#[derive(Model)]
#[relation(has_and_belongs_to_many, model = "Part")]
struct Assembly {
    id: i64,
}

#[derive(Model)]
#[relation(has_and_belongs_to_many, model = "Assembly")]
struct Part {
    id: i64,
}

fn main() {
    let assembly = Assembly { id: 1 };
    let _ = assembly.prts();
}
