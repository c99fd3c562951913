use habtm::Model;

#[derive(Model)]
#[relation(has_and_belongs_to_many, model = "Person", name = "following",
           through_table = "Follow", foreign_key = "follower_id", key_through = "followed_id")]
#[relation(has_and_belongs_to_many, model = "Person", name = "followers",
           through_table = "Follow", foreign_key = "follower_id", key_through = "followed_id")]
struct Person {
    id: i64,
}

fn main() {}
