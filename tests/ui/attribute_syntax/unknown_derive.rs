use habtm::Model;

// A derive that does not exist, asked of the generated structs.
#[derive(Model)]
#[model(derive(Clone, Cloneable))]
struct Gizmo {
    id: i64,
    name: String,
}

fn main() {}
