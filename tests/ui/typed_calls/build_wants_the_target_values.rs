use habtm::Model;

#[derive(Model)]
#[relation(has_and_belongs_to_many, model = "Part")]
pub struct Assembly {
    pub id: i64,
    pub name: String,
}

#[derive(Model)]
pub struct Part {
    pub id: i64,
    pub part_number: String,
}

fn main() {
    let assembly = Assembly { id: 1, name: String::new() };
    let _ = assembly.parts().build(NewAssembly { name: "not a part".into() });
}
