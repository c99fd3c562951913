use habtm::Model;

#[derive(Model)]
struct Assembly<T> {
    id: i64,
    extra: T,
}

fn main() {}
