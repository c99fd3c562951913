//! Random JSON never panics the filter parser, and never reaches the SQL text: it is either
//! a clear `InvalidFilter`, or SQL in which every value is a bind parameter.

use habtm::sqlx;
use habtm::{Error, Filter, Model};
use proptest::prelude::*;
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Model)]
pub struct Part {
    pub id: i64,
    pub part_number: String,
    pub weight: Option<f64>,
    pub active: bool,
}

/// Keys a LoopBack filter uses, some column names, and noise.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("where"),
        Just("order"),
        Just("limit"),
        Just("skip"),
        Just("offset"),
        Just("fields"),
        Just("and"),
        Just("or"),
        Just("id"),
        Just("partNumber"),
        Just("part_number"),
        Just("weight"),
        Just("active"),
        Just("eq"),
        Just("neq"),
        Just("gt"),
        Just("gte"),
        Just("lt"),
        Just("lte"),
        Just("between"),
        Just("inq"),
        Just("nin"),
        Just("like"),
        Just("nlike"),
        Just("'; DROP TABLE x; --"),
    ]
    .prop_map(str::to_owned)
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-zA-Z0-9 '\"%_;-]{0,12}".prop_map(Value::from),
        Just(json!("partNumber DESC")),
        Just(json!("x' OR '1'='1")),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every string the input holds, however deep.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fn check(input: &Value) {
    match Filter::<Part>::from_json_value(input) {
        Err(Error::InvalidFilter { message }) => assert!(!message.is_empty()),
        Err(other) => panic!("only InvalidFilter is expected, got {other}"),
        Ok(filter) => {
            let (sql, binds) = filter.to_sql::<sqlx::Sqlite>().expect("renders");
            assert!(!sql.contains('\''), "no literal reaches the SQL: {sql}");
            assert_eq!(
                sql.matches('?').count(),
                binds,
                "one placeholder per value: {sql}"
            );
            let mut texts = Vec::new();
            strings(input, &mut texts);
            for text in texts.iter().filter(|t| t.contains(['\'', ';', '%'])) {
                assert!(!sql.contains(text.as_str()), "{text:?} leaked into {sql}");
            }
            let (pg, pg_binds) = filter.to_sql::<sqlx::Postgres>().expect("renders");
            assert_eq!(pg_binds, binds);
            assert_eq!(pg.matches('$').count(), binds, "{pg}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn random_json_is_an_error_or_bound_sql(input in value()) {
        check(&input);
    }

    #[test]
    fn random_where_clauses_are_an_error_or_bound_sql(clause in prop::collection::btree_map(key(), value(), 0..4)) {
        check(&json!({ "where": Value::Object(clause.into_iter().collect()) }));
    }
}

#[test]
fn valid_filters_bind_every_value() {
    let input = json!({
        "where": {"or": [{"partNumber": {"like": "x' OR 1=1 --"}}, {"id": {"inq": [1, 2, 3]}}], "weight": {"between": [0.5, 2.5]}},
        "order": ["partNumber DESC", "id"],
        "limit": 10,
        "skip": 5
    });
    let filter = Filter::<Part>::from_json_value(&input).unwrap();
    let (sql, binds) = filter.to_sql::<sqlx::Sqlite>().unwrap();
    assert_eq!(binds, 6);
    assert_eq!(
        sql,
        "WHERE ((t.\"part_number\" LIKE ? OR t.\"id\" IN (?, ?, ?)) AND (t.\"weight\" >= ? AND t.\"weight\" <= ?)) \
         ORDER BY t.\"part_number\" DESC, t.\"id\" ASC LIMIT 10 OFFSET 5"
    );
}

/// The generator reaches both outcomes, so the properties above test something.
#[test]
fn the_generator_makes_valid_and_invalid_filters() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = prop::collection::btree_map(key(), value(), 0..4);
    let (mut valid, mut invalid) = (0, 0);
    for _ in 0..2_000 {
        let clause = strategy.new_tree(&mut runner).unwrap().current();
        match Filter::<Part>::from_json_value(
            &json!({ "where": Value::Object(clause.into_iter().collect()) }),
        ) {
            Ok(_) => valid += 1,
            Err(_) => invalid += 1,
        }
    }
    assert!(
        valid > 20 && invalid > 20,
        "valid {valid}, invalid {invalid}"
    );
}
