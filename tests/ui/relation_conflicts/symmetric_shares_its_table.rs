use habtm::Model;

#[derive(Model)]
#[relation(has_and_belongs_to_many, model = "Person", name = "friends", symmetric,
           through_table = "Friendship", foreign_key = "a_id", key_through = "b_id")]
#[relation(has_and_belongs_to_many, model = "Person", name = "befriended",
           through_table = "Friendship", foreign_key = "b_id", key_through = "a_id")]
struct Person {
    id: i64,
}

fn main() {}
