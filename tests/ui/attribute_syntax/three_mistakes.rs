use habtm::Model;

// Every mistake is reported in one build.
#[derive(Model)]
#[relation(has_and_belongs_to_many, name = "parts")]
#[relation(has_and_belongs_to_many, model = "Part", foriegn_key = "a_id")]
#[relation(has_and_belongs_to_many, model = "Part", name = "not an ident")]
struct Assembly {
    id: i64,
}

fn main() {}
