//! One table per run, histograms in microseconds, number formatting.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

/// Parameters first, then figures: printed as a Markdown table so a run can be pasted
/// into bench/README.md as it is.
pub struct Table {
    title: String,
    rows: Vec<(String, String)>,
}

impl Table {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.rows.push((name.into(), value.into()));
    }

    pub fn print(&self) {
        let width = self.rows.iter().map(|(n, _)| n.len()).max().unwrap_or(4);
        let vwidth = self.rows.iter().map(|(_, v)| v.len()).max().unwrap_or(5);
        println!();
        println!("### {}", self.title);
        println!();
        println!("| {:width$} | {:vwidth$} |", "what", "value");
        println!("| {} | {} |", "-".repeat(width), "-".repeat(vwidth));
        for (name, value) in &self.rows {
            println!("| {name:width$} | {value:vwidth$} |");
        }
        println!();
    }
}

/// A latency histogram in microseconds, 1 µs to 1 hour, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

pub fn record(h: &mut Histogram<u64>, d: Duration) {
    h.saturating_record((d.as_micros() as u64).max(1));
}

/// `p50 / p99 / max` in milliseconds, or "none" for an empty histogram.
pub fn p50_p99_max(h: &Histogram<u64>) -> String {
    if h.is_empty() {
        return "none".to_owned();
    }
    format!(
        "{} / {} / {}",
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    )
}

pub fn ms(micros: u64) -> String {
    let ms = micros as f64 / 1000.0;
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// 12345 → "12,345".
pub fn int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate with thousands separators ("1,234/s"; one decimal below 100).
pub fn rate(count: f64, over: Duration) -> String {
    let secs = over.as_secs_f64();
    if secs <= 0.0 {
        return "n/a".to_owned();
    }
    let r = count / secs;
    if r < 100.0 {
        format!("{r:.1}/s")
    } else {
        format!("{}/s", int(r.round() as u64))
    }
}

pub fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

/// Wall-clock microseconds since the Unix epoch (for times that cross processes).
pub fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Microseconds since a run's own epoch (monotonic; for times within this process).
pub fn since(epoch: Instant) -> u64 {
    epoch.elapsed().as_micros() as u64
}

/// A progress line on stderr (stdout carries only the table).
pub fn progress(msg: impl AsRef<str>) {
    eprintln!("[patchbay-load] {}", msg.as_ref());
}
