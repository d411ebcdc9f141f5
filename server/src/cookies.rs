//! Reading a cookie the browser sent: the share pages' unlock cookie and
//! the upload password's session.

use http::HeaderMap;

/// The value of cookie `name`, if the browser sent it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            HeaderValue::from_static("a=1; courier-session=abc~def; courier-unlock=x"),
        );
        headers.append(http::header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, "courier-session"), Some("abc~def"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "courier"), None);
    }
}
