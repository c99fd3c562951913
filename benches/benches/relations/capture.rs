//! Records the SQL text of every statement sqlx runs, while switched on: used before timing
//! to check that the hand-written implementation runs exactly habtm's statements.
//!
//! sqlx reports each statement as a `tracing` event with target `sqlx::query`. This
//! subscriber is interested in those events only, and only while recording, so it costs one
//! atomic load per statement the rest of the time (the same for every implementation).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

static RECORDING: AtomicBool = AtomicBool::new(false);
static STATEMENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

const TARGET: &str = "sqlx::query";

struct Capture;

#[derive(Default)]
struct Statement {
    summary: String,
    full: String,
}

impl Visit for Statement {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_owned(),
            "db.statement" => self.full = value.to_owned(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.summary = format!("{value:?}");
        }
    }
}

impl Subscriber for Capture {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        // `tracing::enabled!` asks through a callsite of its own kind (a hint), not an event.
        if metadata.target() == TARGET && !metadata.is_span() {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == TARGET && RECORDING.load(Ordering::Relaxed)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut statement = Statement::default();
        event.record(&mut statement);
        // `db.statement` holds the full text when the summary had to shorten it.
        let text = if statement.full.trim().is_empty() {
            statement.summary
        } else {
            statement.full.trim().to_owned()
        };
        STATEMENTS.lock().unwrap().push(text);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Installs the recorder as the process's subscriber (switched off).
pub fn install() {
    tracing::subscriber::set_global_default(Capture).expect("no other subscriber");
}

/// Starts recording, forgetting earlier statements.
pub fn start() {
    STATEMENTS.lock().unwrap().clear();
    RECORDING.store(true, Ordering::SeqCst);
}

/// Stops recording and returns the statements run since [`start`].
///
/// SQLite runs statements on a worker thread that reports them when it drops them, just
/// after handing back the result: a short pause lets the last report arrive.
pub fn stop() -> Vec<String> {
    std::thread::sleep(Duration::from_millis(50));
    RECORDING.store(false, Ordering::SeqCst);
    std::mem::take(&mut *STATEMENTS.lock().unwrap())
}
