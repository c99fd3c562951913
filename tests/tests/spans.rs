//! Every operation runs in a `habtm` span named as it was called (`operation`), with the
//! backend and the rows it answered: a subscriber sees them on every backend.
//!
//! This file is its own test binary, and its one test visits the backends in turn, so that
//! the spans it reads are its own.

use std::sync::Mutex;

use habtm::{Filter, Model, Schema};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Part")]
pub struct Assembly {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[relation(has_and_belongs_to_many, model = "Assembly")]
pub struct Part {
    pub id: i64,
    pub part_number: String,
}

/// A closed `habtm` span: its fields as `name=value`.
static CLOSED: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[derive(Default)]
struct Fields(Vec<String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push(format!("{}={value:?}", field.name()));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push(format!("{}={value}", field.name()));
    }
}

struct Spans;

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() == "habtm" {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            ctx.span(id)
                .expect("the span")
                .extensions_mut()
                .insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(fields);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(fields) = span.extensions().get::<Fields>()
        {
            CLOSED.lock().expect("the list").push(fields.0.join(" "));
        }
    }
}

async fn operations<DB: habtm::Backend>(pool: &habtm::sqlx::Pool<DB>) -> habtm::Result<()> {
    Schema::new()
        .model::<Assembly>()
        .model::<Part>()
        .create_all(pool)
        .await?;
    CLOSED.lock().expect("the list").clear();
    let engine = Assembly::create(
        pool,
        NewAssembly {
            name: "engine".into(),
        },
    )
    .await?;
    let bolt = engine
        .parts()
        .create(
            pool,
            NewPart {
                part_number: "B-1".into(),
            },
        )
        .await?;
    engine.parts().add(pool, bolt.id).await?;
    engine.parts().find(pool, Filter::new()).await?;
    Assembly::count(pool, Filter::new()).await?;
    let missing = engine.parts().add(pool, 999).await;
    assert!(missing.is_err());
    let backend = format!("{:?}", DB::DIALECT);
    let mut expected = vec![
        format!("operation=Assembly::create backend={backend} rows=1"),
        format!("operation=Assembly.parts.create backend={backend} rows=1"),
        format!("operation=Assembly.parts.add backend={backend}"),
        format!("operation=Assembly.parts.find backend={backend} rows=1"),
        format!("operation=Assembly::count backend={backend} rows=1"),
        format!("operation=Assembly.parts.add backend={backend} error=Part with id 999 not found"),
    ];
    expected.sort();
    // A span closes when the last task that entered it ends: sqlx hands a connection back to
    // its pool in a task of its own, which may run a moment after the call returned.
    let mut closed = Vec::new();
    for _ in 0..200 {
        closed = CLOSED.lock().expect("the list").clone();
        closed.sort();
        if closed.len() >= expected.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(closed, expected);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_has_its_span() {
    let subscriber = tracing_subscriber::registry().with(Spans);
    tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
    habtm_tests::run::<habtm::sqlx::Sqlite, _, _>("spans", |pool| async move {
        operations(&pool).await
    })
    .await;
    habtm_tests::run::<habtm::sqlx::Postgres, _, _>("spans", |pool| async move {
        operations(&pool).await
    })
    .await;
    habtm_tests::run::<habtm::sqlx::MySql, _, _>(
        "spans",
        |pool| async move { operations(&pool).await },
    )
    .await;
}
