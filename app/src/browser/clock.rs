//! The browser's clock, for what a page shows counting down (on the
//! server, which renders a page once, nothing counts).

/// Whole seconds from now until `rfc3339`, by the browser's clock; `None`
/// on the server (a rendered page would show it frozen) or when it is past.
pub fn seconds_until(rfc3339: &str) -> Option<u64> {
    #[cfg(feature = "hydrate")]
    {
        let seconds = ((js_sys::Date::parse(rfc3339) - js_sys::Date::now()) / 1000.0).round();
        (seconds.is_finite() && seconds > 0.0).then_some(seconds as u64)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = rfc3339;
        None
    }
}
