//! The edge's access log: one JSON line per call, with API Gateway's `$context` names
//! (`requestId`, `ip`, `domainName`, `stage`, `httpMethod`, `path`, `status`, `responseLatency`,
//! `requestLength`, `responseLength`, `protocol`, `requestTime`) plus `route` (`ANY /{proxy+}`).
//!
//! Lines are formatted by hand into a buffer and written in batches: by the flusher every
//! [`FLUSH_INTERVAL`], at once when [`FLUSH_BYTES`] are pending, and at shutdown. Going through
//! the process's log formatter and one `write` per call cost the edge about a third of its
//! keep-alive throughput; a batch costs one `write` per interval, as nginx's `access_log ... buffer=`.
//! What a `kill -9` loses is the last interval's lines, never data.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often pending lines are written.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(200);
/// Pending lines written at once beyond this size.
pub const FLUSH_BYTES: usize = 64 * 1024;

/// Where the lines go.
enum Sink {
    /// The process's standard error, between whole lines of its other log output.
    Stderr,
    File(std::fs::File),
    Off,
}

/// One call, as the access log records it.
pub struct Entry<'a> {
    pub request_id: &'a str,
    pub ip: std::net::IpAddr,
    pub domain: &'a str,
    pub stage: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub route: &'a str,
    pub status: u16,
    pub latency_ms: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub protocol: &'a str,
}

pub struct AccessLog {
    /// Lock order: `sink`, then `pending`.
    sink: Mutex<Sink>,
    pending: Mutex<Vec<u8>>,
    off: bool,
    /// Lines that could not be written (a full disk, a closed stderr).
    dropped: AtomicU64,
}

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLog")
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl AccessLog {
    /// `stderr` (the default), `off`, or a file path (appended to, created 0640).
    pub fn open(destination: &str) -> std::io::Result<Self> {
        let sink = match destination {
            "" | "stderr" => Sink::Stderr,
            "off" => Sink::Off,
            path => Sink::File(open_append(Path::new(path))?),
        };
        Ok(Self::with_sink(sink))
    }

    pub fn stderr() -> Self {
        Self::with_sink(Sink::Stderr)
    }

    fn with_sink(sink: Sink) -> Self {
        AccessLog {
            off: matches!(sink, Sink::Off),
            sink: Mutex::new(sink),
            pending: Mutex::new(Vec::with_capacity(FLUSH_BYTES)),
            dropped: AtomicU64::new(0),
        }
    }

    pub fn is_off(&self) -> bool {
        self.off
    }

    /// Lines lost to write errors so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn record(&self, entry: &Entry<'_>) {
        if self.is_off() {
            return;
        }
        // Each thread formats into a buffer of its own, kept between calls.
        thread_local! {
            static LINE: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        let full = LINE.with(|line| {
            let mut line = line.borrow_mut();
            line.clear();
            format_line(&mut line, entry, SystemTime::now());
            let mut pending = lock(&self.pending);
            pending.extend_from_slice(line.as_bytes());
            pending.len() >= FLUSH_BYTES
        });
        if full {
            self.flush();
        }
    }

    /// Writes what is pending.
    pub fn flush(&self) {
        let mut sink = lock(&self.sink);
        let batch = std::mem::take(&mut *lock(&self.pending));
        if batch.is_empty() {
            return;
        }
        let written = match &mut *sink {
            Sink::Stderr => {
                let mut err = std::io::stderr().lock();
                err.write_all(&batch).and_then(|_| err.flush())
            }
            Sink::File(f) => f.write_all(&batch),
            Sink::Off => Ok(()),
        };
        if written.is_err() {
            let lines = batch.iter().filter(|b| **b == b'\n').count() as u64;
            if self.dropped.fetch_add(lines, Ordering::Relaxed) == 0 {
                tracing::warn!("edge access log lines could not be written and are dropped");
            }
        }
        // Keep the buffer's capacity for the next batch.
        let mut pending = lock(&self.pending);
        if pending.is_empty() {
            let mut batch = batch;
            batch.clear();
            *pending = batch;
        }
    }
}

/// A poisoned lock only means a panic elsewhere while it was held; the buffer is still bytes.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
    options.open(path)
}

/// Appends the line of `e` to `line`. Numbers and addresses are written without `fmt`'s machinery:
/// this runs for every call through the edge.
fn format_line(line: &mut String, e: &Entry<'_>, now: SystemTime) {
    let mut digits = itoa::Buffer::new();
    line.push_str("{\"requestTime\":\"");
    push_time(line, now);
    line.push_str("\",\"requestId\":");
    push_json(line, e.request_id);
    line.push_str(",\"ip\":\"");
    match e.ip {
        std::net::IpAddr::V4(ip) => {
            for (i, octet) in ip.octets().into_iter().enumerate() {
                if i > 0 {
                    line.push('.');
                }
                line.push_str(digits.format(octet));
            }
        }
        ip => {
            let _ = write!(line, "{ip}");
        }
    }
    line.push_str("\",\"domainName\":");
    push_json(line, e.domain);
    line.push_str(",\"stage\":");
    push_json(line, e.stage);
    line.push_str(",\"httpMethod\":");
    push_json(line, e.method);
    line.push_str(",\"path\":");
    push_json(line, e.path);
    line.push_str(",\"route\":");
    push_json(line, e.route);
    for (name, value) in [
        (",\"status\":", u64::from(e.status)),
        (",\"responseLatency\":", e.latency_ms),
        (",\"requestLength\":", e.bytes_in),
        (",\"responseLength\":", e.bytes_out),
    ] {
        line.push_str(name);
        line.push_str(digits.format(value));
    }
    line.push_str(",\"protocol\":");
    push_json(line, e.protocol);
    line.push_str("}\n");
}

/// A JSON string, quoted and escaped.
fn push_json(line: &mut String, s: &str) {
    line.push('"');
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        line.push_str(s);
    } else {
        for c in s.chars() {
            match c {
                '"' => line.push_str("\\\""),
                '\\' => line.push_str("\\\\"),
                '\n' => line.push_str("\\n"),
                '\r' => line.push_str("\\r"),
                '\t' => line.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(line, "\\u{:04x}", c as u32);
                }
                c => line.push(c),
            }
        }
    }
    line.push('"');
}

/// `2026-12-03T14:10:00.123Z`; the part down to the second is formatted once per second per thread.
fn push_time(line: &mut String, now: SystemTime) {
    thread_local! {
        static SECOND: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
    }
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    SECOND.with(|cached| {
        let mut cached = cached.borrow_mut();
        if cached.0 != secs {
            let at = chrono::DateTime::from_timestamp(secs as i64, 0).unwrap_or_default();
            *cached = (secs, at.format("%Y-%m-%dT%H:%M:%S").to_string());
        }
        line.push_str(&cached.1);
    });
    let millis = since.subsec_millis();
    line.push('.');
    for digit in [millis / 100, millis / 10 % 10, millis % 10] {
        line.push(char::from(b'0' + digit as u8));
    }
    line.push('Z');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(path: &'a str) -> Entry<'a> {
        Entry {
            request_id: "r-1",
            ip: "10.0.0.9".parse().unwrap(),
            domain: "api.fanops.com",
            stage: "prod",
            method: "GET",
            path,
            route: "ANY /{proxy+}",
            status: 200,
            latency_ms: 3,
            bytes_in: 0,
            bytes_out: 11,
            protocol: "HTTP/2.0",
        }
    }

    #[test]
    fn a_line_is_one_json_object_with_apigateways_names() {
        let at = UNIX_EPOCH + Duration::from_millis(1_764_771_000_123);
        let mut line = String::new();
        format_line(&mut line, &entry("/security/\"metrics\"\n\\\u{1}é"), at);
        assert!(line.ends_with("}\n") && line.matches('\n').count() == 1);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["requestTime"], "2025-12-03T14:10:00.123Z");
        assert_eq!(v["path"], "/security/\"metrics\"\n\\\u{1}é");
        assert_eq!(v["domainName"], "api.fanops.com");
        assert_eq!(v["route"], "ANY /{proxy+}");
        assert_eq!(v["status"], 200);
        assert_eq!(v["responseLength"], 11);
        assert_eq!(v["ip"], "10.0.0.9");
    }

    #[test]
    fn lines_reach_the_file_in_batches_and_in_order() {
        let dir = std::env::temp_dir().join(format!("m2sec-access-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("access.log");
        let log = AccessLog::open(path.to_str().unwrap()).unwrap();
        let paths: Vec<String> = (0..1000).map(|i| format!("/p/{i}")).collect();
        for p in &paths {
            log.record(&entry(p));
        }
        // More than FLUSH_BYTES were recorded: some are on disk before any explicit flush.
        let before = std::fs::read_to_string(&path).unwrap();
        assert!(!before.is_empty());
        log.flush();
        let text = std::fs::read_to_string(&path).unwrap();
        let seen: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["path"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(seen, paths);
        assert_eq!(log.dropped(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn off_records_nothing() {
        let log = AccessLog::open("off").unwrap();
        log.record(&entry("/x"));
        assert!(lock(&log.pending).is_empty());
    }
}
