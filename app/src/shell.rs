//! The HTML document and the routes.

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};

use crate::upload::UploadPage;

/// The document the server renders around the app, with its
/// Content-Security-Policy (which needs the response's nonce).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::content_security::apply();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                // Inline, so no visit asks for a `/favicon.ico` there is none of.
                <link rel="icon" href=FAVICON />
                // `/pkg/courier.<hash>.css` in release builds: cached for good.
                <HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// An arrow going up, on the accent colour.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%230b57d0'/%3E%3Cpath d='M8 3l4.5 4.5H9.5V13h-3V7.5H3.5z' fill='%23fff'/%3E%3C/svg%3E";

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Courier" />
        // One page, so no router (it would cost the browser bundle ~10 KB).
        // The server renders it asynchronously: the signed form is in the
        // first response, so it works with JavaScript off.
        <UploadPage />
    }
}
