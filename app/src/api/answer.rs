//! How a server function answers, decided by the function itself: its
//! status, through `leptos_axum`'s `ResponseOptions` (server functions
//! otherwise answer every error with 500), and what it did, written to the
//! [`CallReport`] the server provides for each call and puts on the
//! response for its metrics. No layer reads a response body back.

use std::sync::{Arc, Mutex, PoisonError};

use leptos::prelude::use_context;

use crate::error::{CourierError, request_ref};
use crate::model::LinkKind;

/// What one call did, as far as the server's metrics count it. Provided
/// by the server for `/api/*` calls only: a function the page's render
/// calls directly has none, and leaves the page's own status alone.
#[derive(Clone, Debug, Default)]
pub struct CallReport(Arc<Mutex<Reported>>);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reported {
    /// The link a granted upload gets.
    pub granted: Option<LinkKind>,
    /// The wire code of the refusal the call answered with
    /// ([`CourierError::code`]).
    pub refused: Option<&'static str>,
}

impl CallReport {
    pub fn read(&self) -> Reported {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self, change: impl FnOnce(&mut Reported)) {
        change(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// A refusal as this call answers it: with its status, its request's id
/// in the sentence when the fault is the server's, and its code reported.
pub fn answered(error: CourierError) -> CourierError {
    let Some(report) = use_context::<CallReport>() else {
        return error;
    };
    let id = use_context::<http::request::Parts>().and_then(|parts| request_ref(&parts.headers));
    let error = error.traceable(id.as_deref());
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(
            http::StatusCode::from_u16(error.status_code()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
    report.write(|reported| reported.refused = Some(error.code()));
    error
}

/// Logs a signer's refusal, and answers it with its status ([`answered`]).
pub(crate) fn logged<T>(result: Result<T, signer::SignError>) -> Result<T, CourierError> {
    result.map_err(|error| {
        let error = CourierError::from(error);
        tracing::info!(error = %error, status = error.status_code(), "refused");
        answered(error)
    })
}

/// A grant of an upload that gets `link`.
pub fn granted(link: LinkKind) {
    if let Some(report) = use_context::<CallReport>() {
        report.write(|reported| reported.granted = Some(link));
    }
}
