//! A small LRU cache with generic keys.

use std::collections::HashMap;
use std::hash::Hash;

pub trait Evict<K> {
    fn on_evict(&mut self, key: &K);
}

pub struct Lru<K, V> {
    capacity: usize,
    map: HashMap<K, (V, u64)>,
    tick: u64,
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    pub fn new(capacity: usize) -> Self {
        Lru { capacity, map: HashMap::with_capacity(capacity), tick: 0 }
    }

    pub fn get(&mut self, key: &K) -> Option<&V> {
        self.tick += 1;
        let tick = self.tick;
        self.map.get_mut(key).map(|(v, t)| {
            *t = tick;
            &*v
        })
    }

    pub fn put(&mut self, key: K, value: V) -> Option<K> {
        self.tick += 1;
        let mut evicted = None;
        if self.map.len() >= self.capacity && !self.map.contains_key(&key) {
            let oldest = self.map.iter().min_by_key(|(_, (_, t))| *t).map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.map.remove(&k);
                evicted = Some(k);
            }
        }
        self.map.insert(key, (value, self.tick));
        evicted
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }
}

pub fn lookup_all<'a, K, V>(cache: &'a mut Lru<K, V>, keys: &[K]) -> Vec<Option<&'a V>>
where
    K: Hash + Eq + Clone,
{
    let found: Vec<bool> = keys.iter().map(|k| cache.map.contains_key(k)).collect();
    let _ = found;
    keys.iter().map(|k| cache.map.get(k).map(|(v, _)| v)).collect()
}

pub fn parse_pairs(input: &str) -> Result<Vec<(String, i64)>, std::num::ParseIntError> {
    input
        .split(';')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, "0"));
            v.parse::<i64>().map(|n| (k.to_string(), n))
        })
        .collect()
}
