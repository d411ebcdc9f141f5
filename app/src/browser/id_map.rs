//! What the page keeps per queued file, by the file's queue id. A page holds
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

    pub fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        self.0
            .iter_mut()
            .find(|(other, _)| *other == id)
            .map(|(_, value)| value)
    }

    pub fn contains(&self, id: u64) -> bool {
        self.position(id).is_some()
    }

    pub fn remove(&mut self, id: u64) -> Option<T> {
        self.position(id).map(|at| self.0.swap_remove(at).1)
    }

    /// What is kept for `id`, kept as `T::default()` first if nothing was.
    pub fn get_or_default(&mut self, id: u64) -> &mut T
    where
        T: Default,
    {
        let at = match self.position(id) {
            Some(at) => at,
            None => {
                self.0.push((id, T::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[at].1
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
        assert!(!map.contains(1));
        assert_eq!(map.get(2), Some(&"b"));
        assert_eq!(map.remove(1), None);
    }

    #[test]
    fn get_or_default_keeps_what_it_makes() {
        let mut map: IdMap<Vec<u8>> = IdMap::new();
        map.get_or_default(7).push(1);
        map.get_or_default(7).push(2);
        assert_eq!(map.get(7), Some(&vec![1, 2]));
    }
}
