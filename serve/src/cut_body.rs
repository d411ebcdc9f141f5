//! A request whose body was cut (it stalled, trickled or broke off) is
//! answered by the server's own layer, in its own words: the app with a
//! sentence, the store as S3 answers. The serve loop only marks each request
//! with a [`CutBody`]; this keeps the words out of the loop, so one loop
//! serves both ports and knows neither.

use axum::response::Response;
use http::{HeaderValue, header};

use crate::idle_body::{Stall, StallKind};
use crate::limits::Limits;

/// How a request's body may have been cut, in its extensions from the serve
/// loop. Ask it once the request is answered.
#[derive(Clone, Debug)]
pub struct CutBody {
    stall: Stall,
    limits: Limits,
}

impl CutBody {
    pub(crate) fn new(stall: Stall, limits: Limits) -> Self {
        Self { stall, limits }
    }

    /// The watch on `request`'s body, if it has a body that can be cut.
    pub fn of<B: http_body::Body>(request: &http::Request<B>) -> Option<Self> {
        if request.body().is_end_stream() {
            return None;
        }
        request.extensions().get::<Self>().cloned()
    }

    /// The limits of the server the request came to.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Why the body was cut, if it was and `answered` does not already say
    /// so: a body that broke off is the client's fault, but what read it may
    /// have said that already (a 4xx), so only a 5xx is to be replaced.
    /// Asked once: the answer to a cut is written by whichever layer asks
    /// first.
    pub fn why(&self, answered: &Response) -> Option<StallKind> {
        match self.stall.to_answer()? {
            StallKind::Broken if !answered.status().is_server_error() => None,
            why => Some(why),
        }
    }
}

/// `answer` in place of `answered`: the headers the server's layers put on
/// `answered` (CORS, security headers, the request id) stay, and the
/// connection closes, since the rest of the body may still come.
pub fn replace_answer(answered: Response, mut answer: Response) -> Response {
    let kept = answered.headers();
    for name in kept.keys() {
        if describes_the_body(name) || answer.headers().contains_key(name) {
            continue;
        }
        for value in kept.get_all(name) {
            answer.headers_mut().append(name.clone(), value.clone());
        }
    }
    answer
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    answer
}

/// Headers that belong to the answer being replaced, not to the server.
fn describes_the_body(name: &header::HeaderName) -> bool {
    [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
        header::CONTENT_DISPOSITION,
        header::CONTENT_RANGE,
        header::TRANSFER_ENCODING,
        header::ETAG,
        header::LAST_MODIFIED,
        header::LOCATION,
    ]
    .contains(name)
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse as _;
    use http::StatusCode;

    use super::*;

    #[test]
    fn the_servers_headers_stay_and_the_connection_closes() {
        let answered = (
            StatusCode::BAD_REQUEST,
            [
                (header::CONTENT_TYPE, "text/plain"),
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, "http://127.0.0.1:3000"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            "Failed to buffer the request body",
        )
            .into_response();
        let answer = (
            StatusCode::REQUEST_TIMEOUT,
            [(header::CONTENT_TYPE, "application/xml")],
            "<Error/>",
        )
            .into_response();
        let replaced = replace_answer(answered, answer);
        assert_eq!(replaced.status(), StatusCode::REQUEST_TIMEOUT);
        let headers = replaced.headers();
        assert_eq!(headers[header::CONNECTION], "close");
        assert_eq!(headers[header::CONTENT_TYPE], "application/xml");
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "http://127.0.0.1:3000");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }

    #[test]
    fn a_broken_body_already_refused_is_left_as_it_was() {
        let stall = Stall::default();
        stall.raise(StallKind::Broken);
        let cut = CutBody::new(stall, Limits::STORE);
        let refused = (StatusCode::PAYLOAD_TOO_LARGE, "too large").into_response();
        assert_eq!(cut.why(&refused), None);

        let stall = Stall::default();
        stall.raise(StallKind::Broken);
        let cut = CutBody::new(stall, Limits::STORE);
        let failed = StatusCode::INTERNAL_SERVER_ERROR.into_response();
        assert_eq!(cut.why(&failed), Some(StallKind::Broken));
        assert_eq!(cut.why(&failed), None, "answered once");
    }
}
