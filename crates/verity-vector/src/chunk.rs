//! Splitting files into chunks: windows of `lines` lines, each starting `lines - overlap`
//! lines after the previous one, so that text near a window boundary is whole in at least one
//! chunk whenever it spans at most `overlap + 1` lines. The last window ends at the last line.

/// Chunking settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkOptions {
    /// Lines per chunk (at least 1).
    pub lines: usize,
    /// Lines shared by consecutive chunks (less than `lines`).
    pub overlap: usize,
}

impl Default for ChunkOptions {
    /// 40-line windows overlapping by 10 lines: about a function per chunk.
    fn default() -> Self {
        ChunkOptions {
            lines: 40,
            overlap: 10,
        }
    }
}

/// A chunk of a file: 1-based inclusive line range and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// First line, from 1.
    pub first_line: usize,
    /// Last line, inclusive.
    pub last_line: usize,
    /// The lines joined with `\n`.
    pub text: String,
}

/// Chunks `text`. An empty text has no chunks. Line ends are `\n` (a `\r` before it stays
/// in the text). Panics never: `lines` 0 counts as 1 and `overlap` is capped at `lines - 1`.
pub fn chunk(text: &str, opts: ChunkOptions) -> Vec<Chunk> {
    let lines: Vec<&str> = if text.is_empty() {
        Vec::new()
    } else {
        text.strip_suffix('\n')
            .unwrap_or(text)
            .split('\n')
            .collect()
    };
    windows(lines.len(), opts)
        .into_iter()
        .map(|(first_line, last_line)| Chunk {
            first_line,
            last_line,
            text: lines[first_line - 1..last_line].join("\n"),
        })
        .collect()
}

/// The line ranges (1-based, inclusive) of the chunks of a text of `line_count` lines: the
/// windows depend on nothing else, so an index keeps a file's line count, not its ranges.
pub fn windows(line_count: usize, opts: ChunkOptions) -> Vec<(usize, usize)> {
    (0..window_count(line_count, opts))
        .map(|i| window(line_count, i, opts))
        .collect()
}

/// Window size and the lines from one window's start to the next's.
fn size_and_step(opts: ChunkOptions) -> (usize, usize) {
    let size = opts.lines.max(1);
    (size, size - opts.overlap.min(size - 1))
}

/// How many chunks a text of `line_count` lines has: the windows start every `step` lines
/// until one reaches the last line.
pub fn window_count(line_count: usize, opts: ChunkOptions) -> usize {
    let (size, step) = size_and_step(opts);
    match line_count {
        0 => 0,
        n if n <= size => 1,
        n => 1 + (n - size).div_ceil(step),
    }
}

/// The line range (1-based, inclusive) of chunk `i` of a text of `line_count` lines
/// (`i` < [`window_count`]).
pub fn window(line_count: usize, i: usize, opts: ChunkOptions) -> (usize, usize) {
    let (size, step) = size_and_step(opts);
    let start = i * step;
    (start + 1, (start + size).min(line_count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn windows_overlap_and_keep_line_ranges() {
        let text: String = (1..=10).map(|i| format!("l{i}\n")).collect();
        let c = chunk(
            &text,
            ChunkOptions {
                lines: 4,
                overlap: 1,
            },
        );
        let ranges: Vec<(usize, usize)> = c.iter().map(|c| (c.first_line, c.last_line)).collect();
        assert_eq!(ranges, [(1, 4), (4, 7), (7, 10)]);
        assert_eq!(c[1].text, "l4\nl5\nl6\nl7");
        assert!(chunk("", ChunkOptions::default()).is_empty());
        assert_eq!(
            chunk("one line", ChunkOptions::default())[0].text,
            "one line"
        );
    }

    proptest! {
        /// Every line is in some chunk; chunk texts are exactly their line ranges; every run of
        /// overlap + 1 lines is whole in one chunk.
        #[test]
        fn chunks_cover_every_line(n in 0usize..200, size in 0usize..30, overlap in 0usize..40) {
            let text: String = (1..=n).map(|i| format!("line {i}\n")).collect();
            let opts = ChunkOptions { lines: size, overlap };
            let cs = chunk(&text, opts);
            let all: Vec<&str> = text.lines().collect();
            for c in &cs {
                prop_assert_eq!(&c.text, &all[c.first_line - 1..c.last_line].join("\n"));
            }
            for l in 1..=n {
                prop_assert!(cs.iter().any(|c| c.first_line <= l && l <= c.last_line));
            }
            // Only the last window reaches the last line, and nothing is past it.
            if let Some((last, before)) = cs.split_last() {
                prop_assert_eq!(last.last_line, n);
                prop_assert!(before.iter().all(|c| c.last_line < n));
            }
            let span = overlap.min(size.max(1) - 1) + 1;
            for l in 1..=n.saturating_sub(span - 1) {
                let last = l + span - 1;
                prop_assert!(cs.iter().any(|c| c.first_line <= l && last <= c.last_line), "lines {}..{}", l, last);
            }
        }
    }
}
