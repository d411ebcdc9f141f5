//! The upload records of the queued files, by queue id. A page holds
//! a handful of files, so a list searched in order serves as well as a hash
//! map, with a fraction of the code in the bundle (each `HashMap<u64, T>`
//! brings its own copy of hashbrown's).

#[derive(Clone)]
pub struct IdMap<T>(Vec<(u64, T)>);

impl<T> IdMap<T> {
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    fn position(&self, id: u64) -> Option<usize> {
        self.0.iter().position(|(other, _)| *other == id)
    }

    /// Keeps `value` for `id`, in place of what was kept.
    pub fn insert(&mut self, id: u64, value: T) {
        match self.position(id) {
            Some(at) => self.0[at].1 = value,
            None => self.0.push((id, value)),
        }
    }

    pub fn get(&self, id: u64) -> Option<&T> {
        self.0.iter().find(|(other, _)| *other == id).map(|(_, value)| value)
    }

    pub fn remove(&mut self, id: u64) -> Option<T> {
        self.position(id).map(|at| self.0.swap_remove(at).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.0.iter().map(|(id, value)| (*id, value))
    }
}

#[cfg(test)]
mod tests {
    use super::IdMap;

    #[test]
    fn keeps_one_value_per_id() {
        let mut map = IdMap::new();
        map.insert(1, "a");
        map.insert(2, "b");
        map.insert(1, "c");
        assert_eq!(map.get(1), Some(&"c"));
        assert_eq!(map.iter().count(), 2);
        assert_eq!(map.remove(1), Some("c"));
        assert_eq!(map.get(1), None);
        assert_eq!(map.get(2), Some(&"b"));
        assert_eq!(map.remove(1), None);
    }
}
