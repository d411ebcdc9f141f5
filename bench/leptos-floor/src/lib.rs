//! One island, hydrated the way Courier's uploader is (see
//! `app/src/upload/island.rs`): the least a Leptos island page sends.

use leptos::prelude::*;
use leptos::tachys::html::islands::Island;
use leptos::tachys::view::Position;
use leptos::wasm_bindgen::prelude::wasm_bindgen;

#[component]
fn Counter() -> impl IntoView {
    let (count, set_count) = signal(0u32);
    let (name, set_name) = signal(String::new());
    view! {
        <form>
            <input type="text" on:input=move |ev| set_name.set(event_target_value(&ev)) />
            <button type="button" on:click=move |_| set_count.update(|c| *c += 1)>"Add"</button>
            <p>{move || count.get()} " " {move || name.get()}</p>
        </form>
    }
}

#[wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}

#[wasm_bindgen(js_name = "floor_counter")]
pub fn counter(island: leptos::web_sys::HtmlElement) {
    let view = Island::new("floor_counter", view! { <Counter /> });
    std::mem::forget(view.hydrate_from_position::<true>(&island, Position::Current));
}
