//! Index generations: how an update becomes visible all at once.
//!
//! An index directory holds numbered *generations*, each a complete index (the tantivy files,
//! `vectors/` and the generation's settings), and a pointer, `verity.json`, naming the current
//! one:
//!
//! ```text
//! .verity/
//!   verity.json          {"format_version": 8, "generation": 7}
//!   gen-000006/          the previous generation, kept for searches that opened it
//!   gen-000007/          the current generation
//!   .verity-writer.lock  held by the one `verity index` run that may write
//! ```
//!
//! An update never touches the current generation. It writes the next one beside it (the
//! unchanged tantivy files are hard links, the vectors are written anew), makes it durable,
//! and then replaces the pointer with one `rename`: the text and the vectors of a generation
//! become visible together, and a search that reads the pointer before or after that moment
//! sees a whole generation, old or new. An update interrupted at any point leaves the pointer
//! and the current generation as they were; the next update removes what it left behind.
//!
//! A published generation is never written again, so searching needs no lock and no write
//! access ([`ReadOnlyDirectory`]): a shared, read-only index can be searched.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::directory::error::{
    DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError,
};
use tantivy::directory::{
    DirectoryLock, FileHandle, Lock, MmapDirectory, WatchCallback, WatchHandle, WritePtr,
};
use tantivy::Directory;

use crate::error::EngineError;

/// Version of the on-disk format (layout, schema, tokenizers, text rules). Bump on any change
/// that makes an old index answer differently or that this engine cannot read.
pub const FORMAT_VERSION: u32 = 8;

/// The pointer file naming the current generation; its presence marks a Verity index.
pub const POINTER_FILE: &str = "verity.json";

/// The lock a writer holds for the whole of an update (a file lock the system releases when
/// its holder exits, however it exits).
const WRITER_LOCK: &str = ".verity-writer.lock";

/// Files of a generation that belong to tantivy's writer, never copied into the next one.
const TANTIVY_LOCKS: [&str; 2] = [".tantivy-writer.lock", ".tantivy-meta.lock"];

/// Contents of the pointer file.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pointer {
    format_version: u32,
    generation: u64,
}

/// A JSON error as `line L, column C: what`, without serde's own " at line L column C".
pub(crate) fn json_detail(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let what = msg
        .rsplit_once(" at line ")
        .map_or(msg.as_str(), |(m, _)| m);
    format!("line {}, column {}: {what}", e.line(), e.column())
}

/// The directory of generation `n` inside the index directory `dir`.
pub fn generation_dir(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("gen-{n:06}"))
}

/// The generation number of a directory entry named like [`generation_dir`]'s.
fn generation_of(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("gen-")?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The number of the next generation: past the current one and past any an interrupted
/// update left behind (so a reader never finds a reused number). Only names
/// `generation_of` accepts (`gen-` and digits) count: `gen-+1` is not a generation.
pub fn next(dir: &Path, current: Option<u64>) -> u64 {
    let newest_on_disk = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(generation_of))
        .max();
    current.max(newest_on_disk).map_or(1, |n| n + 1)
}

/// The current generation of the index in `dir`: `None` when `dir` holds no pointer (no index
/// yet). A pointer of another format version is [`EngineError::IndexVersion`].
pub fn current(dir: &Path) -> Result<Option<u64>, EngineError> {
    let path = dir.join(POINTER_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(EngineError::Io { path, source: e }),
    };
    // The version first, so an index of another version is reported as such even when the
    // rest of its pointer has another shape.
    #[derive(Deserialize)]
    struct Version {
        format_version: u32,
    }
    let corrupt = |e: serde_json::Error| EngineError::IndexCorrupt {
        path: path.clone(),
        detail: crate::generation::json_detail(&e),
    };
    let v: Version = serde_json::from_slice(&bytes).map_err(corrupt)?;
    if v.format_version != FORMAT_VERSION {
        return Err(EngineError::IndexVersion {
            path: dir.to_path_buf(),
            found: v.format_version,
            expected: FORMAT_VERSION,
        });
    }
    let p: Pointer = serde_json::from_slice(&bytes).map_err(corrupt)?;
    Ok(Some(p.generation))
}

/// Makes generation `n` the current one: its files are made durable first, then the pointer
/// is replaced in one rename, and the rename itself is made durable.
pub fn publish(dir: &Path, n: u64) -> Result<(), EngineError> {
    sync_tree(&generation_dir(dir, n))?;
    let pointer = Pointer {
        format_version: FORMAT_VERSION,
        generation: n,
    };
    let json = serde_json::to_vec_pretty(&pointer).expect("the pointer serializes");
    write_durably(&dir.join(POINTER_FILE), &json)
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one, whole:
/// a temporary file beside it, synced, renamed over it, and the directory synced.
pub fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), EngineError> {
    let io_at = |p: &Path| {
        let p = p.to_path_buf();
        move |source| EngineError::Io { path: p, source }
    };
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut f = File::create(&tmp).map_err(io_at(&tmp))?;
    f.write_all(bytes).map_err(io_at(&tmp))?;
    f.sync_all().map_err(io_at(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io_at(path))?;
    if let Some(parent) = path.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Syncs every file and directory under `root` to disk.
fn sync_tree(root: &Path) -> Result<(), EngineError> {
    let io_at = |p: &Path| {
        let p = p.to_path_buf();
        move |source| EngineError::Io { path: p, source }
    };
    for entry in std::fs::read_dir(root).map_err(io_at(root))? {
        let entry = entry.map_err(io_at(root))?;
        let path = entry.path();
        if entry.file_type().map_err(io_at(&path))?.is_dir() {
            sync_tree(&path)?;
        } else {
            File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(io_at(&path))?;
        }
    }
    sync_dir(root)
}

fn sync_dir(dir: &Path) -> Result<(), EngineError> {
    // Directories cannot be opened for syncing on every platform; where they can, a failed
    // sync is an error.
    match File::open(dir) {
        Ok(f) => f.sync_all().map_err(|source| EngineError::Io {
            path: dir.to_path_buf(),
            source,
        }),
        Err(_) if cfg!(windows) => Ok(()),
        Err(source) => Err(EngineError::Io {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// The exclusive right to update one index, held from before the update reads any state until
/// its generation is published. A second writer waits for the first.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Takes the writer's lock of the index in `dir` (which must exist), waiting while another
    /// process or thread holds it.
    pub fn acquire(dir: &Path) -> Result<WriterLock, EngineError> {
        let path = dir.join(WRITER_LOCK);
        let io_at = |source| EngineError::Io {
            path: path.clone(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_at)?;
        file.lock().map_err(io_at)?;
        Ok(WriterLock { _file: file })
    }
}

/// Starts generation `next` in `dir`: an empty directory, or, from generation `from`, a
/// directory holding the same tantivy files (hard links: a published generation's files are
/// never written again, and tantivy replaces rather than rewrites the ones it changes). A
/// directory left there by an interrupted update is removed first.
///
/// Returns the new directory and the recorded checksums of the files linked from `from`, for
/// [`write_checksums`]: a linked file keeps the checksum it was written with, so damage it
/// took since is still found, not recorded as its new state.
pub fn start(
    dir: &Path,
    from: Option<u64>,
    next: u64,
) -> Result<(PathBuf, KnownSums), EngineError> {
    let io_at = |p: &Path| {
        let p = p.to_path_buf();
        move |source| EngineError::Io { path: p, source }
    };
    let new = generation_dir(dir, next);
    if new.exists() {
        std::fs::remove_dir_all(&new).map_err(io_at(&new))?;
    }
    std::fs::create_dir_all(&new).map_err(io_at(&new))?;
    let mut inherited = KnownSums::default();
    let Some(from) = from else {
        return Ok((new, inherited));
    };
    let old = generation_dir(dir, from);
    // Without readable checksums in the old generation, the new one records what it finds.
    let old_sums = read_checksums(&old).unwrap_or_default();
    for entry in std::fs::read_dir(&old).map_err(io_at(&old))? {
        let entry = entry.map_err(io_at(&old))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        // `vectors/` is written anew by every update, and the settings with it.
        if entry.file_type().map_err(io_at(&entry.path()))?.is_dir()
            || TANTIVY_LOCKS.contains(&name)
            || name == GENERATION_META
        {
            continue;
        }
        let (src, dst) = (entry.path(), new.join(name));
        // The small files tantivy replaces in place are copied; segment files are linked
        // (copied where the file system has no hard links).
        let mutable = name == "meta.json" || name == ".managed.json";
        if mutable || std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst).map_err(io_at(&dst))?;
        }
        if !mutable {
            if let Some(sum) = old_sums.get(name) {
                inherited.0.insert(name.to_owned(), *sum);
            }
        }
    }
    Ok((new, inherited))
}

/// Checksums a new generation knows without reading its files: those it takes over from
/// the one it was started from, and those of files summed as they were written ([`Summed`]).
#[derive(Debug, Default)]
pub struct KnownSums(std::collections::BTreeMap<String, FileSum>);

impl KnownSums {
    /// Records the checksum of `name` (a path relative to the generation's directory),
    /// summed while it was written.
    pub(crate) fn record(&mut self, name: String, sum: FileSum) {
        self.0.insert(name, sum);
    }
}

fn read_checksums(
    gen_dir: &Path,
) -> Result<std::collections::BTreeMap<String, FileSum>, EngineError> {
    let path = gen_dir.join(CHECKSUMS);
    let corrupt = |detail: String| EngineError::IndexCorrupt {
        path: path.clone(),
        detail,
    };
    let bytes = std::fs::read(&path).map_err(|e| corrupt(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| corrupt(crate::generation::json_detail(&e)))
}

/// The file holding a generation's settings (corpus root, walk and vector settings).
pub const GENERATION_META: &str = "generation.json";

/// The file listing the size and checksum of every other file of a generation.
pub const CHECKSUMS: &str = "checksums.json";

/// One file's size and xxh3-64 checksum, as `checksums.json` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileSum {
    bytes: u64,
    xxh3: u64,
}

/// A writer that sums what goes through it, for a file written front to back in one go:
/// its checksum is then known when it is closed, and [`write_checksums`] need not read back
/// what was just written (the text store's batch is most of a generation's bytes).
pub(crate) struct Summed<W> {
    inner: W,
    hasher: xxhash_rust::xxh3::Xxh3,
    bytes: u64,
}

impl<W: io::Write> Summed<W> {
    pub fn new(inner: W) -> Self {
        Summed {
            inner,
            hasher: xxhash_rust::xxh3::Xxh3::new(),
            bytes: 0,
        }
    }

    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The size and checksum of everything written.
    pub fn sum(&self) -> FileSum {
        FileSum {
            bytes: self.bytes,
            xxh3: self.hasher.digest(),
        }
    }
}

impl<W: io::Write> io::Write for Summed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Every file of the generation in `gen_dir` (relative paths with `/`), but the checksums
/// themselves and lock files, sorted.
fn generation_files(gen_dir: &Path) -> Result<Vec<String>, EngineError> {
    fn walk(root: &Path, rel: &str, out: &mut Vec<String>) -> Result<(), EngineError> {
        let dir = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(rel)
        };
        let io_at = |source| EngineError::Io {
            path: dir.clone(),
            source,
        };
        for entry in std::fs::read_dir(&dir).map_err(io_at)? {
            let entry = entry.map_err(io_at)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if entry.file_type().map_err(io_at)?.is_dir() {
                walk(root, &path, out)?;
            } else if name != CHECKSUMS && !TANTIVY_LOCKS.contains(&name.as_str()) {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(gen_dir, "", &mut out)?;
    out.sort();
    Ok(out)
}

fn sum_of(path: &Path) -> io::Result<FileSum> {
    use std::io::Read;
    let mut f = File::open(path)?;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(FileSum {
        bytes,
        xxh3: hasher.digest(),
    })
}

/// Writes `checksums.json` for the generation in `gen_dir`: the size and checksum of every
/// file in it (so damage that no reader would notice, a flipped byte in a norm or a vector,
/// is found by [`verify`]).
pub fn write_checksums(gen_dir: &Path, known: &KnownSums) -> Result<(), EngineError> {
    use rayon::prelude::*;
    let files = generation_files(gen_dir)?;
    let sums: std::collections::BTreeMap<String, FileSum> = files
        .into_par_iter()
        .map(|rel| {
            if let Some(sum) = known.0.get(&rel) {
                return Ok((rel, *sum));
            }
            let path = gen_dir.join(&rel);
            sum_of(&path)
                .map(|s| (rel, s))
                .map_err(|source| EngineError::Io { path, source })
        })
        .collect::<Result<_, _>>()?;
    let json = serde_json::to_vec_pretty(&sums).expect("checksums serialize");
    write_durably(&gen_dir.join(CHECKSUMS), &json)
}

/// What [`verify`] found in a generation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Files checked (every file the generation lists).
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Files whose size or checksum differs from the one recorded: damaged.
    pub damaged: Vec<String>,
    /// Files the generation lists that are gone.
    pub missing: Vec<String>,
    /// Files in the generation that it does not list (written after it was published).
    pub unlisted: Vec<String>,
}

impl Verification {
    /// Is the generation exactly as it was written?
    pub fn is_intact(&self) -> bool {
        self.damaged.is_empty() && self.missing.is_empty() && self.unlisted.is_empty()
    }
}

/// Reads every file of the generation in `gen_dir` and compares it with its `checksums.json`.
/// A missing or unreadable `checksums.json` is [`EngineError::IndexCorrupt`].
pub fn verify(gen_dir: &Path) -> Result<Verification, EngineError> {
    use rayon::prelude::*;
    let listed = read_checksums(gen_dir)?;
    let on_disk = generation_files(gen_dir)?;
    let mut v = Verification {
        unlisted: on_disk
            .iter()
            .filter(|f| !listed.contains_key(*f))
            .cloned()
            .collect(),
        ..Verification::default()
    };
    let results: Vec<(String, FileSum, io::Result<FileSum>)> = listed
        .into_par_iter()
        .map(|(rel, want)| {
            let got = sum_of(&gen_dir.join(&rel));
            (rel, want, got)
        })
        .collect();
    for (rel, want, got) in results {
        v.files += 1;
        v.bytes += want.bytes;
        match got {
            Ok(got) if got == want => {}
            Ok(_) => v.damaged.push(rel),
            Err(e) if e.kind() == io::ErrorKind::NotFound => v.missing.push(rel),
            Err(_) => v.damaged.push(rel),
        }
    }
    Ok(v)
}

/// Removes every generation of `dir` but those in `keep`, and anything else an interrupted
/// update left behind. Failures are ignored: what is left is removed by the next update.
pub fn collect_garbage(dir: &Path, keep: &[u64]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stale_generation = generation_of(name).is_some_and(|n| !keep.contains(&n));
        let stale_pointer = name.starts_with(&format!(".{POINTER_FILE}")) && name.ends_with(".tmp");
        if stale_generation {
            let _ = std::fs::remove_dir_all(entry.path());
        } else if stale_pointer {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Removes what an index of an older layout kept at the top of `dir` (a format-1 index held
/// its tantivy files and `vectors/` there), leaving generations, the pointer and the lock.
pub fn remove_foreign_layout(dir: &Path) -> Result<(), EngineError> {
    let io_at = |p: &Path| {
        let p = p.to_path_buf();
        move |source| EngineError::Io { path: p, source }
    };
    for entry in std::fs::read_dir(dir).map_err(io_at(dir))? {
        let entry = entry.map_err(io_at(dir))?;
        let name = entry.file_name();
        let keep = name
            .to_str()
            .is_some_and(|n| generation_of(n).is_some() || n == POINTER_FILE || n == WRITER_LOCK);
        if keep {
            continue;
        }
        let path = entry.path();
        if entry.file_type().map_err(io_at(&path))?.is_dir() {
            std::fs::remove_dir_all(&path).map_err(io_at(&path))?;
        } else {
            std::fs::remove_file(&path).map_err(io_at(&path))?;
        }
    }
    Ok(())
}

/// A published generation's tantivy directory, opened for reading only: no lock files, no
/// writes. A published generation never changes, so tantivy's meta lock (which keeps a
/// writer's garbage collection from deleting files a reader is opening) has nothing to guard.
#[derive(Debug, Clone)]
pub struct ReadOnlyDirectory {
    inner: MmapDirectory,
}

impl ReadOnlyDirectory {
    /// Opens the generation directory `path`.
    pub fn open(path: &Path) -> Result<ReadOnlyDirectory, OpenDirectoryError> {
        Ok(ReadOnlyDirectory {
            inner: MmapDirectory::open(path)?,
        })
    }
}

fn read_only(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "{}: a published index generation is read-only",
            path.display()
        ),
    )
}

impl Directory for ReadOnlyDirectory {
    fn get_file_handle(
        &self,
        path: &Path,
    ) -> Result<std::sync::Arc<dyn FileHandle>, OpenReadError> {
        self.inner.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        Err(DeleteError::IoError {
            io_error: std::sync::Arc::new(read_only(path)),
            filepath: path.to_path_buf(),
        })
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        Err(OpenWriteError::IoError {
            io_error: std::sync::Arc::new(read_only(path)),
            filepath: path.to_path_buf(),
        })
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, _data: &[u8]) -> io::Result<()> {
        Err(read_only(path))
    }

    fn sync_directory(&self) -> io::Result<()> {
        Ok(())
    }

    fn acquire_lock(&self, _lock: &Lock) -> Result<DirectoryLock, LockError> {
        // Nothing writes a published generation: every lock is granted without a lock file.
        Ok(DirectoryLock::from(Box::new(())))
    }

    fn watch(&self, _watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        // A published generation never changes; there is nothing to watch.
        Ok(WatchHandle::empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_names_round_trip_and_other_names_are_not_generations() {
        let d = Path::new("/x");
        assert_eq!(generation_dir(d, 7), Path::new("/x/gen-000007"));
        assert_eq!(generation_of("gen-000007"), Some(7));
        assert_eq!(generation_of("gen-1234567"), Some(1_234_567));
        for other in ["gen-", "gen-1a", "gen--1", "vectors", "meta.json", "gen-+1"] {
            assert_eq!(generation_of(other), None, "{other}");
        }
    }

    #[test]
    fn the_next_generation_passes_the_current_one_and_every_one_left_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(next(dir.path(), None), 1);
        assert_eq!(next(dir.path(), Some(4)), 5);
        // An interrupted update left gen-000009 behind; other names do not count.
        for name in ["gen-000009", "gen-+99", "gen-12a", "vectors"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        assert_eq!(next(dir.path(), Some(4)), 10);
        assert_eq!(next(dir.path(), Some(20)), 21);
    }

    #[test]
    fn a_published_pointer_is_read_back_and_another_version_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(current(tmp.path()).unwrap(), None);
        std::fs::create_dir(generation_dir(tmp.path(), 3)).unwrap();
        std::fs::write(generation_dir(tmp.path(), 3).join("f"), b"x").unwrap();
        publish(tmp.path(), 3).unwrap();
        assert_eq!(current(tmp.path()).unwrap(), Some(3));
        std::fs::write(
            tmp.path().join(POINTER_FILE),
            br#"{"format_version": 1, "root": "/x"}"#,
        )
        .unwrap();
        assert!(matches!(
            current(tmp.path()),
            Err(EngineError::IndexVersion { found: 1, .. })
        ));
    }

    #[test]
    fn garbage_collection_keeps_what_it_is_told_and_nothing_else_of_its_own() {
        let tmp = tempfile::tempdir().unwrap();
        for n in 1..=4 {
            std::fs::create_dir(generation_dir(tmp.path(), n)).unwrap();
        }
        std::fs::write(tmp.path().join(".verity.json.tmp"), b"{").unwrap();
        std::fs::write(tmp.path().join("notes.txt"), b"not ours to remove").unwrap();
        collect_garbage(tmp.path(), &[3, 4]);
        let mut left: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["gen-000003", "gen-000004", "notes.txt"]);
    }
}
