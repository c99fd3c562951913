//! Sampling: warm-up, interleaved samples of every implementation of a case, medians.
//!
//! Each implementation is a closure that runs a batch of `n` operations and returns the time
//! spent in the operations alone (setup and cleanup run outside its [`Stopwatch`]). The
//! samples of one case alternate between implementations, in a rotating order, so that a
//! drift of the machine (another process, a cache, a checkpoint) is shared among them.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

pub type Error = Box<dyn std::error::Error>;
pub type Result<T, E = Error> = std::result::Result<T, E>;
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Runs `n` operations and returns the time they took.
pub type Run<'a> = Box<dyn Fn(usize) -> BoxFuture<'a, Result<Duration>> + 'a>;

/// Wraps an async closure as a [`Run`].
pub fn run<'a, F, Fut>(f: F) -> Option<Run<'a>>
where
    F: Fn(usize) -> Fut + 'a,
    Fut: Future<Output = Result<Duration>> + 'a,
{
    Some(Box::new(move |n| Box::pin(f(n))))
}

/// The implementations compared in every case, in table order.
pub const IMPLS: [&str; 3] = ["habtm", "sqlx", "SeaORM"];

/// How many operations one sample runs.
#[derive(Clone, Copy)]
pub enum Batch {
    /// Always this many.
    Fixed(usize),
    /// As many as fit in [`TARGET_SAMPLE`], judged from the warm-up, at most `max`.
    Adaptive { max: usize },
}

/// How long an adaptive sample aims to last.
const TARGET_SAMPLE: Duration = Duration::from_millis(25);

/// One row of the report.
pub struct Case<'a> {
    /// Short name, for filtering on the command line.
    pub key: &'static str,
    /// The row's label.
    pub title: String,
    /// What one measured unit is (`op`, `call`).
    pub unit: &'static str,
    pub samples: usize,
    pub batch: Batch,
    /// Whether the hand-written sqlx implementation runs exactly habtm's statements (checked
    /// before timing).
    pub same_sql: bool,
    /// habtm, sqlx, SeaORM; `None` where the row does not apply.
    pub impls: [Option<Run<'a>>; 3],
}

/// Statistics of one implementation in one case, per unit.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    pub median: Duration,
    pub p25: Duration,
    pub p75: Duration,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Stats {
        samples.sort();
        let at = |q: f64| {
            let pos = q * (samples.len() - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            let frac = pos - lo as f64;
            samples[lo].mul_f64(1.0 - frac) + samples[hi].mul_f64(frac)
        };
        Stats {
            median: at(0.5),
            p25: at(0.25),
            p75: at(0.75),
        }
    }
}

pub struct CaseResult {
    pub key: &'static str,
    pub title: String,
    pub unit: &'static str,
    pub batch: usize,
    pub samples: usize,
    pub stats: [Option<Stats>; 3],
}

/// Accumulates the time spent between `start` and `stop`.
pub struct Stopwatch {
    total: Duration,
    since: Option<Instant>,
}

impl Stopwatch {
    pub fn new() -> Self {
        Stopwatch {
            total: Duration::ZERO,
            since: None,
        }
    }

    pub fn start(&mut self) {
        self.since = Some(Instant::now());
    }

    pub fn stop(&mut self) {
        if let Some(since) = self.since.take() {
            self.total += since.elapsed();
        }
    }

    pub fn total(&self) -> Duration {
        self.total
    }
}

/// Warms up every implementation, then takes `case.samples` interleaved samples of each.
pub async fn measure(case: &Case<'_>) -> Result<CaseResult> {
    let present: Vec<usize> = (0..3).filter(|&i| case.impls[i].is_some()).collect();
    let batch = match case.batch {
        Batch::Fixed(n) => {
            for &i in &present {
                (case.impls[i].as_ref().unwrap())(n).await?;
            }
            n
        }
        Batch::Adaptive { max } => {
            let probe = max.min(10);
            let mut slowest = Duration::ZERO;
            for &i in &present {
                let run = case.impls[i].as_ref().unwrap();
                run(1).await?;
                slowest = slowest.max(run(probe).await? / probe as u32);
            }
            let n = (TARGET_SAMPLE.as_nanos() / slowest.as_nanos().max(1)) as usize;
            let n = n.clamp(1, max);
            for &i in &present {
                (case.impls[i].as_ref().unwrap())(n).await?;
            }
            n
        }
    };
    let mut samples: [Vec<Duration>; 3] = Default::default();
    for s in 0..case.samples {
        for k in 0..present.len() {
            let i = present[(s + k) % present.len()];
            let took = (case.impls[i].as_ref().unwrap())(batch).await?;
            samples[i].push(took / batch as u32);
        }
    }
    let stats = std::array::from_fn(|i| {
        let taken = std::mem::take(&mut samples[i]);
        (!taken.is_empty()).then(|| Stats::of(taken))
    });
    Ok(CaseResult {
        key: case.key,
        title: case.title.clone(),
        unit: case.unit,
        batch,
        samples: case.samples,
        stats,
    })
}

/// A duration with three significant digits and a unit.
pub fn fmt_duration(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    let (value, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {unit}")
}

/// `a / b` as a ratio of durations.
pub fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}
