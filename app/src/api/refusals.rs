//! Courier's refusals as the server functions' framework carries them: as
//! JSON ([`JsonCodec`]), and the framework's own errors (an argument
//! missing or unreadable, before a function runs) turned into Courier's,
//! answered with their status like the functions' own refusals.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

use crate::error::CourierError;
use crate::json::JsonCodec;

impl FromServerFnError for CourierError {
    type Encoder = JsonCodec;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let error = match value {
            ServerFnErrorErr::Request(_) => {
                Self::Network("Courier could not be reached. Check your connection and try again.".to_owned())
            }
            ServerFnErrorErr::Args(detail) => Self::BadRequest(format!("The request could not be read: {detail}.")),
            ServerFnErrorErr::MissingArg(name) => Self::BadRequest(format!("The request is missing `{name}`.")),
            other => Self::Internal(format!(
                "Something went wrong on our side ({other}). Try again in a moment."
            )),
        };
        #[cfg(feature = "ssr")]
        let error = super::answer::answered(error);
        error
    }
}
