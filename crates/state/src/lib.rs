//! `state` defines the manager's persisted runtime state on disk: a snapshot plus an
//! append-only journal under `<runtime-dir>/state` (DESIGN.md §2). It knows the format —
//! magic, version, length, checksum, size limits — and nothing about what the records mean:
//! the manager serialises its own `*State` types into them.
//!
//! Layout of both files: an 8-byte magic, a 4-byte little-endian format version and an
//! 8-byte generation, then records of `length: u32 LE | crc32c(payload): u32 LE | payload
//! (JSON)`. The snapshot holds one record; the journal holds the changes since that
//! snapshot, one per record, and carries the snapshot's generation.
//!
//! The files live on tmpfs, so only the manager process can die mid-write, never the page
//! cache: a record is either complete or a torn tail. Reading stops at the first record
//! that is short, too long or fails its checksum, and reports how many bytes it dropped;
//! nothing after a bad record is ever trusted. A new snapshot (with the next generation) is
//! written to a temporary file and renamed over the old one, then a fresh journal of that
//! generation replaces the old one. A crash between the two leaves an old journal whose
//! generation no longer matches: it is ignored, since the new snapshot already contains
//! its changes and replaying them would move state backwards.

mod crc;

pub use crc::crc32c;

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The first bytes of every state file.
pub const MAGIC: &[u8; 8] = b"SMSTATE\0";
/// The version of the framing (not of the payloads, which version themselves).
pub const FORMAT_VERSION: u32 = 1;
/// The largest record accepted, so a corrupt length can never make us allocate gigabytes.
pub const MAX_RECORD: usize = 64 << 20;

const HEADER_LEN: usize = 20;

/// Why a state file could not be used at all.
#[derive(Debug)]
pub enum Error {
    Io(io::Error),
    /// Not a state file, or one of a format version this manager does not know.
    BadHeader,
    /// A record decoded, but its payload is not the expected type.
    Payload(serde_json::Error),
    /// A record to write exceeds [`MAX_RECORD`].
    TooLarge(usize),
    /// [`StateDir::append`] before any [`StateDir::write_snapshot`] in this process.
    NoSnapshot,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::BadHeader => write!(f, "not a sysmaster state file of format {FORMAT_VERSION}"),
            Error::Payload(e) => write!(f, "record payload: {e}"),
            Error::TooLarge(n) => write!(f, "record of {n} bytes exceeds {MAX_RECORD}"),
            Error::NoSnapshot => write!(f, "journal written before a snapshot"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

fn header(generation: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    h.extend_from_slice(&generation.to_le_bytes());
    h
}

/// Frames one payload as a record.
pub fn encode_record(payload: &[u8]) -> Result<Vec<u8>, Error> {
    if payload.len() > MAX_RECORD {
        return Err(Error::TooLarge(payload.len()));
    }
    let len = u32::try_from(payload.len()).map_err(|_| Error::TooLarge(payload.len()))?;
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32c(payload).to_le_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

/// The records of a file's body, up to the first one that is incomplete or corrupt, and
/// the number of bytes dropped from there on.
pub fn decode_records(body: &[u8]) -> (Vec<&[u8]>, usize) {
    let mut records = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let Some(record) = next_record(rest) else {
            break;
        };
        let (payload, after) = record;
        records.push(payload);
        rest = after;
    }
    (records, rest.len())
}

fn next_record(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = bytes.split_first_chunk::<4>()?;
    let (crc, rest) = rest.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
    if len > MAX_RECORD || rest.len() < len {
        return None;
    }
    let (payload, after) = rest.split_at(len);
    (crc32c(payload) == u32::from_le_bytes(*crc)).then_some((payload, after))
}

/// Splits a file into its generation and body, checking magic and version.
fn body(bytes: &[u8]) -> Result<(u64, &[u8]), Error> {
    let (magic, rest) = bytes.split_first_chunk::<8>().ok_or(Error::BadHeader)?;
    let (version, rest) = rest.split_first_chunk::<4>().ok_or(Error::BadHeader)?;
    let (generation, rest) = rest.split_first_chunk::<8>().ok_or(Error::BadHeader)?;
    if magic != MAGIC || u32::from_le_bytes(*version) != FORMAT_VERSION {
        return Err(Error::BadHeader);
    }
    Ok((u64::from_le_bytes(*generation), rest))
}

/// What [`StateDir::load`] found.
#[derive(Debug)]
pub struct Loaded<S, J> {
    pub snapshot: Option<S>,
    pub journal: Vec<J>,
    /// Bytes of torn or corrupt journal tail that were ignored (worth a log line).
    pub dropped: usize,
    /// The journal belonged to an older snapshot and was ignored (a crash while a new
    /// snapshot was being written).
    pub stale_journal: bool,
}

/// The `state/` directory: `snapshot` and `journal`.
#[derive(Debug)]
pub struct StateDir {
    dir: PathBuf,
    journal: Option<File>,
    /// The generation of the last snapshot read or written.
    generation: u64,
}

impl StateDir {
    pub fn new(dir: &Path) -> io::Result<StateDir> {
        fs::create_dir_all(dir)?;
        Ok(StateDir {
            dir: dir.to_path_buf(),
            journal: None,
            generation: 0,
        })
    }

    fn snapshot_path(&self) -> PathBuf {
        self.dir.join("snapshot")
    }

    fn journal_path(&self) -> PathBuf {
        self.dir.join("journal")
    }

    /// Reads the snapshot and the journal entries after it. A missing snapshot is `None`
    /// (first start); a snapshot that is not whole is an error, since it was renamed into
    /// place complete.
    pub fn load<S: DeserializeOwned, J: DeserializeOwned>(
        &mut self,
    ) -> Result<Loaded<S, J>, Error> {
        let (snapshot, generation) = match fs::read(self.snapshot_path()) {
            Ok(bytes) => {
                let (generation, body) = body(&bytes)?;
                let (records, dropped) = decode_records(body);
                match (records.first(), dropped) {
                    (Some(payload), 0) => (
                        Some(serde_json::from_slice(payload).map_err(Error::Payload)?),
                        generation,
                    ),
                    _ => return Err(Error::BadHeader),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => (None, 0),
            Err(e) => return Err(e.into()),
        };
        self.generation = self.generation.max(generation);
        let mut loaded = Loaded {
            snapshot,
            journal: Vec::new(),
            dropped: 0,
            stale_journal: false,
        };
        match fs::read(self.journal_path()) {
            Ok(bytes) => {
                let (journal_generation, body) = body(&bytes)?;
                if journal_generation != generation || loaded.snapshot.is_none() {
                    loaded.stale_journal = true;
                    return Ok(loaded);
                }
                let (records, dropped) = decode_records(body);
                loaded.journal = records
                    .into_iter()
                    .map(|p| serde_json::from_slice(p).map_err(Error::Payload))
                    .collect::<Result<Vec<J>, Error>>()?;
                loaded.dropped = dropped;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        Ok(loaded)
    }

    /// Appends to the journal found by [`StateDir::load`] instead of starting a new
    /// snapshot: a manager that recovered from a whole journal (no torn tail, not stale)
    /// goes on where the previous one stopped. Returns the journal's size in bytes.
    pub fn resume_journal(&mut self) -> Result<u64, Error> {
        let file = fs::OpenOptions::new()
            .append(true)
            .open(self.journal_path())?;
        let size = file.metadata()?.len();
        self.journal = Some(file);
        Ok(size)
    }

    /// Replaces the snapshot atomically (with the next generation) and starts an empty
    /// journal of that generation.
    pub fn write_snapshot<S: Serialize>(&mut self, state: &S) -> Result<(), Error> {
        let payload = serde_json::to_vec(state).map_err(Error::Payload)?;
        let generation = self.generation.wrapping_add(1);
        let mut bytes = header(generation);
        bytes.extend(encode_record(&payload)?);
        let tmp = self.dir.join("snapshot.tmp");
        fs::write(&tmp, &bytes)?;
        fs::rename(&tmp, self.snapshot_path())?;
        self.generation = generation;
        let tmp = self.dir.join("journal.tmp");
        let mut journal = File::create(&tmp)?;
        journal.write_all(&header(generation))?;
        fs::rename(&tmp, self.journal_path())?;
        self.journal = Some(journal);
        Ok(())
    }

    /// Appends one journal entry. The write is a single `write(2)` of the whole record,
    /// so a crash leaves it whole or torn, never interleaved.
    pub fn append<J: Serialize>(&mut self, entry: &J) -> Result<(), Error> {
        self.append_all(std::slice::from_ref(entry)).map(|_| ())
    }

    /// Appends several entries with one `write(2)`; a crash keeps a prefix of them.
    /// Returns the bytes written.
    pub fn append_all<J: Serialize>(&mut self, entries: &[J]) -> Result<usize, Error> {
        let mut bytes = Vec::new();
        for entry in entries {
            let payload = serde_json::to_vec(entry).map_err(Error::Payload)?;
            bytes.extend(encode_record(&payload)?);
        }
        let journal = self.journal.as_mut().ok_or(Error::NoSnapshot)?;
        journal.write_all(&bytes)?;
        Ok(bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Snap {
        units: Vec<String>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Change {
        unit: String,
        state: String,
    }

    fn change(i: usize) -> Change {
        Change {
            unit: format!("u{i}.service"),
            state: "active".into(),
        }
    }

    #[test]
    fn snapshot_and_journal_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = StateDir::new(dir.path()).unwrap();
        let empty: Loaded<Snap, Change> = s.load().unwrap();
        assert!(empty.snapshot.is_none() && empty.journal.is_empty());

        let snap = Snap {
            units: vec!["a.service".into()],
        };
        s.write_snapshot(&snap).unwrap();
        for i in 0..3 {
            s.append(&change(i)).unwrap();
        }
        let loaded: Loaded<Snap, Change> = StateDir::new(dir.path()).unwrap().load().unwrap();
        assert!(!loaded.stale_journal);
        assert_eq!(loaded.snapshot, Some(snap.clone()));
        assert_eq!(loaded.journal, (0..3).map(change).collect::<Vec<_>>());
        assert_eq!(loaded.dropped, 0);

        // A new snapshot starts a new journal.
        s.write_snapshot(&snap).unwrap();
        let loaded: Loaded<Snap, Change> = s.load().unwrap();
        assert!(loaded.journal.is_empty());
    }

    /// A new process that loaded a whole journal appends to it; the next load sees both.
    #[test]
    fn a_loaded_journal_can_be_continued() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = StateDir::new(dir.path()).unwrap();
        let snap = Snap { units: vec![] };
        s.write_snapshot(&snap).unwrap();
        s.append(&change(0)).unwrap();
        let mut next = StateDir::new(dir.path()).unwrap();
        let loaded: Loaded<Snap, Change> = next.load().unwrap();
        assert_eq!(loaded.journal, vec![change(0)]);
        assert!(next.resume_journal().unwrap() > 0);
        next.append_all(&[change(1), change(2)]).unwrap();
        let loaded: Loaded<Snap, Change> = StateDir::new(dir.path()).unwrap().load().unwrap();
        assert_eq!(loaded.journal, (0..3).map(change).collect::<Vec<_>>());
        assert!(!loaded.stale_journal);
        // A later compaction still supersedes it.
        next.write_snapshot(&snap).unwrap();
        let loaded: Loaded<Snap, Change> = StateDir::new(dir.path()).unwrap().load().unwrap();
        assert!(loaded.journal.is_empty() && !loaded.stale_journal);
    }

    /// A crash can cut the journal at any byte: loading then yields exactly the records
    /// written completely before the cut, never a damaged one.
    #[test]
    fn a_torn_journal_at_every_offset_gives_a_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = StateDir::new(dir.path()).unwrap();
        s.write_snapshot(&Snap { units: vec![] }).unwrap();
        let mut ends = vec![HEADER_LEN];
        for i in 0..5 {
            s.append(&change(i)).unwrap();
            ends.push(fs::metadata(dir.path().join("journal")).unwrap().len() as usize);
        }
        let full = fs::read(dir.path().join("journal")).unwrap();
        for cut in HEADER_LEN..=full.len() {
            fs::write(dir.path().join("journal"), &full[..cut]).unwrap();
            let loaded: Loaded<Snap, Change> = s.load().unwrap();
            let whole = ends.iter().filter(|&&e| e <= cut).count() - 1;
            assert_eq!(loaded.journal.len(), whole, "cut at {cut}");
            assert_eq!(loaded.journal, (0..whole).map(change).collect::<Vec<_>>());
            assert_eq!(loaded.dropped, cut - ends[whole], "cut at {cut}");
        }
    }

    #[test]
    fn a_corrupt_record_ends_the_journal_there() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = StateDir::new(dir.path()).unwrap();
        s.write_snapshot(&Snap { units: vec![] }).unwrap();
        for i in 0..3 {
            s.append(&change(i)).unwrap();
        }
        let path = dir.path().join("journal");
        let mut bytes = fs::read(&path).unwrap();
        // Flip a payload byte of the second record.
        let first_len = 8 + serde_json::to_vec(&change(0)).unwrap().len();
        bytes[HEADER_LEN + first_len + 10] ^= 0x20;
        fs::write(&path, &bytes).unwrap();
        let loaded: Loaded<Snap, Change> = s.load().unwrap();
        assert_eq!(loaded.journal, vec![change(0)]);
        assert!(loaded.dropped > 0);
    }

    #[test]
    fn foreign_or_damaged_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = StateDir::new(dir.path()).unwrap();
        fs::write(dir.path().join("snapshot"), b"not a state file").unwrap();
        assert!(matches!(s.load::<Snap, Change>(), Err(Error::BadHeader)));
        // A snapshot with a newer format version.
        let mut h = header(1);
        h[8] = 2;
        fs::write(dir.path().join("snapshot"), h).unwrap();
        assert!(matches!(s.load::<Snap, Change>(), Err(Error::BadHeader)));
    }

    /// A crash after the new snapshot is in place but before its journal replaced the old
    /// one: the old journal's changes are in the snapshot already and must not be replayed.
    #[test]
    fn a_journal_of_an_older_snapshot_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = StateDir::new(dir.path()).unwrap();
        s.write_snapshot(&Snap { units: vec![] }).unwrap();
        s.append(&change(0)).unwrap();
        let old_journal = fs::read(dir.path().join("journal")).unwrap();
        s.write_snapshot(&Snap {
            units: vec!["u0.service".into()],
        })
        .unwrap();
        fs::write(dir.path().join("journal"), old_journal).unwrap();
        let loaded: Loaded<Snap, Change> = StateDir::new(dir.path()).unwrap().load().unwrap();
        assert_eq!(loaded.snapshot.unwrap().units, vec!["u0.service"]);
        assert!(loaded.journal.is_empty());
        assert!(loaded.stale_journal);
    }

    #[test]
    fn appending_needs_a_snapshot_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = StateDir::new(dir.path()).unwrap();
        assert!(matches!(s.append(&change(0)), Err(Error::NoSnapshot)));
        // Generations continue across restarts of the manager.
        s.write_snapshot(&Snap { units: vec![] }).unwrap();
        let mut again = StateDir::new(dir.path()).unwrap();
        let _: Loaded<Snap, Change> = again.load().unwrap();
        again.write_snapshot(&Snap { units: vec![] }).unwrap();
        let bytes = fs::read(dir.path().join("snapshot")).unwrap();
        assert_eq!(body(&bytes).unwrap().0, 2);
    }

    #[test]
    fn oversized_lengths_are_not_trusted() {
        let mut bytes = (u32::MAX).to_le_bytes().to_vec();
        bytes.extend([0u8; 12]);
        assert_eq!(decode_records(&bytes), (vec![], bytes.len()));
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let (records, dropped) = decode_records(&bytes);
            let used: usize = records.iter().map(|r| r.len() + 8).sum();
            proptest::prop_assert_eq!(used + dropped, bytes.len());
        }
    }
}
