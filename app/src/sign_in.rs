//! Signing in to upload (`COURIER_UPLOAD_ACCESS=password`): the form the
//! upload page shows instead of the uploader to a browser that has not
//! signed in, and the page a wrong password or too many tries gets. A plain
//! HTML form: it works with JavaScript off, and the password never passes
//! through the page's script.

use leptos::prelude::*;

/// Where the form posts (`server::access`'s route).
pub const SIGN_IN_PATH: &str = "/sign-in";
/// Where "Sign out" posts.
pub const SIGN_OUT_PATH: &str = "/sign-out";

/// The password form, with the sentence of a refusal above it.
#[component]
pub fn SignInForm(refusal: Option<String>) -> impl IntoView {
    let form = crate::password_form::PasswordForm {
        action: SIGN_IN_PATH.to_owned(),
        id: "upload-password",
        label: "Upload password",
        button: "Sign in",
    };
    view! {
        <section class="result sign-in" data-testid="sign-in">
            <h2>"Sign in to upload"</h2>
            <p>"This Courier takes uploads from people who know its upload password. Links it made still work for anyone who has them."</p>
            {form.view(refusal)}
        </section>
    }
}

/// "Sign out", for a browser signed in with the password.
#[component]
pub fn SignOutForm() -> impl IntoView {
    view! {
        <form method="post" action=SIGN_OUT_PATH class="sign-out">
            <button type="submit" class="link-button">"Sign out"</button>
        </form>
    }
}

/// The sign-in page on its own: what a wrong password (401) or too many
/// tries (429) gets.
pub fn render(refusal: &str) -> String {
    let refusal = refusal.to_owned();
    crate::confirm_page::page_document("Sign in · Courier", "", move || {
        view! { <SignInForm refusal=Some(refusal) /> }.into_any()
    })
}
