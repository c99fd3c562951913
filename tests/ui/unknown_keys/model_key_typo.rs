use habtm::Model;

#[derive(Model)]
#[model(tabel = "assemblies")]
struct Assembly {
    id: i64,
}

fn main() {}
