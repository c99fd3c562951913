use habtm::Model;

#[derive(Model)]
struct Assembly {
    #[model(colum = "assembly_name")]
    name: String,
    id: i64,
}

fn main() {}
