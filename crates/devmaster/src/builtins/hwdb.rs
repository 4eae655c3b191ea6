//! The hardware database and the `hwdb` builtin, as systemd 252 has them (hwdb(7),
//! `sd-hwdb`, `systemd-hwdb`, `udev-builtin-hwdb.c`).
//!
//! [`Hwdb`] reads the compiled `hwdb.bin` of systemd 252 (the radix trie of
//! `hwdb-internal.h`: header, nodes with sorted child and value arrays, a string section),
//! with every offset bounds-checked so no file makes it panic or loop. [`compile`] turns
//! `hwdb.d` source files (match lines, then indented ` KEY=VALUE` lines, records separated
//! by empty lines) into the same format, as `systemd-hwdb update` does, so sources and a
//! compiled file answer lookups identically. A lookup walks the trie as sd-hwdb does:
//! literal characters directly, `*`/`?`/`[` branches by glob matching, and when one key
//! comes from several matching records the one from the later file (then later line) wins.
//!
//! [`load`] prefers a compiled file in udevd's search order and compiles the sources only
//! when none exists. [`run`] is the builtin: `hwdb [--subsystem=S] [--lookup-prefix=P]
//! [--filter=GLOB] [MODALIAS]`; without a modalias it walks the device and its parents for
//! `MODALIAS` (composing `usb:vXXXXpXXXX:<product>` for a USB device without one, and
//! stopping there). Not supported: `--device=` (the builtin cannot read another device).
//! The whole file is held in memory; an mmap can take its place ([`Hwdb::from_bytes`]
//! takes any byte container).

use std::collections::{BTreeMap, HashMap};

use super::{Output, System};
use crate::rules::pattern::glob;
use crate::rules::subst::Device;

const SIGNATURE: &[u8; 8] = b"KSLPHHRH";
const HEADER_SIZE: u64 = 80;
const NODE_SIZE: u64 = 24;
const CHILD_SIZE: u64 = 16;
const VALUE_SIZE_V1: u64 = 16;
const VALUE_SIZE_V2: u64 = 32;
/// sd-hwdb's line buffer: a glob longer than this cannot be matched.
const LINE_MAX: usize = 2048;

/// Where udevd looks for the compiled database, first found wins.
pub const BIN_PATHS: [&str; 6] = [
    "/etc/systemd/hwdb/hwdb.bin",
    "/etc/udev/hwdb.bin",
    "/usr/lib/systemd/hwdb/hwdb.bin",
    "/lib/systemd/hwdb/hwdb.bin",
    "/usr/lib/udev/hwdb.bin",
    "/lib/udev/hwdb.bin",
];

/// Source directories, highest priority first (a file name in an earlier one hides the
/// same name in later ones).
pub const SOURCE_DIRS: [&str; 3] = [
    "/etc/udev/hwdb.d",
    "/usr/lib/udev/hwdb.d",
    "/lib/udev/hwdb.d",
];

/// A compiled hardware database.
pub struct Hwdb {
    data: Box<dyn AsRef<[u8]> + Send + Sync>,
    node_size: u64,
    child_size: u64,
    value_size: u64,
    root: u64,
    /// Upper bound on node visits of one lookup (a legitimate trie visits each node at
    /// most once), so a file with cycles cannot make a lookup run forever.
    budget: u64,
}

impl std::fmt::Debug for Hwdb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hwdb({} bytes)", self.bytes().len())
    }
}

fn le64(b: &[u8], off: u64) -> Option<u64> {
    let off = usize::try_from(off).ok()?;
    let s = b.get(off..off.checked_add(8)?)?;
    Some(u64::from_le_bytes(s.try_into().ok()?))
}

fn le_n(b: &[u8], off: u64, n: usize) -> Option<u64> {
    let off = usize::try_from(off).ok()?;
    let s = b.get(off..off.checked_add(n)?)?;
    Some(s.iter().rev().fold(0, |acc, &x| (acc << 8) | u64::from(x)))
}

/// One value entry: key (without its leading space), value, and the priority it has
/// against the same key from another record.
#[derive(Clone, Copy)]
struct Entry {
    key: u64,
    value: u64,
    /// (file priority, line) in v2 files; `None` in v1 files (no ordering information).
    order: Option<(u64, u64, u64)>,
}

/// A node as read from the file.
struct Node {
    off: u64,
    prefix: u64,
    children: u64,
    values: u64,
}

impl Hwdb {
    /// Checks the header of a compiled database: signature, the size it records, entry
    /// sizes at least those of systemd 252 and a root node inside the file.
    pub fn from_bytes(data: impl AsRef<[u8]> + Send + Sync + 'static) -> Result<Hwdb, String> {
        let b = data.as_ref();
        if b.len() < HEADER_SIZE as usize {
            return Err("file is too short".into());
        }
        if b.get(..8) != Some(SIGNATURE.as_slice()) {
            return Err("not a hwdb file (bad signature)".into());
        }
        let field = |n: u64| le64(b, 8 + 8 * n).ok_or("truncated header");
        if field(1)? != b.len() as u64 {
            return Err("file size does not match its header".into());
        }
        let (header, node, child, value) = (field(2)?, field(3)?, field(4)?, field(5)?);
        if header < HEADER_SIZE || node < NODE_SIZE || child < CHILD_SIZE || value < VALUE_SIZE_V1 {
            return Err("entry sizes smaller than the format's".into());
        }
        let root = field(6)?;
        if root.checked_add(node).is_none_or(|e| e > b.len() as u64) {
            return Err("root node outside the file".into());
        }
        let budget = (b.len() as u64 / NODE_SIZE).saturating_mul(2) + 16;
        Ok(Hwdb {
            node_size: node,
            child_size: child,
            value_size: value,
            root,
            budget,
            data: Box::new(data),
        })
    }

    /// The compiled bytes.
    pub fn bytes(&self) -> &[u8] {
        (*self.data).as_ref()
    }

    fn node(&self, off: u64) -> Result<Node, String> {
        let b = self.bytes();
        let bad = || format!("node at {off} outside the file");
        let prefix = le64(b, off).ok_or_else(bad)?;
        let children = le_n(b, off.checked_add(8).ok_or_else(bad)?, 1).ok_or_else(bad)?;
        let values = le64(b, off.checked_add(16).ok_or_else(bad)?).ok_or_else(bad)?;
        // The arrays must fit in the file too.
        let end = children
            .checked_mul(self.child_size)
            .and_then(|c| {
                values
                    .checked_mul(self.value_size)
                    .and_then(|v| c.checked_add(v))
            })
            .and_then(|a| a.checked_add(off))
            .and_then(|a| a.checked_add(self.node_size));
        if end.is_none_or(|e| e > b.len() as u64) {
            return Err(format!("arrays of node at {off} outside the file"));
        }
        Ok(Node {
            off,
            prefix,
            children,
            values,
        })
    }

    /// The NUL-terminated string at `off`.
    fn string(&self, off: u64) -> Result<&[u8], String> {
        let b = self.bytes();
        let start = usize::try_from(off).map_err(|_| "string offset too large")?;
        let tail = b
            .get(start..)
            .ok_or_else(|| format!("string at {off} outside the file"))?;
        let len = tail
            .iter()
            .position(|&c| c == 0)
            .ok_or_else(|| format!("string at {off} not terminated"))?;
        Ok(tail.get(..len).unwrap_or_default())
    }

    fn child(&self, node: &Node, i: u64) -> Result<(u8, u64), String> {
        let off = node.off + self.node_size + i * self.child_size;
        let b = self.bytes();
        let c = le_n(b, off, 1).ok_or("child outside the file")?;
        let target = le64(b, off + 8).ok_or("child outside the file")?;
        Ok((c as u8, target))
    }

    /// Binary search of the sorted child array, as sd-hwdb's bsearch.
    fn lookup_child(&self, node: &Node, c: u8) -> Result<Option<u64>, String> {
        let (mut lo, mut hi) = (0, node.children);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (mc, target) = self.child(node, mid)?;
            match mc.cmp(&c) {
                std::cmp::Ordering::Equal => return Ok(Some(target)),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        Ok(None)
    }

    fn entry(&self, node: &Node, i: u64) -> Result<Entry, String> {
        let off = node.off + self.node_size + node.children * self.child_size + i * self.value_size;
        let b = self.bytes();
        let bad = || "value entry outside the file".to_string();
        let key = le64(b, off).ok_or_else(bad)?;
        let value = le64(b, off + 8).ok_or_else(bad)?;
        let order = if self.value_size >= VALUE_SIZE_V2 {
            let filename = le64(b, off + 16).ok_or_else(bad)?;
            let line = le_n(b, off + 24, 4).ok_or_else(bad)?;
            let prio = le_n(b, off + 28, 2).ok_or_else(bad)?;
            Some((prio, line, filename))
        } else {
            None
        };
        Ok(Entry { key, value, order })
    }

    /// The properties for `modalias`, in sd-hwdb's order; an error for a damaged file.
    pub fn try_lookup(&self, modalias: &str) -> Result<Vec<(String, String)>, String> {
        let mut s = Search {
            db: self,
            found: Vec::new(),
            budget: self.budget,
        };
        s.search(modalias.as_bytes())?;
        s.found
            .iter()
            .map(|(k, e)| {
                Ok((
                    String::from_utf8_lossy(k).into_owned(),
                    String::from_utf8_lossy(self.string(e.value)?).into_owned(),
                ))
            })
            .collect()
    }

    /// The properties for `modalias` (none for a damaged file).
    pub fn lookup(&self, modalias: &str) -> Vec<(String, String)> {
        self.try_lookup(modalias).unwrap_or_default()
    }
}

/// One lookup's state.
struct Search<'a> {
    db: &'a Hwdb,
    /// Key (without the leading space) → entry, in order of first insertion.
    found: Vec<(Vec<u8>, Entry)>,
    budget: u64,
}

impl Search<'_> {
    fn visit(&mut self, off: u64) -> Result<Node, String> {
        self.budget = self.budget.checked_sub(1).ok_or("trie has a cycle")?;
        self.db.node(off)
    }

    fn add(&mut self, e: Entry) -> Result<(), String> {
        let key = self.db.string(e.key)?;
        // Keys not starting with a space are reserved for future use.
        let Some(key) = key.strip_prefix(b" ") else {
            return Ok(());
        };
        match self.found.iter_mut().find(|(k, _)| k.as_slice() == key) {
            Some((_, old)) => {
                if let (Some((p, l, f)), Some((op, ol, of))) = (e.order, old.order) {
                    // Priority 0 marks the older v2 files: the filename offset stands in.
                    let lower = if p == 0 {
                        f < of || (f == of && l < ol)
                    } else {
                        p < op || (p == op && l < ol)
                    };
                    if lower {
                        return Ok(());
                    }
                }
                *old = e;
            }
            None => self.found.push((key.to_vec(), e)),
        }
        Ok(())
    }

    fn add_values(&mut self, node: &Node) -> Result<(), String> {
        for i in 0..node.values {
            let e = self.db.entry(node, i)?;
            self.add(e)?;
        }
        Ok(())
    }

    /// The glob part: collects every pattern below `node` (from byte `p` of its prefix) in
    /// `buf` and matches it against the rest of the modalias.
    fn fnmatch(
        &mut self,
        node: &Node,
        p: usize,
        buf: &mut Vec<u8>,
        rest: &[u8],
    ) -> Result<(), String> {
        let prefix = self.db.string(node.prefix)?;
        let own = prefix.get(p..).unwrap_or_default();
        let len = own.len();
        buf.extend_from_slice(own);
        if buf.len() >= LINE_MAX {
            return Err("pattern longer than a line".into());
        }
        for i in 0..node.children {
            let (c, off) = self.db.child(node, i)?;
            buf.push(c);
            let child = self.visit(off)?;
            self.fnmatch(&child, 0, buf, rest)?;
            buf.pop();
        }
        if node.values > 0 {
            let pattern = String::from_utf8_lossy(buf);
            if glob(&pattern, &String::from_utf8_lossy(rest), false) {
                self.add_values(node)?;
            }
        }
        buf.truncate(buf.len() - len);
        Ok(())
    }

    fn search(&mut self, search: &[u8]) -> Result<(), String> {
        let mut buf = Vec::new();
        let mut i = 0usize;
        let mut next = Some(self.db.root);
        while let Some(off) = next {
            let node = self.visit(off)?;
            if node.prefix != 0 {
                let prefix = self.db.string(node.prefix)?;
                for (p, &c) in prefix.iter().enumerate() {
                    if matches!(c, b'*' | b'?' | b'[') {
                        let rest = search.get(i + p..).unwrap_or_default();
                        return self.fnmatch(&node, p, &mut buf, rest);
                    }
                    if search.get(i + p) != Some(&c) {
                        return Ok(());
                    }
                }
                i += prefix.len();
            }
            let rest = search.get(i..).unwrap_or_default();
            for g in [b'*', b'?', b'['] {
                if let Some(off) = self.db.lookup_child(&node, g)? {
                    buf.push(g);
                    let child = self.visit(off)?;
                    self.fnmatch(&child, 0, &mut buf, rest)?;
                    buf.pop();
                }
            }
            let Some(&c) = search.get(i) else {
                return self.add_values(&node);
            };
            next = self.db.lookup_child(&node, c)?;
            i += 1;
        }
        Ok(())
    }
}

/// A diagnostic of the source parser or the loader: `file:line: message` (line 0 for a
/// whole file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file.
    pub file: String,
    /// 1-based line, 0 when about the whole file.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// A value in the in-memory trie.
#[derive(Clone)]
struct TrieValue {
    key: Vec<u8>,
    value: Vec<u8>,
    file: usize,
    priority: u16,
    line: u32,
}

#[derive(Default)]
struct TrieNode {
    prefix: Vec<u8>,
    children: Vec<(u8, TrieNode)>,
    values: Vec<TrieValue>,
}

impl TrieNode {
    /// Inserts as `systemd-hwdb` does, splitting nodes where prefixes diverge; the same
    /// key on the same match replaces the earlier value (files come in priority order).
    fn insert(&mut self, search: &[u8], v: TrieValue) {
        let mut node = self;
        let mut i = 0;
        loop {
            let split = node
                .prefix
                .iter()
                .enumerate()
                .find(|&(p, &c)| search.get(i + p) != Some(&c))
                .map(|(p, &c)| (p, c));
            if let Some((p, c)) = split {
                let tail = node.prefix.split_off(p);
                let moved = TrieNode {
                    prefix: tail.get(1..).unwrap_or_default().to_vec(),
                    children: std::mem::take(&mut node.children),
                    values: std::mem::take(&mut node.values),
                };
                node.children = vec![(c, moved)];
            }
            i += node.prefix.len();
            let Some(&c) = search.get(i) else {
                match node.values.binary_search_by(|x| x.key.cmp(&v.key)) {
                    Ok(k) => {
                        if let Some(slot) = node.values.get_mut(k) {
                            *slot = v;
                        }
                    }
                    Err(k) => node.values.insert(k, v),
                }
                return;
            };
            let k = match node.children.binary_search_by(|x| x.0.cmp(&c)) {
                Ok(k) => k,
                Err(k) => {
                    let child = TrieNode {
                        prefix: search.get(i + 1..).unwrap_or_default().to_vec(),
                        ..TrieNode::default()
                    };
                    node.children.insert(k, (c, child));
                    k
                }
            };
            let Some((_, child)) = node.children.get_mut(k) else {
                return;
            };
            node = child;
            i += 1;
        }
    }

    fn count(&self) -> (u64, u64, u64) {
        self.children.iter().fold(
            (1, self.children.len() as u64, self.values.len() as u64),
            |(n, c, v), (_, ch)| {
                let (a, b, d) = ch.count();
                (n + a, c + b, v + d)
            },
        )
    }
}

/// The string section being built: each distinct string once.
struct Strings {
    base: u64,
    buf: Vec<u8>,
    index: HashMap<Vec<u8>, u64>,
}

impl Strings {
    fn add(&mut self, s: &[u8]) -> u64 {
        if let Some(&off) = self.index.get(s) {
            return off;
        }
        let off = self.base + self.buf.len() as u64;
        self.buf.extend_from_slice(s);
        self.buf.push(0);
        self.index.insert(s.to_vec(), off);
        off
    }
}

/// Writes `node` after its children (so their offsets are known) and returns its offset.
fn store(node: &TrieNode, out: &mut Vec<u8>, strings: &mut Strings, files: &[String]) -> u64 {
    let offs: Vec<(u8, u64)> = node
        .children
        .iter()
        .map(|(c, ch)| (*c, store(ch, out, strings, files)))
        .collect();
    let off = out.len() as u64;
    let push = |out: &mut Vec<u8>, v: u64| out.extend_from_slice(&v.to_le_bytes());
    push(out, strings.add(&node.prefix));
    out.push(offs.len() as u8);
    out.extend_from_slice(&[0; 7]);
    push(out, node.values.len() as u64);
    for (c, o) in offs {
        out.push(c);
        out.extend_from_slice(&[0; 7]);
        push(out, o);
    }
    for v in &node.values {
        push(out, strings.add(&v.key));
        push(out, strings.add(&v.value));
        let name = files.get(v.file).map(String::as_bytes).unwrap_or_default();
        push(out, strings.add(name));
        out.extend_from_slice(&v.line.to_le_bytes());
        out.extend_from_slice(&v.priority.to_le_bytes());
        out.extend_from_slice(&[0; 2]);
    }
    off
}

/// Splits text into lines as systemd's `read_line()`: `\n`, `\r`, `\r\n` and NUL end a
/// line.
fn lines(text: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while let Some(&c) = text.get(i) {
        if matches!(c, b'\n' | b'\r' | 0) {
            out.push(text.get(start..i).unwrap_or_default());
            if c == b'\r' && text.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    if start < text.len() {
        out.push(text.get(start..).unwrap_or_default());
    }
    out
}

/// Compiles hwdb source files, given as (path, contents) in priority order (the order of
/// their file names; later wins), into systemd 252's binary format (v2 value entries with
/// file, line and priority).
pub fn compile(files: &[(String, Vec<u8>)]) -> (Vec<u8>, Vec<Diagnostic>) {
    let mut root = TrieNode::default();
    let mut diags = Vec::new();
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    for (fi, (name, text)) in files.iter().enumerate() {
        let priority = u16::try_from(fi + 1).unwrap_or(u16::MAX);
        import(&mut root, name, text, fi, priority, &mut diags);
    }
    let (n, c, v) = root.count();
    let nodes_len = n * NODE_SIZE + c * CHILD_SIZE + v * VALUE_SIZE_V2;
    let mut out = vec![0u8; HEADER_SIZE as usize];
    let mut strings = Strings {
        base: HEADER_SIZE + nodes_len,
        buf: Vec::new(),
        index: HashMap::new(),
    };
    // The empty string first, as systemd-hwdb's string buffer starts with it.
    strings.add(b"");
    let root_off = store(&root, &mut out, &mut strings, &names);
    out.extend_from_slice(&strings.buf);
    let header = [
        252,
        out.len() as u64,
        HEADER_SIZE,
        NODE_SIZE,
        CHILD_SIZE,
        VALUE_SIZE_V2,
        root_off,
        nodes_len,
        strings.buf.len() as u64,
    ];
    let mut head = SIGNATURE.to_vec();
    head.extend(header.iter().flat_map(|v| v.to_le_bytes()));
    out.splice(..HEADER_SIZE as usize, head);
    (out, diags)
}

/// Reads one source file into the trie (systemd-hwdb's `import_file`).
fn import(
    root: &mut TrieNode,
    name: &str,
    text: &[u8],
    file: usize,
    priority: u16,
    diags: &mut Vec<Diagnostic>,
) {
    #[derive(PartialEq)]
    enum State {
        None,
        Match,
        Data,
    }
    let mut state = State::None;
    let mut matches: Vec<Vec<u8>> = Vec::new();
    let mut warn = |line: usize, message: String| {
        diags.push(Diagnostic {
            file: name.to_string(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            message,
        })
    };
    let all = lines(text);
    for (n, raw) in all.iter().enumerate() {
        let lineno = n + 1;
        if raw.first() == Some(&b'#') {
            continue;
        }
        // A '#' anywhere starts a comment, then trailing whitespace goes.
        let mut line = match raw.iter().position(|&c| c == b'#') {
            Some(p) => raw.get(..p).unwrap_or_default(),
            None => raw,
        };
        while let Some((last, head)) = line.split_last() {
            if !last.is_ascii_whitespace() && *last != 0x0b {
                break;
            }
            line = head;
        }
        let shown = || String::from_utf8_lossy(line).into_owned();
        match state {
            State::None => {
                if line.is_empty() {
                    continue;
                }
                if line.first() == Some(&b' ') {
                    warn(
                        lineno,
                        format!(
                            "Match expected but got indented property \"{}\", ignoring line.",
                            shown()
                        ),
                    );
                    continue;
                }
                state = State::Match;
                matches.push(line.to_vec());
            }
            State::Match | State::Data if line.is_empty() => {
                if state == State::Match {
                    warn(
                        lineno,
                        "Property expected, ignoring record with no properties.".into(),
                    );
                }
                state = State::None;
                matches.clear();
            }
            State::Match if line.first() != Some(&b' ') => matches.push(line.to_vec()),
            State::Data if line.first() != Some(&b' ') => {
                warn(
                    lineno,
                    format!(
                        "Property or empty line expected, got \"{}\", ignoring record.",
                        shown()
                    ),
                );
                state = State::None;
                matches.clear();
            }
            State::Match | State::Data => {
                state = State::Data;
                let Some(eq) = line.iter().position(|&c| c == b'=') else {
                    warn(
                        lineno,
                        format!("Key-value pair expected but got \"{}\", ignoring.", shown()),
                    );
                    continue;
                };
                let (mut key, value) = (
                    line.get(..eq).unwrap_or_default(),
                    line.get(eq + 1..).unwrap_or_default(),
                );
                // Several leading blanks count as one.
                while key.len() > 1
                    && key.first().is_some_and(|c| *c == b' ' || *c == b'\t')
                    && key.get(1).is_some_and(|c| *c == b' ' || *c == b'\t')
                {
                    key = key.get(1..).unwrap_or_default();
                }
                if key.len() <= 1 {
                    warn(lineno, format!("Empty key in \"{}\", ignoring.", shown()));
                    continue;
                }
                for m in &matches {
                    root.insert(
                        m,
                        TrieValue {
                            key: key.to_vec(),
                            value: value.to_vec(),
                            file,
                            priority,
                            line: u32::try_from(lineno).unwrap_or(u32::MAX),
                        },
                    );
                }
            }
        }
    }
    if state == State::Match {
        warn(
            all.len(),
            "Property expected, ignoring record with no properties.".into(),
        );
    }
}

/// The `*.hwdb` files of `dirs` (highest priority first): one per file name, sorted by
/// name, as `conf_files_list` gives them.
pub fn source_files(system: &dyn System, dirs: &[&str]) -> Vec<String> {
    let mut by_name = BTreeMap::new();
    for dir in dirs {
        for name in system.read_dir(dir).unwrap_or_default() {
            if name.ends_with(".hwdb") {
                by_name
                    .entry(name.clone())
                    .or_insert(format!("{dir}/{name}"));
            }
        }
    }
    by_name.into_values().collect()
}

/// Loads the database as udevd would: the first compiled file of [`BIN_PATHS`]; without
/// one, the sources of [`SOURCE_DIRS`] compiled in memory. `None` when there is neither
/// (or the compiled file is damaged), with diagnostics saying why.
pub fn load(system: &dyn System) -> (Option<Hwdb>, Vec<Diagnostic>) {
    for path in BIN_PATHS {
        if let Some(bytes) = system.map(path) {
            return match Hwdb::from_bytes(bytes) {
                Ok(db) => (Some(db), Vec::new()),
                Err(e) => (
                    None,
                    vec![Diagnostic {
                        file: path.to_string(),
                        line: 0,
                        message: e,
                    }],
                ),
            };
        }
    }
    let files: Vec<(String, Vec<u8>)> = source_files(system, &SOURCE_DIRS)
        .into_iter()
        .filter_map(|p| system.read(&p).map(|b| (p, b)))
        .collect();
    if files.is_empty() {
        return (None, Vec::new());
    }
    let (bytes, diags) = compile(&files);
    (Hwdb::from_bytes(bytes).ok(), diags)
}

/// The modalias udev composes for a USB device without one.
fn usb_modalias(d: &dyn Device) -> Option<String> {
    let hex = |a: &str| -> Option<u16> {
        let v = d.sysattr(a)?;
        let v = v.trim();
        u16::from_str_radix(v.strip_prefix("0x").unwrap_or(v), 16).ok()
    };
    let (v, p) = (hex("idVendor")?, hex("idProduct")?);
    Some(format!(
        "usb:v{v:04X}p{p:04X}:{}",
        d.sysattr("product").unwrap_or_default()
    ))
}

/// Adds the properties of `prefix + modalias` whose key matches `filter`; how many.
fn lookup_into(
    hwdb: &Hwdb,
    out: &mut Output,
    prefix: Option<&str>,
    modalias: &str,
    filter: Option<&str>,
) -> usize {
    let key = format!("{}{modalias}", prefix.unwrap_or_default());
    let mut n = 0;
    for (k, v) in hwdb.lookup(&key) {
        if filter.is_some_and(|f| !glob(f, &k, false)) {
            continue;
        }
        out.set(k, v);
        n += 1;
    }
    n
}

/// The `hwdb` builtin. Options as getopt_long takes them (`--subsystem=S`, `--subsystem S`,
/// `-s S`, also after the modalias); the first other word is the modalias to look up.
/// An error when nothing was found, as udev's builtin fails then.
pub fn run(
    device: &dyn Device,
    _system: &dyn System,
    args: &[String],
    hwdb: &Hwdb,
) -> Result<Output, String> {
    let (mut filter, mut subsystem, mut prefix, mut modalias) = (None, None, None, None);
    let mut it = args.iter();
    let mut options_done = false;
    while let Some(a) = it.next() {
        if a == "--" && !options_done {
            options_done = true;
            continue;
        }
        let (name, inline) = if options_done {
            if modalias.is_none() {
                modalias = Some(a.clone());
            }
            continue;
        } else if let Some(long) = a.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (long.to_string(), None),
            }
        } else if a.len() > 1 && a.starts_with('-') {
            let (Some(o), Some(v)) = (a.get(..2), a.get(2..)) else {
                continue;
            };
            let long = match o {
                "-f" => "filter",
                "-d" => "device",
                "-s" => "subsystem",
                "-p" => "lookup-prefix",
                _ => continue,
            };
            (long.to_string(), (!v.is_empty()).then(|| v.to_string()))
        } else {
            if modalias.is_none() {
                modalias = Some(a.clone());
            }
            continue;
        };
        if !matches!(
            name.as_str(),
            "filter" | "device" | "subsystem" | "lookup-prefix"
        ) {
            continue;
        }
        let value = inline.or_else(|| it.next().cloned());
        let Some(value) = value else {
            return Err(format!("option '--{name}' requires an argument"));
        };
        match name.as_str() {
            "filter" => filter = Some(value),
            "subsystem" => subsystem = Some(value),
            "lookup-prefix" => prefix = Some(value),
            _ => return Err("--device= is not supported".into()),
        }
    }
    let mut out = Output::default();
    let (prefix, filter) = (prefix.as_deref(), filter.as_deref());
    let found = match &modalias {
        Some(m) => lookup_into(hwdb, &mut out, prefix, m, filter),
        None => {
            let mut n = 0;
            let mut d = Some(device);
            while let Some(dev) = d {
                d = dev.parent();
                let Some(sub) = super::net_id::subsystem(dev) else {
                    continue;
                };
                if subsystem.as_ref().is_some_and(|s| *s != sub) {
                    continue;
                }
                let mut alias = dev.property("MODALIAS");
                // A USB device's parents are hubs: it is the last one looked at.
                let last = sub == "usb" && dev.property("DEVTYPE").as_deref() == Some("usb_device");
                if last && alias.is_none() {
                    alias = usb_modalias(dev);
                }
                if let Some(a) = alias {
                    n = lookup_into(hwdb, &mut out, prefix, &a, filter);
                    if n > 0 {
                        break;
                    }
                }
                if last {
                    break;
                }
            }
            n
        }
    };
    if found == 0 {
        return Err("No entry found from hwdb.".into());
    }
    Ok(out)
}

#[cfg(test)]
#[path = "hwdb_tests.rs"]
mod tests;
