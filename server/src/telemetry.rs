//! Logs through `tracing`, filtered by `RUST_LOG` (default `info`), each
//! request's lines in a span that carries its id; as text, or as one JSON
//! object per line with `COURIER_LOG_FORMAT=json`.

use std::io::IsTerminal as _;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, Request};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::settings::LogFormat;

/// Logging to stderr. It starts before the settings are read, so it reads
/// `COURIER_LOG_FORMAT` itself; a value it does not understand logs as text
/// here and is refused, with its sentence, when the settings are read.
pub fn init() {
    let format = LogFormat::parse(std::env::var(LogFormat::SETTING).ok().as_deref()).unwrap_or_default();
    // s3s logs every request at debug and every refusal at error (two or
    // three lines each, for whoever sends them): the embedded store logs its
    // refusals itself, one line each, at a bounded pace. Off unless RUST_LOG
    // names s3s.
    let filter = match std::env::var("RUST_LOG") {
        Ok(raw) if raw.contains("s3s") => EnvFilter::new(raw),
        Ok(raw) => EnvFilter::new(format!("{raw},s3s=off")),
        Err(_) => EnvFilter::new("info,s3s=off,aws_config=warn"),
    };
    let ansi = std::io::stderr().is_terminal();
    // A second init (tests start many servers in one process) is harmless.
    let _ = subscriber(format, filter, ansi, std::io::stderr).try_init();
    log_panics();
}

/// A panic is logged as one line of the log, in its format, not as raw
/// stderr beside a JSON log. The process goes on: the server's release build
/// unwinds (only the browser bundle aborts), so a panic in one request, in
/// Courier or in a dependency such as `s3s-fs`, ends that request's task
/// and its connection, not every upload in flight. Requests are validated
/// so that none panics (the embedded store checks ranges before `s3s-fs`
/// sees them); this is the net under that.
fn log_panics() {
    std::panic::set_hook(Box::new(|panic| {
        let message = panic
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let location = panic.location().map(ToString::to_string).unwrap_or_default();
        tracing::error!(%location, message, "a task panicked: its request was cut off");
    }));
}

/// The subscriber for `format`, writing to `writer`.
fn subscriber<W>(format: LogFormat, filter: EnvFilter, ansi: bool, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
        // The event's fields at the top level, next to the request span's
        // (id, method, path): what a log pipeline indexes.
        LogFormat::Json => Box::new(
            builder
                .with_ansi(false)
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
    }
}

/// Every request gets an id (`X-Request-Id`, a new UUID: never the caller's,
/// which could repeat or pick one),
/// which every log line of the request carries and the response returns, so
/// a report can be traced to its log.
pub fn trace_requests<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    let span = |request: &Request<Body>| {
        let id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        tracing::info_span!("request", id, method = %request.method(), path = request.uri().path())
    };
    // Outermost last: the id is set first, then the span opens, then the
    // response carries the id back.
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(span))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::map_request(|mut request: Request<Body>| async move {
            request.headers_mut().remove(REQUEST_ID);
            request
        }))
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Log lines, kept for the test to read.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Self;
        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    fn logged(format: LogFormat) -> String {
        let captured = Captured::default();
        let subscriber = subscriber(format, EnvFilter::new("info"), false, captured.clone());
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", id = "0f3a", method = "POST", path = "/api/sign_upload");
            let _entered = span.enter();
            tracing::info!(status = 400, "refused");
            tracing::debug!("filtered out");
            tracing::warn!(bucket = "files", "the store is not ready");
        });
        let bytes = captured.0.lock().expect("not poisoned").clone();
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn json_logs_are_one_object_per_line() {
        let text = logged(LogFormat::Json);
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[0]["message"], "refused");
        assert_eq!(lines[0]["status"], 400);
        assert_eq!(lines[0]["span"]["id"], "0f3a", "the request's id");
        assert_eq!(lines[0]["span"]["path"], "/api/sign_upload");
        assert_eq!(lines[1]["level"], "WARN");
        assert_eq!(lines[1]["bucket"], "files");
        assert!(lines[1]["timestamp"].is_string());
    }

    #[test]
    fn text_logs_stay_the_default() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        let text = logged(LogFormat::Text);
        let first = text.lines().next().expect("a line");
        assert!(first.contains("INFO request{id=\"0f3a\""), "{first}");
        assert!(first.ends_with("refused status=400"), "{first}");
        assert!(serde_json::from_str::<serde_json::Value>(first).is_err());
    }
}
