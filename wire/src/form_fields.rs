//! The fields of a form the browser POSTs to the store, as a grant carries
//! them.

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Form fields, each name once, in the order they were set (S3 reads them in
/// any order before the file). Names are mostly fixed words (`key`,
/// `policy`): kept without a copy, since a grant is signed per upload. On the
/// wire, a JSON object.
#[derive(Clone, Debug, Default)]
pub struct FormFields(Vec<(Cow<'static, str>, String)>);

/// The same fields with the same values, in any order: the same form.
impl PartialEq for FormFields {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(name, value)| other.get(name).is_some_and(|v| v == value))
    }
}

impl Eq for FormFields {}

impl FormFields {
    pub fn with_capacity(capacity: usize) -> Self {
        Self(Vec::with_capacity(capacity))
    }

    /// The value of `name`, as a map would give it.
    pub fn get(&self, name: &str) -> Option<&String> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Sets `name` to `value`, in place of any value it had.
    pub fn insert(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) => *old = value,
            None => self.0.push((name, value)),
        }
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        let at = self.0.iter().position(|(n, _)| n == name)?;
        Some(self.0.remove(at).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_ref(), v.as_str()))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_ref())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `fields["key"]`: the field's value; panics when it is missing, as a
/// map's index does (for tests and values known to be there).
impl std::ops::Index<&str> for FormFields {
    type Output = String;

    fn index(&self, name: &str) -> &String {
        match self.get(name) {
            Some(value) => value,
            None => panic!("no form field {name}"),
        }
    }
}

impl<'a> IntoIterator for &'a FormFields {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Cow<'static, str>, String)>,
        fn(&'a (Cow<'static, str>, String)) -> (&'a str, &'a str),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(n, v)| (n.as_ref(), v.as_str()))
    }
}

impl IntoIterator for FormFields {
    type Item = (Cow<'static, str>, String);
    type IntoIter = std::vec::IntoIter<(Cow<'static, str>, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<N: Into<Cow<'static, str>>, V: Into<String>> FromIterator<(N, V)> for FormFields {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut fields = Self::default();
        for (name, value) in iter {
            fields.insert(name, value);
        }
        fields
    }
}

impl Serialize for FormFields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for FormFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;

        impl<'de> Visitor<'de> for Fields {
            type Value = FormFields;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of form fields")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FormFields, A::Error> {
                let mut fields = FormFields::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some((name, value)) = map.next_entry::<String, String>()? {
                    fields.insert(name, value);
                }
                Ok(fields)
            }
        }

        deserializer.deserialize_map(Fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_set_once_and_keeps_its_place() {
        let mut fields = FormFields::default();
        fields.insert("key", "a");
        fields.insert("policy", "p");
        fields.insert(String::from("key"), "b");
        assert_eq!(fields.iter().collect::<Vec<_>>(), [("key", "b"), ("policy", "p")]);
        assert_eq!(fields.get("key").map(String::as_str), Some("b"));
        assert_eq!(fields["policy"], "p");
        assert_eq!(fields.get("acl"), None);
        assert_eq!(fields.remove("key").as_deref(), Some("b"));
        assert_eq!(fields.len(), 1);
    }

    #[test]
    fn the_same_fields_in_another_order_are_the_same_form() {
        let one: FormFields = [("key", "k"), ("acl", "private")].into_iter().collect();
        let other: FormFields = [("acl", "private"), ("key", "k")].into_iter().collect();
        assert_eq!(one, other);
        let changed: FormFields = [("acl", "public-read"), ("key", "k")].into_iter().collect();
        assert_ne!(one, changed);
        let more: FormFields = [("acl", "private"), ("key", "k"), ("x", "")].into_iter().collect();
        assert_ne!(one, more);
        assert_ne!(more, one);
    }

    #[test]
    fn travels_as_a_json_object_and_back() {
        let fields: FormFields = [("key", "uploads/x/a.txt"), ("x-amz-meta-filename", "a%2Etxt")]
            .into_iter()
            .collect();
        let json = serde_json::to_string(&fields).expect("serialises");
        assert_eq!(json, r#"{"key":"uploads/x/a.txt","x-amz-meta-filename":"a%2Etxt"}"#);
        let back: FormFields = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, fields);
        // A repeated name in what arrives counts once, its last value.
        let repeated: FormFields = serde_json::from_str(r#"{"key":"a","key":"b"}"#).expect("deserialises");
        assert_eq!(repeated.iter().collect::<Vec<_>>(), [("key", "b")]);
    }
}
