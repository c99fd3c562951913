use habtm::{Filter, Model};

#[derive(Model)]
struct Part {
    id: i64,
    part_number: String,
}

fn main() {
    let _ = Filter::new().filter(Part::ID.eq("seven"));
}
