//! Inventory service entry point.

use std::collections::HashMap;
use std::env;
use std::process::ExitCode;

mod error;
mod store;

use crate::error::InventoryError;
use crate::store::{Item, Store};

#[derive(Debug, Clone, PartialEq)]
struct Config {
    path: String,
    verbose: bool,
}

fn parse_args(args: &[String]) -> Result<Config, InventoryError> {
    let mut path = None;
    let mut verbose = false;
    for arg in args.iter().skip(1) {
        match arg.as_str() {
            "-v" | "--verbose" => verbose = true,
            other if other.starts_with('-') => {
                return Err(InventoryError::Usage(format!("unknown flag {other}")))
            }
            other => path = Some(other.to_string()),
        }
    }
    let path = path.ok_or_else(|| InventoryError::Usage("missing path".into()))?;
    Ok(Config { path, verbose })
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().collect();
    let config = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut store = Store::default();
    let mut counts: HashMap<String, Vec<u32>> = HashMap::new();
    if let Err(e) = store.load(&config.path) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    for item in store.items() {
        counts.entry(item.category.clone()).or_default().push(item.quantity);
    }
    if config.verbose {
        for (category, quantities) in &counts {
            println!("{category}: {:?}", quantities);
        }
    }
    let total: u32 = store.items().map(|i: &Item| i.quantity).sum();
    println!("{total} items");
    ExitCode::SUCCESS
}
