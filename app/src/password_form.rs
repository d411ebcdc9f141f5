//! A password asked for on a server-rendered page (a share's, the upload
//! password's): a plain form that works with JavaScript off, with the
//! sentence of a refusal above it, tied to the field for screen readers.

use leptos::prelude::*;

/// What one page's password form says and where it posts.
pub struct PasswordForm {
    pub action: String,
    /// The field's id; the refusal's is this and `-refusal`.
    pub id: &'static str,
    pub label: &'static str,
    pub button: &'static str,
}

impl PasswordForm {
    pub fn view(self, refusal: Option<String>) -> impl IntoView {
        let Self {
            action,
            id,
            label,
            button,
        } = self;
        let refused = refusal.is_some();
        let refusal_id = format!("{id}-refusal");
        view! {
            {refusal.map(|sentence| view! { <p class="error" id=refusal_id.clone() role="alert">{sentence}</p> })}
            <form method="post" action=action class="unlock">
                <label for=id>{label}</label>
                <input
                    type="password"
                    id=id
                    name="password"
                    autocomplete="current-password"
                    required
                    aria-invalid=refused.then_some("true")
                    aria-describedby=refused.then_some(refusal_id)
                />
                <button type="submit">{button}</button>
            </form>
        }
    }
}
