//! How the server serves its two ports: the app's and, when it runs one, the
//! embedded store's, both on `courier_serve`'s hardened accept loop, each
//! with its own [`Limits`]. The app answers a request whose body was cut
//! with a sentence ([`answer_cut_bodies`]); the store answers as S3 does.

use std::time::Duration;

use app::error::CourierError;
use axum::response::Response;
use http::StatusCode;

pub use courier_serve::{BodyRate, CutBody, Limits, Server, StallKind, bind};
pub use courier_store::{S3_REQUEST_TIMEOUT, SlotLimits};

/// How Courier serves: the limits of each server, and the embedded store's
/// request slots. (How long a stop waits for them is a setting,
/// `Settings::shutdown_grace`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Serving {
    pub app: Limits,
    pub store: Limits,
    pub store_slots: SlotLimits,
}

impl Default for Serving {
    fn default() -> Self {
        Self {
            app: Limits::APP,
            store: Limits::STORE,
            store_slots: SlotLimits::STORE,
        }
    }
}

/// A middleware that answers a request whose body was cut (it stalled,
/// trickled or broke off) with `408 Request Timeout` (`400` when it broke
/// off) and a sentence, as JSON or as a page, whichever the client's other
/// refusals come as. It runs where the app's own layers see the answer:
/// what read the body answered 400 or 500, and a trace layer outside would
/// log that 500 at ERROR though the client caused it.
pub async fn answer_cut_bodies(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let cut = CutBody::of(&request);
    let asked = cut.as_ref().map(|_| request.headers().clone()).unwrap_or_default();
    let response = next.run(request).await;
    let Some(cut) = cut else { return response };
    match cut.why(&response) {
        Some(why) => courier_serve::replace_answer(response, sentence_answer(why, cut.limits(), &asked)),
        None => response,
    }
}

/// The sentence for a cut body, in the format the client asked for.
fn sentence_answer(why: StallKind, limits: &Limits, request_headers: &http::HeaderMap) -> Response {
    let (status, sentence) = match (why, limits.min_body_rate) {
        (StallKind::Broken, _) => (
            StatusCode::BAD_REQUEST,
            "The request was cut off before its end. Send it again.".to_owned(),
        ),
        (StallKind::TooSlow, Some(rate)) => (StatusCode::REQUEST_TIMEOUT, too_slow_sentence(rate)),
        _ => (StatusCode::REQUEST_TIMEOUT, stalled_sentence(limits.body_idle)),
    };
    let mut answer = crate::respond::refusal(request_headers, &CourierError::BadRequest(sentence));
    *answer.status_mut() = status;
    answer
}

/// What the person is told: what happened, and what to do.
fn stalled_sentence(idle: Duration) -> String {
    let seconds = idle.as_secs_f64().ceil() as u64;
    let unit = if seconds == 1 { "second" } else { "seconds" };
    format!("The request stopped arriving: nothing came for {seconds} {unit}. Check your connection and send it again.")
}

fn too_slow_sentence(rate: BodyRate) -> String {
    let floor = if rate.bytes_per_sec >= 1024 {
        format!("{} KiB", rate.bytes_per_sec / 1024)
    } else {
        format!("{} bytes", rate.bytes_per_sec)
    };
    format!("The request arrived too slowly (under {floor} a second). Check your connection and send it again.")
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue, header};
    use http_body_util::BodyExt as _;

    use super::*;

    async fn text(response: Response) -> String {
        let bytes = response.into_body().collect().await.expect("a body").to_bytes();
        String::from_utf8(bytes.to_vec()).expect("UTF-8")
    }

    #[tokio::test]
    async fn the_app_answers_408_with_a_sentence() {
        let mut form_post = HeaderMap::new();
        form_post.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let answer = sentence_answer(StallKind::Idle, &Limits::APP, &form_post);
        assert_eq!(answer.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(answer.headers()[header::CONTENT_TYPE], "application/json");
        let body: serde_json::Value = serde_json::from_str(&text(answer).await).expect("JSON");
        assert_eq!(
            body["error"],
            "The request stopped arriving: nothing came for 30 seconds. Check your connection and send it again."
        );

        // A browser's page gets a page; one second is a second.
        let short = Limits {
            body_idle: Duration::from_millis(800),
            ..Limits::APP
        };
        let answer = sentence_answer(StallKind::Idle, &short, &HeaderMap::new());
        assert_eq!(answer.status(), StatusCode::REQUEST_TIMEOUT);
        assert!(text(answer).await.contains("nothing came for 1 second."));

        // A trickle is told it was too slow; a body that broke off, that it was cut.
        let answer = sentence_answer(StallKind::TooSlow, &Limits::APP, &HeaderMap::new());
        assert_eq!(answer.status(), StatusCode::REQUEST_TIMEOUT);
        assert!(text(answer).await.contains("arrived too slowly"));
        let answer = sentence_answer(StallKind::Broken, &Limits::APP, &HeaderMap::new());
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    }
}
