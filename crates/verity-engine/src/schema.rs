//! The tantivy schema of a Verity index: one document per file.
//!
//! Nothing is stored in tantivy's doc store: the texts and paths verification reads are in
//! the engine's own text store (`crate::text_store`), found by the `text` fast field, and
//! the rest are fast fields. Nor are trigrams or words: each batch of the text store carries
//! the trigram index and the word index of its texts (`crate::trigram_index`,
//! `crate::word_index`). tantivy keeps documents, their paths and fast fields, and deletes.

use tantivy::schema::{Field, Schema, FAST, STRING};

/// Name of the path field (also a fast field: paths without loading documents).
pub const PATH_FIELD: &str = "path";

/// Name of the text-address field ([`Fields::text`]).
pub const TEXT_FIELD: &str = "text";

/// The text address of entry `entry` of batch `batch` of the text store: the value of the
/// `text` field ([`Fields::text`]).
pub(crate) fn address(batch: u32, entry: u32) -> u64 {
    (u64::from(batch) << 32) | u64::from(entry)
}

/// The batch and entry of a text address.
pub(crate) fn split(address: u64) -> (u32, u32) {
    ((address >> 32) as u32, address as u32)
}

/// Handles to the fields of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Corpus-relative path with `/` separators: the document's identity.
    pub path: Field,
    /// The address of the document's path and decoded text in the text store
    /// (`crate::text_store`): what verification and display read.
    pub text: Field,
    /// Modification time (ns since the epoch) and size when indexed: change detection.
    pub mtime: Field,
    /// Size in bytes when indexed: change detection.
    pub size: Field,
    /// xxh3 of the raw bytes: the corpus fingerprint.
    pub hash: Field,
}

/// The index's schema, and its fields by role.
pub fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let path = b.add_text_field(PATH_FIELD, STRING | FAST);
    let text = b.add_u64_field(TEXT_FIELD, FAST);
    let mtime = b.add_u64_field("mtime", FAST);
    let size = b.add_u64_field("size", FAST);
    let hash = b.add_u64_field("hash", FAST);
    (
        b.build(),
        Fields {
            path,
            text,
            mtime,
            size,
            hash,
        },
    )
}
