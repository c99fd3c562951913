//! LoopBack's JSON filters, including the reference's own filter cases, and projections.

use habtm::sqlx::Pool;
use habtm::{Backend, Error, Filter, Result};

use crate::models::*;

/// An engine with parts P-1 .. P-5 (orders 5 .. 1), and an unlinked part X.
async fn engine<DB: Backend>(pool: &Pool<DB>) -> Result<(Assembly, Vec<Part>, Part)> {
    schema(pool).await?;
    let engine = Assembly::create(pool, new_assembly("engine")).await?;
    let mut parts = Vec::new();
    for i in 1..=5 {
        let data = NewPart {
            part_number: format!("P-{i}"),
            order: Some(6 - i),
        };
        parts.push(engine.parts().create(pool, data).await?);
    }
    let unlinked = Part::create(pool, new_part("X")).await?;
    Ok((engine, parts, unlinked))
}

fn json<M: habtm::JsonModel>(text: &str) -> Filter<M> {
    Filter::from_json(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn numbers(parts: &[Part]) -> Vec<&str> {
    parts.iter().map(|p| p.part_number.as_str()).collect()
}

/// The reference's cases: skip, order DESC, limit, where by id / name / inq, and an unlinked
/// id that yields nothing.
async fn loopback_filter_cases<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let (engine, parts, unlinked) = engine(pool).await?;
    let parts_of_engine = engine.parts();
    let find = |text: &str| parts_of_engine.find(pool, json(text));
    assert_eq!(numbers(&find(r#"{"skip": 3}"#).await?), ["P-4", "P-5"]);
    assert_eq!(
        numbers(&find(r#"{"order": "partNumber DESC"}"#).await?),
        ["P-5", "P-4", "P-3", "P-2", "P-1"]
    );
    assert_eq!(
        numbers(&find(r#"{"order": ["order ASC"], "limit": 2}"#).await?),
        ["P-5", "P-4"]
    );
    assert_eq!(
        numbers(&find(r#"{"limit": "2", "offset": "1"}"#).await?),
        ["P-2", "P-3"]
    );
    let by_id = format!(r#"{{"where": {{"id": {}}}}}"#, parts[2].id);
    assert_eq!(numbers(&find(&by_id).await?), ["P-3"]);
    assert_eq!(
        numbers(&find(r#"{"where": {"partNumber": "P-2"}}"#).await?),
        ["P-2"]
    );
    assert_eq!(
        numbers(&find(r#"{"where": {"part_number": "P-2"}}"#).await?),
        ["P-2"],
        "Rust names work too"
    );
    let inq = format!(
        r#"{{"where": {{"id": {{"inq": [{}, {}, {}]}}}}}}"#,
        parts[0].id, parts[4].id, unlinked.id
    );
    assert_eq!(numbers(&find(&inq).await?), ["P-1", "P-5"]);
    let unlinked_id = format!(r#"{{"where": {{"id": {}}}}}"#, unlinked.id);
    assert!(
        find(&unlinked_id).await?.is_empty(),
        "a part not linked to the engine"
    );
    Ok(())
}

async fn every_operator<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let (engine, _, _) = engine(pool).await?;
    let parts_of_engine = engine.parts();
    let find = |text: &str| parts_of_engine.find(pool, json(text));
    let cases = [
        (r#"{"where": {"order": {"gt": 3}}}"#, vec!["P-1", "P-2"]),
        (
            r#"{"where": {"order": {"gte": 3}}}"#,
            vec!["P-1", "P-2", "P-3"],
        ),
        (r#"{"where": {"order": {"lt": 2}}}"#, vec!["P-5"]),
        (r#"{"where": {"order": {"lte": 2}}}"#, vec!["P-4", "P-5"]),
        (
            r#"{"where": {"order": {"neq": 1}}}"#,
            vec!["P-1", "P-2", "P-3", "P-4"],
        ),
        (
            r#"{"where": {"order": {"between": [2, 3]}}}"#,
            vec!["P-3", "P-4"],
        ),
        (
            r#"{"where": {"order": {"nin": [1, 2, 3]}}}"#,
            vec!["P-1", "P-2"],
        ),
        (
            r#"{"where": {"partNumber": {"like": "P-%"}, "order": {"gt": 4}}}"#,
            vec!["P-1"],
        ),
        (
            r#"{"where": {"partNumber": {"nlike": "%-1"}, "order": {"gt": 3}}}"#,
            vec!["P-2"],
        ),
        (
            r#"{"where": {"or": [{"order": 1}, {"partNumber": "P-1"}]}}"#,
            vec!["P-1", "P-5"],
        ),
        (
            r#"{"where": {"and": [{"order": {"gt": 1}}, {"order": {"lt": 4}}]}}"#,
            vec!["P-3", "P-4"],
        ),
        (r#"{"where": {"order": {"gt": 1, "lt": 3}}}"#, vec!["P-4"]),
        (r#"{"where": {"order": null}}"#, vec![]),
        (
            r#"{"where": {"order": {"neq": null}}, "limit": 1}"#,
            vec!["P-1"],
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(numbers(&find(text).await?), expected, "{text}");
    }
    let count = engine
        .parts()
        .count_where(pool, Filter::from_json_where(r#"{"order": {"lte": 2}}"#)?)
        .await?;
    assert_eq!(count, 2);
    Ok(())
}

/// LoopBack's `fields`: only those columns are read; the id always is.
async fn fields_read_only_some_columns<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let (engine, parts, _) = engine(pool).await?;
    // Calls that return whole rows refuse them (a typed filter with fields does not compile).
    let refused = engine
        .parts()
        .find(pool, json(r#"{"fields": ["partNumber"]}"#))
        .await;
    assert!(
        matches!(&refused, Err(Error::InvalidFilter { message }) if message.contains("call `select`")),
        "{refused:?}"
    );
    let refused = Part::find(pool, json(r#"{"fields": ["partNumber"]}"#)).await;
    assert!(matches!(refused, Err(Error::InvalidFilter { .. })));
    let partial = engine
        .parts()
        .select(pool, json(r#"{"fields": ["partNumber"], "limit": 1}"#))
        .await?;
    assert_eq!(partial.len(), 1);
    assert_eq!(partial[0].id, Some(parts[0].id));
    assert_eq!(partial[0].part_number.as_deref(), Some("P-1"));
    assert_eq!(partial[0].order, None, "not read");
    let partial = engine
        .parts()
        .select(
            pool,
            json(r#"{"fields": {"partNumber": false}, "skip": 4}"#),
        )
        .await?;
    assert_eq!(
        (
            partial[0].id,
            partial[0].part_number.clone(),
            partial[0].order
        ),
        (Some(parts[4].id), None, Some(Some(1)))
    );
    let typed = Filter::new()
        .fields([Part::ORDER])
        .filter(Part::PART_NUMBER.eq("P-2"));
    let partial = Part::select(pool, typed).await?;
    assert_eq!(
        (
            partial[0].id,
            partial[0].part_number.is_none(),
            partial[0].order
        ),
        (Some(parts[1].id), true, Some(Some(4)))
    );
    let everything = engine.parts().select(pool, Filter::new()).await?;
    assert!(
        everything
            .iter()
            .all(|p| p.id.is_some() && p.part_number.is_some() && p.order.is_some())
    );
    Ok(())
}

fn message(result: Result<Filter<Part>>) -> String {
    match result {
        Err(Error::InvalidFilter { message }) => message,
        Err(other) => panic!("expected InvalidFilter, got {other}"),
        Ok(filter) => panic!("expected an error, got {filter:?}"),
    }
}

/// Bad filters fail before any SQL is sent, naming the key and the valid choices.
async fn bad_filters_are_named<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    let _ = pool;
    let m = |text: &str| message(Filter::from_json(text));
    assert!(
        m("{\"where\": ").starts_with("the filter is not valid JSON"),
        "{}",
        m("{\"where\": ")
    );
    assert_eq!(
        m(r#"{"wher": {}}"#),
        "unknown filter key `wher`; the keys are where, order, limit, skip, offset, fields"
    );
    assert_eq!(
        m(r#"{"where": {"partNumbr": "x"}}"#),
        "where.partNumbr: `partNumbr` is not a property of Part; the properties are id, partNumber, order"
    );
    assert!(m(r#"{"where": {"id": "seven"}}"#).starts_with("where.id: a string does not fit `id`"));
    assert!(
        m(r#"{"where": {"order": {"gt": "x"}}}"#)
            .starts_with("where.order.gt: a string does not fit `order`")
    );
    assert_eq!(
        m(r#"{"where": {"id": {"greater": 1}}}"#),
        "where.id.greater: unknown operator `greater`; the operators are eq, neq, gt, gte, lt, lte, between, inq, nin, like, nlike"
    );
    assert_eq!(
        m(r#"{"where": {"id": {"inq": 3}}}"#),
        "where.id.inq: expected an array, found a number"
    );
    assert_eq!(
        m(r#"{"where": {"id": {"between": [1]}}}"#),
        "where.id.between: expected an array of two bounds, found an array"
    );
    assert_eq!(
        m(r#"{"order": "partNumber SIDEWAYS"}"#),
        "order: `SIDEWAYS` is not a direction; use ASC or DESC"
    );
    assert_eq!(
        m(r#"{"limit": -1}"#),
        "limit: expected a non-negative whole number, found -1"
    );
    assert_eq!(
        m(r#"{"fields": ["nope"]}"#),
        "fields[0]: `nope` is not a property of Part; the properties are id, partNumber, order"
    );
    assert_eq!(
        m(r#"[1, 2]"#),
        "a filter is an object with the keys where, order, limit, skip, offset, fields, found an array"
    );
    assert_eq!(
        m(r#"{"where": {"or": {"id": 1}}}"#),
        "where.or: expected an array of conditions, found an object"
    );
    assert_eq!(
        m(r#"{"limit": 1e19}"#),
        "limit: 1e+19 is larger than 9223372036854775807, the largest limit a database takes"
    );
    assert_eq!(
        m(r#"{"where": {"partNumber": {"like": "a\u0000"}}}"#),
        "where.partNumber.like: a NUL character (\\u0000) is not accepted in a value"
    );
    Ok(())
}

/// A column type whose `Serialize` fails for some values.
#[derive(Debug, Clone, Copy, PartialEq, habtm::sqlx::Type, serde::Deserialize)]
#[sqlx(transparent)]
pub struct Reading(pub f64);

impl serde::Serialize for Reading {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            serializer.serialize_f64(self.0)
        } else {
            Err(serde::ser::Error::custom("not a finite number"))
        }
    }
}

#[derive(Debug, Clone, PartialEq, habtm::Model)]
pub struct Sensor {
    pub id: i64,
    pub reading: Reading,
}

/// A field whose `Serialize` fails makes the row's JSON an error that names it, not `null`.
async fn serialization_failures_are_errors<DB: Backend>(_pool: &Pool<DB>) -> Result<()> {
    use habtm::JsonModel;
    let fine = Sensor {
        id: 1,
        reading: Reading(2.5),
    };
    assert_eq!(
        serde_json::Value::Object(fine.to_json().expect("JSON")),
        serde_json::json!({"id": 1, "reading": 2.5})
    );
    let broken = Sensor {
        id: 2,
        reading: Reading(f64::NAN),
    };
    let message = broken.to_json().unwrap_err();
    assert!(
        message.contains("`reading`") && message.contains("not a finite number"),
        "{message}"
    );
    Ok(())
}

/// A column type with no JSON form: sqlx stores it, serde knows nothing of it.
#[derive(Debug, Clone, PartialEq, habtm::sqlx::Type)]
#[sqlx(transparent)]
pub struct Label(pub String);

/// A model with that column still compiles with the `json` feature on (this crate turns it
/// on), and works; it only has no JSON form, which `Filter::from_json` and the REST API ask
/// for where they are used.
#[derive(Debug, Clone, PartialEq, habtm::Model)]
pub struct Crate {
    pub id: i64,
    pub label: Label,
}

async fn a_model_without_a_json_form_still_works<DB: Backend>(pool: &Pool<DB>) -> Result<()> {
    habtm::Schema::new()
        .model::<Crate>()
        .create_all(pool)
        .await?;
    let label = |text: &str| Label(text.to_owned());
    let made = Crate::create(
        pool,
        NewCrate {
            label: label("fragile"),
        },
    )
    .await?;
    Crate::create(
        pool,
        NewCrate {
            label: label("sturdy"),
        },
    )
    .await?;
    assert_eq!(Crate::find_by_id(pool, made.id).await?, Some(made.clone()));
    let filter = Filter::new().filter(Crate::LABEL.eq(label("fragile")));
    assert_eq!(Crate::find(pool, filter).await?, vec![made]);
    Ok(())
}

habtm_tests::on_every_backend!(
    loopback_filter_cases,
    every_operator,
    fields_read_only_some_columns,
    bad_filters_are_named,
    serialization_failures_are_errors,
    a_model_without_a_json_form_still_works,
);
