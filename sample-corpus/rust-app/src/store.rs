use std::collections::HashMap;
use std::collections::BTreeMap;
use std::fs;

use crate::error::{InventoryError, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub name: String,
    pub category: String,
    pub quantity: u32,
}

#[derive(Debug, Default)]
pub struct Store {
    items: Vec<Item>,
    by_name: HashMap<String, usize>,
}

impl Store {
    /// Loads `name,category,quantity` lines from a file.
    pub fn load(&mut self, path: &str) -> Result<()> {
        let text = fs::read_to_string(path)?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let item = parse_line(line).map_err(|message| InventoryError::Parse {
                line: n + 1,
                message,
            })?;
            self.insert(item);
        }
        Ok(())
    }

    pub fn insert(&mut self, item: Item) {
        match self.by_name.get(&item.name) {
            Some(&i) => self.items[i].quantity += item.quantity,
            None => {
                self.by_name.insert(item.name.clone(), self.items.len());
                self.items.push(item);
            }
        }
    }

    pub fn items(&self) -> impl Iterator<Item = &Item> + '_ {
        self.items.iter()
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Item> {
        let i = *self.by_name.get(name)?;
        self.items.get_mut(i)
    }

    pub fn by_category(&self) -> BTreeMap<&str, Vec<&Item>> {
        let mut out: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
        for item in &self.items {
            out.entry(item.category.as_str()).or_default().push(item);
        }
        out
    }
}

fn parse_line(line: &str) -> std::result::Result<Item, String> {
    let parts: Vec<&str> = line.split(',').map(str::trim).collect();
    let [name, category, quantity] = parts.as_slice() else {
        return Err(format!("expected 3 fields, found {}", parts.len()));
    };
    let quantity = quantity
        .parse::<u32>()
        .map_err(|e| format!("bad quantity {quantity:?}: {e}"))?;
    Ok(Item {
        name: name.to_string(),
        category: category.to_string(),
        quantity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_line_reads_three_fields() {
        let item = parse_line("bolt, hardware, 12").unwrap();
        assert_eq!(item.quantity, 12);
    }

    #[test]
    fn insert_merges_quantities() {
        let mut store = Store::default();
        let bolt = Item { name: "bolt".into(), category: "hw".into(), quantity: 1 };
        store.insert(bolt.clone());
        store.insert(bolt);
        assert_eq!(store.get_mut("bolt").map(|i| i.quantity), Some(2));
    }
}
