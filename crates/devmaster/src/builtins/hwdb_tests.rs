use proptest::prelude::*;

use super::*;
use crate::builtins::net_id::testfs::FsSystem;
use crate::testsys::FakeSys;

fn db(files: &[(&str, &str)]) -> (Hwdb, Vec<Diagnostic>) {
    let files: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
        .collect();
    let (bytes, diags) = compile(&files);
    (Hwdb::from_bytes(bytes).unwrap(), diags)
}

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const SOURCES: &str = "\
# a comment
usb:v1234p*
 ID_VENDOR_FROM_DATABASE=Acme # trailing comment
 ID_MODEL_FROM_DATABASE=Any

usb:v1234p5678*
 ID_MODEL_FROM_DATABASE=Widget
   ID_EXTRA=spaces

pci:v00008086d*
pci:v00001AF4d*
 ID_KIND=either
";

#[test]
fn lookups_match_globs_and_take_the_most_specific_later_line() {
    let (db, diags) = db(&[("/usr/lib/udev/hwdb.d/20-test.hwdb", SOURCES)]);
    assert_eq!(diags, vec![]);
    assert_eq!(
        db.lookup("usb:v1234p5678d0100"),
        // sd-hwdb's order: the "*" branch of "usb:v1234p" first (its values sorted by
        // key), a key keeping the place where it was first found.
        kv(&[
            ("ID_MODEL_FROM_DATABASE", "Widget"),
            ("ID_VENDOR_FROM_DATABASE", "Acme"),
            ("ID_EXTRA", "spaces"),
        ])
    );
    assert_eq!(
        db.lookup("usb:v1234p0001"),
        kv(&[
            ("ID_MODEL_FROM_DATABASE", "Any"),
            ("ID_VENDOR_FROM_DATABASE", "Acme")
        ])
    );
    assert_eq!(
        db.lookup("pci:v00001AF4d00001041"),
        kv(&[("ID_KIND", "either")])
    );
    assert_eq!(db.lookup("pci:v00008086d1"), kv(&[("ID_KIND", "either")]));
    assert_eq!(db.lookup("usb:v9999"), vec![]);
    assert_eq!(db.lookup(""), vec![]);
}

#[test]
fn a_later_file_wins_whatever_the_line() {
    let (db, _) = db(&[
        (
            "/etc/udev/hwdb.d/10-a.hwdb",
            "\n\n\n\nx:*\n K=from-a-late-line\n",
        ),
        ("/usr/lib/udev/hwdb.d/20-b.hwdb", "x:*\n K=from-b\n"),
        ("/usr/lib/udev/hwdb.d/30-c.hwdb", "y:*\n K=from-c\n"),
    ]);
    assert_eq!(db.lookup("x:1"), kv(&[("K", "from-b")]));
}

#[test]
fn source_diagnostics_name_file_and_line() {
    let text = " INDENTED=1\nm:*\n\nm2:*\n NOEQUALS\n =v\n K=v\nnot-indented\n\nlast:*\n";
    let (db, diags) = db(&[("f.hwdb", text)]);
    let got: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        got,
        vec![
            "f.hwdb:1: Match expected but got indented property \" INDENTED=1\", ignoring line.",
            "f.hwdb:3: Property expected, ignoring record with no properties.",
            "f.hwdb:5: Key-value pair expected but got \" NOEQUALS\", ignoring.",
            "f.hwdb:6: Empty key in \" =v\", ignoring.",
            "f.hwdb:8: Property or empty line expected, got \"not-indented\", ignoring record.",
            "f.hwdb:10: Property expected, ignoring record with no properties.",
        ]
    );
    // The record before the bad line still applies.
    assert_eq!(db.lookup("m2:x"), kv(&[("K", "v")]));
}

#[test]
fn damaged_files_are_rejected() {
    let (good, _) = compile(&[("f".to_string(), b"a*\n K=v\n".to_vec())]);
    assert!(Hwdb::from_bytes(good.clone()).is_ok());
    assert!(Hwdb::from_bytes(good[..40].to_vec()).is_err());
    let mut sig = good.clone();
    sig[0] = b'X';
    assert!(Hwdb::from_bytes(sig).is_err());
    let mut size = good.clone();
    size.push(0);
    assert!(Hwdb::from_bytes(size).is_err());
    // Root node offset (header field 6) beyond the end.
    let mut root = good.clone();
    root[56..64].copy_from_slice(&(good.len() as u64).to_le_bytes());
    assert!(Hwdb::from_bytes(root).is_err());
    // A child pointing outside the file: the lookup reports it instead of reading it.
    let root_off = u64::from_le_bytes(good[56..64].try_into().unwrap()) as usize;
    let mut child = good.clone();
    child[root_off + 24 + 8..root_off + 24 + 16].copy_from_slice(&u64::MAX.to_le_bytes());
    let db = Hwdb::from_bytes(child).unwrap();
    assert!(db.try_lookup("a1").is_err());
    // A child pointing back at the root (a cycle) ends too.
    let mut cycle = good.clone();
    cycle[root_off + 24 + 8..root_off + 24 + 16].copy_from_slice(&(root_off as u64).to_le_bytes());
    let db = Hwdb::from_bytes(cycle).unwrap();
    let _ = db.try_lookup("aaaaaaaa");
}

/// A source record: its match lines and its properties.
type Record = (Vec<String>, Vec<(String, String)>);

/// The reference semantics of hwdb(7): every record with a matching line contributes its
/// properties; for one key the later file, then the later line, wins.
fn naive(files: &[(String, Vec<Record>)], s: &str) -> Vec<(String, String)> {
    let mut best: BTreeMap<String, ((usize, usize), String)> = BTreeMap::new();
    for (fi, (_, records)) in files.iter().enumerate() {
        let mut line = 0;
        for (matches, props) in records {
            line += matches.len();
            let hit = matches.iter().any(|m| glob(m, s, false));
            for (k, v) in props {
                line += 1;
                if hit {
                    let rank = (fi, line);
                    if best.get(k).is_none_or(|(r, _)| *r < rank) {
                        best.insert(k.clone(), (rank, v.clone()));
                    }
                }
            }
            line += 1;
        }
    }
    best.into_iter().map(|(k, (_, v))| (k, v)).collect()
}

fn render(records: &[Record]) -> Vec<u8> {
    let mut t = String::new();
    for (matches, props) in records {
        for m in matches {
            t.push_str(m);
            t.push('\n');
        }
        for (k, v) in props {
            t.push_str(&format!(" {k}={v}\n"));
        }
        t.push('\n');
    }
    t.into_bytes()
}

fn records() -> impl Strategy<Value = Vec<Record>> {
    let m = "([ab*?]|\\[ab\\]|\\[!a\\]){1,4}";
    let props = prop::collection::vec(("[KL]", "[xyz]{1,2}"), 1..3);
    prop::collection::vec((prop::collection::vec(m, 1..3), props), 0..6)
}

proptest! {
    #[test]
    fn compiled_trie_answers_like_the_reference(
        a in records(),
        b in records(),
        probes in prop::collection::vec("[ab]{0,6}", 1..8),
    ) {
        let files = vec![("1.hwdb".to_string(), a), ("2.hwdb".to_string(), b)];
        let sources: Vec<(String, Vec<u8>)> =
            files.iter().map(|(n, r)| (n.clone(), render(r))).collect();
        let (bytes, diags) = compile(&sources);
        prop_assert!(diags.is_empty());
        let db = Hwdb::from_bytes(bytes).unwrap();
        for p in probes {
            let mut got = db.try_lookup(&p).unwrap();
            got.sort();
            prop_assert_eq!(got, naive(&files, &p), "probe {}", p);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), probe in "[a-z*]{0,8}") {
        if let Ok(db) = Hwdb::from_bytes(bytes) {
            let _ = db.try_lookup(&probe);
        }
    }

    #[test]
    fn damaged_compiled_files_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        probe in "[ab]{0,6}",
    ) {
        let src = render(&[
            (vec!["a*".into(), "ab?".into()], vec![("K".into(), "v".into())]),
            (vec!["b[ab]*".into()], vec![("L".into(), "w".into())]),
        ]);
        let (mut bytes, _) = compile(&[("f".into(), src)]);
        for (i, v) in flips {
            let i = i.index(bytes.len() - 8) + 8;
            bytes[i] = v;
        }
        if let Ok(db) = Hwdb::from_bytes(bytes) {
            let _ = db.try_lookup(&probe);
        }
    }

    #[test]
    fn arbitrary_sources_never_panic(text in prop::collection::vec(any::<u8>(), 0..300)) {
        let (bytes, _) = compile(&[("f".into(), text)]);
        let db = Hwdb::from_bytes(bytes).unwrap();
        let _ = db.try_lookup("abc");
    }
}

fn builtin(dev: &dyn Device, db: &Hwdb, args: &[&str]) -> Result<Vec<(String, String)>, String> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = run(dev, &FsSystem::new("/nonexistent"), &args, db)?;
    Ok(out
        .properties
        .into_iter()
        .map(|(k, v)| (k, v.unwrap()))
        .collect())
}

#[test]
fn builtin_walks_parents_for_modalias_and_composes_usb_ones() {
    let (db, _) = db(&[(
        "f.hwdb",
        "pci:v00008086*\n ID_VENDOR_FROM_DATABASE=Intel\n\n\
         usb:v1D6Bp0002*\n ID_MODEL_FROM_DATABASE=2.0 root hub\n\n\
         id-input:modalias:input:b0003*\n ID_INPUT_X=1\n\n\
         OUI:525400*\n ID_OUI_FROM_DATABASE=QEMU\n",
    )]);
    let sys = FakeSys::new();
    let pci = "/devices/pci0000:00/0000:00:14.0";
    let hub = format!("{pci}/usb1");
    let input = format!("{hub}/input/input3");
    sys.add(
        pci,
        Some("pci"),
        "MODALIAS=pci:v00008086d0000A36Dsv0sd0bc0Csc03i30\n",
    )
    .add(&hub, Some("usb"), "DEVTYPE=usb_device\n")
    .attr(&hub, "idVendor", "1d6b\n")
    .attr(&hub, "idProduct", "0002\n")
    .add(&input, Some("input"), "MODALIAS=input:b0003v1234\n");
    let tree = sys.tree();
    let dev = tree.device(&input).unwrap();
    // The USB device is the last one looked at: the PCI controller above is not.
    assert_eq!(
        builtin(&dev, &db, &[]).unwrap(),
        kv(&[("ID_MODEL_FROM_DATABASE", "2.0 root hub")])
    );
    assert_eq!(
        builtin(&dev, &db, &["--subsystem=pci"]).unwrap(),
        kv(&[("ID_VENDOR_FROM_DATABASE", "Intel")])
    );
    assert_eq!(
        builtin(
            &dev,
            &db,
            &["--subsystem", "input", "--lookup-prefix=id-input:modalias:"]
        )
        .unwrap(),
        kv(&[("ID_INPUT_X", "1")])
    );
    assert_eq!(
        builtin(&dev, &db, &["OUI:525400123456"]).unwrap(),
        kv(&[("ID_OUI_FROM_DATABASE", "QEMU")])
    );
    assert_eq!(
        builtin(&dev, &db, &["-s", "pci", "--filter=ID_MODEL*"]),
        Err("No entry found from hwdb.".to_string())
    );
    assert!(builtin(&dev, &db, &["nothing:here"]).is_err());
    assert!(builtin(&dev, &db, &["--device=n3"]).is_err());
}

#[test]
fn load_prefers_the_compiled_file_and_falls_back_to_sources() {
    let dir = tempfile::tempdir().unwrap();
    let sys = FsSystem::new(dir.path());
    assert!(load(&sys).0.is_none());
    let src = dir.path().join("usr/lib/udev/hwdb.d");
    let etc = dir.path().join("etc/udev/hwdb.d");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(src.join("50-x.hwdb"), "x:*\n K=lib\n").unwrap();
    std::fs::write(src.join("60-y.hwdb"), "x:*\n L=lib\n").unwrap();
    // Same name in /etc hides the one in /usr/lib.
    std::fs::write(etc.join("50-x.hwdb"), "x:*\n K=etc\n").unwrap();
    let (db, diags) = load(&sys);
    assert_eq!(diags, vec![]);
    assert_eq!(db.unwrap().lookup("x:1"), kv(&[("K", "etc"), ("L", "lib")]));
    let (bin, _) = compile(&[("b".into(), b"x:*\n K=bin\n".to_vec())]);
    std::fs::write(dir.path().join("usr/lib/udev/hwdb.bin"), bin).unwrap();
    assert_eq!(load(&sys).0.unwrap().lookup("x:1"), kv(&[("K", "bin")]));
    std::fs::create_dir_all(dir.path().join("etc/udev")).unwrap();
    std::fs::write(dir.path().join("etc/udev/hwdb.bin"), b"garbage").unwrap();
    let (db, diags) = load(&sys);
    assert!(db.is_none());
    assert_eq!(diags.len(), 1);
}

/// Up to `max` distinct modaliases of this machine's devices.
fn real_modaliases(max: usize) -> Vec<String> {
    let mut found = std::collections::BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from("/sys/devices")];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let ft = e.file_type().unwrap();
            if ft.is_dir() && !ft.is_symlink() {
                stack.push(e.path());
            } else if e.file_name() == "modalias" {
                if let Ok(m) = std::fs::read_to_string(e.path()) {
                    let m = m.trim().to_string();
                    if !m.is_empty() {
                        found.insert(m);
                    }
                }
            }
        }
    }
    found.into_iter().take(max).collect()
}

fn systemd_hwdb_query(modalias: &str) -> Vec<(String, String)> {
    let out = std::process::Command::new("systemd-hwdb")
        .args(["query", modalias])
        .output()
        .expect("systemd-hwdb is the oracle of this test: apt-get install systemd udev");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn real_hwdb_bin_answers_as_systemd_hwdb_query() {
    // Oracle: Debian's `systemd-hwdb query` on the host's compiled hwdb.bin, for the
    // modaliases of this machine's devices and a few well-known ones.
    let (db, diags) = load(&FsSystem::new("/"));
    assert_eq!(diags, vec![]);
    let db = db.expect("a compiled hwdb.bin (Debian's udev package ships one)");
    let mut probes = real_modaliases(40);
    probes.extend(
        [
            "usb:v1D6Bp0002d0515dc09dsc00dp01ic09isc00ip00in00",
            "pci:v00008086d00001237sv00001AF4sd00001100bc06sc00i00",
            "OUI:525400123456",
            "evdev:input:b0003v046Dp4024e0111",
            "acpi:PNP0A03:",
        ]
        .map(String::from),
    );
    let mut non_empty = 0;
    for m in &probes {
        let theirs = systemd_hwdb_query(m);
        non_empty += usize::from(!theirs.is_empty());
        assert_eq!(db.lookup(m), theirs, "{m}");
    }
    assert!(non_empty >= 3, "too few probes found anything: {non_empty}");
}

#[test]
fn sources_compiled_here_answer_as_the_real_hwdb_bin() {
    let system = FsSystem::new("/");
    let files: Vec<(String, Vec<u8>)> = source_files(&system, &SOURCE_DIRS)
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    assert!(
        !files.is_empty(),
        "Debian's udev package ships /usr/lib/udev/hwdb.d"
    );
    let (bytes, _) = compile(&files);
    let ours = Hwdb::from_bytes(bytes).unwrap();
    let real = Hwdb::from_bytes(std::fs::read("/usr/lib/udev/hwdb.bin").unwrap()).unwrap();
    let mut probes = real_modaliases(40);
    probes.push("usb:v046Dp0825d0010dc00dsc00dp00ic0Eisc01ip00in00".into());
    probes.push("OUI:00163E000000".into());
    for m in probes {
        assert_eq!(ours.lookup(&m), real.lookup(&m), "{m}");
    }
}
