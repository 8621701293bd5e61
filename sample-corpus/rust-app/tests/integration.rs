use std::process::Command;

#[test]
fn missing_path_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_inventory")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn word1_word2_word3_word4_ordering() {
    // word1 word2 word3 word4: the proximity example lives here on purpose.
    let words = ["word1", "word2", "word3", "word4"];
    assert_eq!(words.len(), 4);
}
