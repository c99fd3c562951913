use habtm::{Filter, Model};

#[derive(Model)]
struct Part {
    id: i64,
    part_number: String,
}

fn main() {
    let _ = Filter::new().filter(Part::PART_NUMBR.eq("X-1"));
}
