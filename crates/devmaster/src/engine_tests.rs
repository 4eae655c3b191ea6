use std::cell::RefCell;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;

use proptest::prelude::*;

use super::*;
use crate::device::SysfsTree;
use crate::rules::syntax;
use crate::testsys::FakeSys;

struct FakeHost {
    tree: SysfsTree,
    programs: BTreeMap<String, Result<String, String>>,
    files: BTreeMap<String, String>,
    db: BTreeMap<String, String>,
    cmdline: String,
    builtins: BTreeMap<&'static str, Result<PropertyChanges, String>>,
    sysctl: BTreeMap<String, String>,
    calls: RefCell<Vec<String>>,
}

impl FakeHost {
    fn new(sys: &FakeSys) -> Self {
        FakeHost {
            tree: sys.tree(),
            programs: [
                ("/bin/echo one two".to_string(), Ok("one two\n".to_string())),
                (
                    "id_helper".to_string(),
                    Ok("ID_A=1\nID_B='x y'\n# c\n\nbad line\nID_C=\n".to_string()),
                ),
                ("/bin/false".to_string(), Err("exit status 1".to_string())),
                ("weird".to_string(), Ok("a*b c\n\n".to_string())),
            ]
            .into(),
            files: [
                ("/etc/ids".to_string(), "FILE_X=\"quoted\"\n".to_string()),
                (
                    "/etc/override".to_string(),
                    "SUBSYSTEM=net\nACTION=remove\n".to_string(),
                ),
            ]
            .into(),
            db: [("ID_OLD".to_string(), "kept".to_string())].into(),
            cmdline: "quiet root=/dev/sda1 foo=\"a b\" flag my_opt=1 my-opt=2".to_string(),
            builtins: [
                (
                    "path_id",
                    Ok(vec![(
                        "ID_PATH".to_string(),
                        Some("pci-0000:00:1f.2-ata-1".to_string()),
                    )]),
                ),
                ("blkid", Err("no filesystem".to_string())),
            ]
            .into(),
            sysctl: [("net/ipv4/ip_forward".to_string(), "1\n".to_string())].into(),
            calls: RefCell::new(Vec::new()),
        }
    }
}

impl Host for FakeHost {
    fn sysfs(&self) -> &dyn Sysfs {
        &self.tree
    }
    fn syspath_of(&self, subsystem: &str, sysname: &str) -> Option<String> {
        self.tree.find(subsystem, sysname).map(|d| d.syspath())
    }
    fn run_program(&self, command: &str) -> Result<String, String> {
        self.calls.borrow_mut().push(format!("program {command}"));
        self.programs
            .get(command)
            .cloned()
            .unwrap_or_else(|| Err("not found".to_string()))
    }
    fn read_file(&self, path: &str) -> Option<String> {
        self.files.get(path).cloned()
    }
    fn db_property(&self, key: &str) -> Option<String> {
        self.db.get(key).cloned()
    }
    fn cmdline(&self) -> Option<String> {
        Some(self.cmdline.clone())
    }
    fn builtin(
        &self,
        builtin: Builtin,
        command: &str,
        device: &dyn Device,
    ) -> Result<PropertyChanges, String> {
        self.calls
            .borrow_mut()
            .push(format!("builtin {command} on {}", device.sysname()));
        self.builtins
            .get(builtin.name())
            .cloned()
            .unwrap_or_else(|| Ok(Vec::new()))
    }
    fn sysctl(&self, name: &str) -> Option<String> {
        self.sysctl.get(name).cloned()
    }
    fn file_mode(&self, path: &str) -> Option<u32> {
        std::fs::metadata(self.tree.host_path(path))
            .ok()
            .map(|m| m.mode())
    }
    fn read_dir(&self, path: &str) -> Option<Vec<String>> {
        let rd = std::fs::read_dir(self.tree.host_path(path)).ok()?;
        Some(
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
        )
    }
    fn const_value(&self, key: ConstKey) -> String {
        match key {
            ConstKey::Arch => "x86-64".to_string(),
            ConstKey::Virt => "kvm".to_string(),
        }
    }
    fn user(&self, name: &str) -> Option<u32> {
        (name == "disk-owner").then_some(1000)
    }
    fn group(&self, name: &str) -> Option<u32> {
        (name == "disk").then_some(6)
    }
}

fn run_with(sys: &FakeSys, host: &FakeHost, devpath: &str, action: &str, rules: &str) -> Outcome {
    let dev = sys
        .tree()
        .device(devpath)
        .unwrap()
        .with_event_properties([("ACTION", action), ("SEQNUM", "7")]);
    let file = syntax::parse("test.rules", rules.as_bytes());
    assert!(
        file.diagnostics
            .iter()
            .all(|d| d.level != syntax::Level::Error),
        "{:?}",
        file.diagnostics
    );
    let plain = apply(std::slice::from_ref(&file), &dev, &FakeHost::new(sys));
    let traced = apply_traced(&[file], &dev, host);
    assert!(plain.trace.is_empty());
    // Tracing changes nothing else.
    assert_eq!(
        Outcome {
            trace: Vec::new(),
            ..traced.clone()
        },
        plain
    );
    traced
}

fn run(sys: &FakeSys, devpath: &str, rules: &str) -> Outcome {
    run_with(sys, &FakeHost::new(sys), devpath, "add", rules)
}

#[derive(Debug)]
enum Expect {
    Links(&'static [&'static str]),
    Prop(&'static str, &'static str),
    NoProp(&'static str),
    Tags(&'static [&'static str]),
    Name(Option<&'static str>),
    Owner(Option<u32>),
    Group(Option<u32>),
    Mode(Option<u32>),
    Run(&'static [&'static str]),
    Writes(&'static [&'static str]),
}

fn check(name: &str, out: &Outcome, expects: &[Expect]) {
    for e in expects {
        let ok = match e {
            Expect::Links(l) => out.devlinks.iter().map(String::as_str).collect::<Vec<_>>() == *l,
            Expect::Prop(k, v) => out.properties.get(*k).map(String::as_str) == Some(*v),
            Expect::NoProp(k) => !out.properties.contains_key(*k),
            Expect::Tags(t) => out.tags.iter().map(String::as_str).collect::<Vec<_>>() == *t,
            Expect::Name(n) => out.name.as_deref() == *n,
            Expect::Owner(o) => out.owner == *o,
            Expect::Group(g) => out.group == *g,
            Expect::Mode(m) => out.mode == *m,
            Expect::Writes(w) => {
                out.attr_writes
                    .iter()
                    .map(|w| format!("{}={}", w.path, w.value))
                    .collect::<Vec<_>>()
                    == *w
            }
            Expect::Run(r) => {
                out.run
                    .iter()
                    .map(|r| r.command.as_str())
                    .collect::<Vec<_>>()
                    == *r
            }
        };
        assert!(ok, "case {name}: expected {e:?}, got {out:#?}");
    }
}

/// Rule cases against the partition sda1 of [`FakeSys::disk`].
#[test]
fn table_on_a_partition() {
    use Expect::*;
    let cases: &[(&str, &str, &[Expect])] = &[
        (
            "kernel match",
            r#"KERNEL=="sda1", SYMLINK+="boot""#,
            &[Links(&["/dev/boot"])],
        ),
        (
            "kernel mismatch",
            r#"KERNEL=="sdb*", SYMLINK+="boot""#,
            &[Links(&[])],
        ),
        (
            "glob and alternatives",
            r#"KERNEL=="hd*|sd[a-c][0-9]", SYMLINK+="x""#,
            &[Links(&["/dev/x"])],
        ),
        (
            "not equal",
            r#"KERNEL!="sda1", SYMLINK+="no"
KERNEL!="sdb1", SYMLINK+="yes""#,
            &[Links(&["/dev/yes"])],
        ),
        (
            "subsystem and devpath",
            r#"SUBSYSTEM=="block", DEVPATH=="*/sda/sda1", SYMLINK+="p""#,
            &[Links(&["/dev/p"])],
        ),
        (
            "subsystem synonym",
            r#"SUBSYSTEM=="bus", SYMLINK+="never""#,
            &[Links(&[])],
        ),
        (
            "ACTION and SUBSYSTEM match the device's, not properties rules changed",
            r#"IMPORT{file}="/etc/override"
ENV{SUBSYSTEM}=="net", ENV{ACTION}=="remove", ENV{IMPORTED}="1"
SUBSYSTEM=="net", ENV{A}="1"
SUBSYSTEM=="block", ENV{B}="1"
ACTION=="remove", ENV{C}="1"
ACTION=="add", ENV{D}="1""#,
            &[
                Prop("IMPORTED", "1"),
                NoProp("A"),
                Prop("B", "1"),
                NoProp("C"),
                Prop("D", "1"),
            ],
        ),
        (
            "action",
            r#"ACTION=="add", ENV{A}="1"
ACTION=="remove", ENV{B}="1""#,
            &[Prop("A", "1"), NoProp("B")],
        ),
        (
            "substitutions",
            r#"SYMLINK+="d/%k-%n-%M:%m" SYMLINK+="$kernel.$number""#,
            &[Links(&["/dev/d/sda1-1-8:1", "/dev/sda1.1"])],
        ),
        (
            "parent ATTRS",
            r#"SUBSYSTEMS=="scsi", ATTRS{model}=="Fast Disk", SYMLINK+="disk/%b""#,
            &[Links(&["/dev/disk/0:0:0:0"])],
        ),
        (
            "ATTRS same parent required",
            r#"ATTRS{model}=="Fast Disk", DRIVERS=="ahci", SYMLINK+="bad""#,
            &[Links(&[])],
        ),
        (
            "ATTRS and DRIVERS on one parent",
            r#"ATTRS{vendor}=="ACME", DRIVERS=="sd", SYMLINK+="%s{vendor}/%k""#,
            &[Links(&["/dev/ACME/sda1"])],
        ),
        (
            "KERNELS walks to the pci device",
            r#"KERNELS=="0000:00:1f.2", ATTRS{vendor}=="0x8086", SYMLINK+="pci-%b-$driver""#,
            &[Links(&["/dev/pci-0000:00:1f.2-ahci"])],
        ),
        (
            "KERNELS matches the device itself first",
            r#"KERNELS=="sda*", SYMLINK+="%b""#,
            &[Links(&["/dev/sda1"])],
        ),
        (
            "ATTR whitespace kept when the value ends in space",
            r#"SUBSYSTEMS=="scsi", ATTRS{model}=="Fast Disk  ", SYMLINK+="sp""#,
            &[Links(&["/dev/sp"])],
        ),
        (
            "ATTR on the device",
            r#"ATTR{size}=="1024", ATTR{start}=="2*", SYMLINK+="a""#,
            &[Links(&["/dev/a"])],
        ),
        (
            "missing ATTR fails even with !=",
            r#"ATTR{nothing}!="x", SYMLINK+="a""#,
            &[Links(&[])],
        ),
        (
            "%s{} falls back to the matched parent",
            r#"KERNELS=="0:0:0:0", SYMLINK+="m/%s{model}""#,
            &[Links(&["/dev/m/Fast_Disk"])],
        ),
        (
            "[subsystem/name] attribute",
            r#"ATTR{[pci/0000:00:1f.2]vendor}=="0x8086", ENV{V}="%s{[pci/0000:00:1f.2]vendor}""#,
            &[Prop("V", "0x8086")],
        ),
        (
            "PROGRAM and RESULT",
            r#"PROGRAM=="/bin/echo one two", RESULT=="one *", SYMLINK+="%c{2}/%c{1+}/%c""#,
            // "two/one two/one two": %c is not whitespace-cleaned, so it splits into links.
            &[Links(&["/dev/two", "/dev/two/one"])],
        ),
        (
            "failing PROGRAM",
            r#"PROGRAM=="/bin/false", ENV{A}="1"
PROGRAM!="/bin/false", ENV{B}="1""#,
            &[NoProp("A"), Prop("B", "1")],
        ),
        (
            "PROGRAM output cleaned",
            r#"PROGRAM=="weird", ENV{R}="%c""#,
            &[Prop("R", "a_b c")],
        ),
        (
            "GOTO skips to LABEL",
            r#"KERNEL=="sda1", GOTO="end"
ENV{SKIPPED}="1"
LABEL="end", ENV{AFTER}="1""#,
            &[NoProp("SKIPPED"), Prop("AFTER", "1")],
        ),
        (
            "GOTO only when the line matches",
            r#"KERNEL=="x", GOTO="end"
ENV{RAN}="1"
LABEL="end""#,
            &[Prop("RAN", "1")],
        ),
        (
            "ENV assign, append, remove, match",
            r#"ENV{L}="a"
ENV{L}+="b"
ENV{L}=="a b", ENV{M}="yes"
ENV{PARTN}=""
ENV{N}+="x""#,
            &[
                Prop("L", "a b"),
                Prop("M", "yes"),
                NoProp("PARTN"),
                Prop("N", "x"),
            ],
        ),
        (
            "ENV from uevent",
            r#"ENV{DEVTYPE}=="partition", ENV{PARTN}=="1", ENV{P}="$env{PARTN}""#,
            &[Prop("P", "1")],
        ),
        (
            "ENV of a missing key is empty",
            r#"ENV{NOPE}=="", ENV{E}="1""#,
            &[Prop("E", "1")],
        ),
        (
            "final SYMLINK",
            r#"SYMLINK+="a"
SYMLINK:="b"
SYMLINK+="c"
SYMLINK="d""#,
            &[Links(&["/dev/b"])],
        ),
        (
            "SYMLINK= replaces",
            r#"SYMLINK+="a b"
SYMLINK="c""#,
            &[Links(&["/dev/c"])],
        ),
        (
            "SYMLINK match",
            r#"SYMLINK+="by-x/one"
SYMLINK=="by-x/*", ENV{S}="1""#,
            &[Prop("S", "1")],
        ),
        (
            "NAME ignored for a block device",
            r#"NAME="root""#,
            &[Name(None)],
        ),
        (
            "TAG add remove match",
            r#"TAG+="systemd"
TAG+="uaccess"
TAG-="uaccess"
TAG=="systemd", ENV{T}="1"
TAG+="bad tag!""#,
            &[Tags(&["systemd"]), Prop("T", "1")],
        ),
        (
            "TAG= clears",
            r#"TAG+="a"
TAG="b""#,
            &[Tags(&["b"])],
        ),
        (
            "OWNER GROUP MODE",
            r#"OWNER="disk-owner", GROUP="disk", MODE="0640""#,
            &[Owner(Some(1000)), Group(Some(6)), Mode(Some(0o640))],
        ),
        (
            "final OWNER and MODE",
            r#"OWNER:="1", MODE:="0600"
OWNER="2", MODE="0666""#,
            &[Owner(Some(1)), Mode(Some(0o600))],
        ),
        (
            "unknown user keeps the earlier owner",
            r#"OWNER="5"
OWNER="nobody-here""#,
            &[Owner(Some(5))],
        ),
        (
            "MODE template",
            r#"ENV{M}="0604"
MODE="$env{M}""#,
            &[Mode(Some(0o604))],
        ),
        (
            "RUN list",
            r#"RUN+="/bin/a %k"
RUN+="/bin/a %k"
RUN+="/bin/b""#,
            &[Run(&["/bin/a sda1", "/bin/b"])],
        ),
        (
            "RUN= resets, := is final",
            r#"RUN+="/bin/a"
RUN="/bin/b"
RUN:="/bin/c"
RUN+="/bin/d""#,
            &[Run(&["/bin/c"])],
        ),
        (
            "IMPORT program",
            r#"IMPORT{program}="id_helper""#,
            &[Prop("ID_A", "1"), Prop("ID_B", "x y"), NoProp("ID_C")],
        ),
        (
            "IMPORT file and db",
            r#"IMPORT{file}="/etc/ids"
IMPORT{db}="ID_OLD"
IMPORT{db}="ID_NONE", ENV{NODB}="1""#,
            &[
                Prop("FILE_X", "quoted"),
                Prop("ID_OLD", "kept"),
                NoProp("NODB"),
            ],
        ),
        (
            "IMPORT cmdline",
            r#"IMPORT{cmdline}="root"
IMPORT{cmdline}="foo"
IMPORT{cmdline}="flag"
IMPORT{cmdline}="nothere", ENV{X}="1"
IMPORT{cmdline}="my_opt""#,
            &[
                Prop("root", "/dev/sda1"),
                Prop("foo", "a b"),
                Prop("flag", "1"),
                NoProp("X"),
                Prop("my_opt", "2"),
            ],
        ),
        (
            "IMPORT parent",
            r#"IMPORT{parent}="DEV*""#,
            &[Prop("DEVTYPE", "disk"), Prop("DEVNAME", "/dev/sda")],
        ),
        (
            "IMPORT parent of one property by name, and of none",
            r#"IMPORT{parent}="DEVTYPE", IMPORT{parent}="NO_SUCH", ENV{AFTER}="1""#,
            &[
                Prop("DEVTYPE", "disk"),
                Prop("DEVNAME", "/dev/sda1"),
                NoProp("NO_SUCH"),
                Prop("AFTER", "1"),
            ],
        ),
        (
            "IMPORT builtin success and failure",
            r#"IMPORT{builtin}="path_id", ENV{OK}="1"
IMPORT{builtin}="blkid", ENV{BAD}="1""#,
            &[
                Prop("ID_PATH", "pci-0000:00:1f.2-ata-1"),
                Prop("OK", "1"),
                NoProp("BAD"),
            ],
        ),
        (
            "TEST",
            r#"TEST=="queue/rotational", ENV{A}="1"
TEST=="size", ENV{B}="1"
TEST!="nope", ENV{C}="1"
TEST=="[pci/0000:00:1f.2]vendor", ENV{D}="1"
TEST{0100}=="size", ENV{E}="1""#,
            &[
                NoProp("A"),
                Prop("B", "1"),
                Prop("C", "1"),
                Prop("D", "1"),
                NoProp("E"),
            ],
        ),
        (
            "CONST and SYSCTL",
            r#"CONST{arch}=="x86-64", CONST{virt}=="kvm", SYSCTL{net.ipv4.ip_forward}=="1", ENV{C}="1""#,
            &[Prop("C", "1")],
        ),
        (
            "string_escape on SYMLINK",
            r#"SUBSYSTEMS=="scsi", SYMLINK+="a/%s{model} b"
OPTIONS+="string_escape=replace", SUBSYSTEMS=="scsi", SYMLINK+="c/%s{model} d""#,
            &[Links(&["/dev/a/Fast_Disk", "/dev/b", "/dev/c/Fast_Disk_d"])],
        ),
        (
            "string_escape=none keeps whitespace in values",
            r#"OPTIONS+="string_escape=none", ENV{X}="1 2", SUBSYSTEMS=="scsi", SYMLINK+="%s{model}""#,
            &[Links(&["/dev/Disk", "/dev/Fast"]), Prop("X", "1 2")],
        ),
        (
            "slashes normalised, /dev/ always prefixed",
            r#"SYMLINK+="x//y/ /dev/z""#,
            &[Links(&["/dev/dev/z", "/dev/x/y"])],
        ),
        (
            "TEST and ATTR with /*/",
            r#"TEST=="../*/rotational", ENV{A}="1"
TEST=="../*/nothing", ENV{B}="1"
TEST!="../*/nothing", ENV{C}="1"
ATTR{../*/rotational}="0"
ATTR{../*/nothing}="0""#,
            &[
                Prop("A", "1"),
                NoProp("B"),
                Prop("C", "1"),
                Writes(&["/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1/../queue/rotational=0"]),
            ],
        ),
    ];
    let sys = FakeSys::disk();
    for (name, rules, expects) in cases {
        let out = run(&sys, FakeSys::SDA1, rules);
        check(name, &out, expects);
    }
}

#[test]
fn net_interface_rename() {
    use Expect::*;
    let sys = FakeSys::net();
    let cases: &[(&str, &str, &[Expect])] = &[
        (
            "NAME",
            r#"SUBSYSTEM=="net", ATTR{address}=="52:54:00:*", NAME="lan%n""#,
            &[Name(Some("lan0"))],
        ),
        (
            "NAME := final",
            r#"NAME:="first"
NAME="second""#,
            &[Name(Some("first"))],
        ),
        ("NAME cleaned", r#"NAME="a b/c""#, &[Name(Some("a_b_c"))]),
        (
            "NAME match and $name",
            r#"NAME="wan"
NAME=="wan", ENV{N}="$name""#,
            &[Prop("N", "wan")],
        ),
        (
            "no SYMLINK without a device number",
            r#"SYMLINK+="x""#,
            &[Links(&[])],
        ),
        (
            "DRIVERS on the pci parent",
            r#"DRIVERS=="e1000", ENV{D}="$driver""#,
            &[Prop("D", "e1000")],
        ),
    ];
    for (name, rules, expects) in cases {
        let out = run(&sys, FakeSys::ETH0, rules);
        check(name, &out, expects);
    }
}

#[test]
fn effects_options_and_trace() {
    let sys = FakeSys::disk();
    let out = run(
        &sys,
        FakeSys::SDA1,
        r#"ATTR{queue/x}="%k"
ATTR{[pci/0000:00:1f.2]power/control}="auto"
SYSCTL{net.ipv4.conf.sda1/x}="1"
OPTIONS+="link_priority=-10", OPTIONS+="db_persist", OPTIONS+="log_level=debug"
OPTIONS:="nowatch"
OPTIONS+="watch"
SECLABEL{selinux}="x_t"
RUN{builtin}+="kmod load foo""#,
    );
    assert_eq!(
        out.attr_writes,
        [
            Write {
                path: format!("/sys{}/queue/x", FakeSys::SDA1),
                value: "sda1".into()
            },
            Write {
                path: "/sys/devices/pci0000:00/0000:00:1f.2/power/control".into(),
                value: "auto".into()
            },
        ]
    );
    assert_eq!(
        out.sysctl_writes,
        [Write {
            path: "/proc/sys/net/ipv4/conf/sda1.x".into(),
            value: "1".into()
        }]
    );
    assert_eq!(out.link_priority, -10);
    assert!(out.db_persist);
    assert_eq!(out.log_level, Some(Some(7)));
    assert_eq!(out.watch, Some(false));
    assert_eq!(out.seclabels, [("selinux".to_string(), "x_t".to_string())]);
    assert_eq!(
        out.run,
        [Run {
            kind: RunKind::Builtin(Builtin::Kmod),
            command: "kmod load foo".into()
        }]
    );
    assert_eq!(out.trace.len(), 8);
    assert_eq!(out.trace[0].file, "test.rules");
    assert_eq!(out.trace[0].line, 1);
    assert!(
        out.trace[0].notes[0].contains("queue/x"),
        "{:?}",
        out.trace[0]
    );
    assert_eq!(out.properties.get("SEQNUM").map(String::as_str), Some("7"));
}

#[test]
fn run_once_builtins_and_program_calls() {
    let sys = FakeSys::disk();
    let host = FakeHost::new(&sys);
    let out = run_with(
        &sys,
        &host,
        FakeSys::SDA1,
        "change",
        r#"IMPORT{builtin}="path_id"
IMPORT{builtin}="path_id", ENV{AGAIN}="1"
IMPORT{builtin}="blkid"
IMPORT{builtin}="blkid"
KERNEL=="nomatch", PROGRAM=="/bin/echo one two""#,
    );
    assert_eq!(out.properties.get("AGAIN").map(String::as_str), Some("1"));
    // path_id runs once; blkid (not run-once) each time; a PROGRAM after a failed match never.
    assert_eq!(
        *host.calls.borrow(),
        [
            "builtin path_id on sda1",
            "builtin blkid on sda1",
            "builtin blkid on sda1"
        ]
    );
}

#[test]
fn node_only_lines_are_skipped_on_remove() {
    let sys = FakeSys::disk();
    let node_only = r#"SYMLINK+="l", OWNER="5""#;
    let out = run_with(
        &sys,
        &FakeHost::new(&sys),
        FakeSys::SDA1,
        "remove",
        node_only,
    );
    assert!(out.devlinks.is_empty());
    assert_eq!(out.owner, None);
    let out = run_with(&sys, &FakeHost::new(&sys), FakeSys::SDA1, "add", node_only);
    assert!(out.devlinks.contains("/dev/l"));
    assert_eq!(out.owner, Some(5));
    // PROGRAM makes the line count: it is evaluated on remove too, SYMLINK included.
    let host = FakeHost::new(&sys);
    let out = run_with(
        &sys,
        &host,
        FakeSys::SDA1,
        "remove",
        r#"SYMLINK+="l", PROGRAM=="weird""#,
    );
    assert_eq!(*host.calls.borrow(), ["program weird"]);
    assert!(out.devlinks.contains("/dev/l"));
    let net = FakeSys::net();
    let out = run_with(
        &net,
        &FakeHost::new(&net),
        FakeSys::ETH0,
        "remove",
        r#"NAME="x""#,
    );
    assert_eq!(out.name, None);
    let out = run_with(
        &net,
        &FakeHost::new(&net),
        FakeSys::ETH0,
        "move",
        r#"NAME="x""#,
    );
    assert_eq!(out.name.as_deref(), Some("x"));
}

#[test]
fn tags_on_parents_come_from_the_device_model_and_current_tags() {
    let sys = FakeSys::disk();
    let out = run(
        &sys,
        FakeSys::SDA1,
        r#"TAG+="seat"
TAGS=="seat", ENV{SELF}="1"
TAGS=="other", ENV{NO}="1""#,
    );
    assert_eq!(out.properties.get("SELF").map(String::as_str), Some("1"));
    assert!(!out.properties.contains_key("NO"));
}

#[test]
fn goto_across_files_does_not_leak() {
    let sys = FakeSys::disk();
    let dev = sys.tree().device(FakeSys::SDA1).unwrap();
    let a = syntax::parse(
        "a.rules",
        br#"GOTO="x"
ENV{A}="1"
LABEL="x""#,
    );
    let b = syntax::parse("b.rules", br#"ENV{B}="1""#);
    let out = apply(&[a, b], &dev, &FakeHost::new(&sys));
    assert!(!out.properties.contains_key("A"));
    assert_eq!(out.properties.get("B").map(String::as_str), Some("1"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_rules_never_panic(text in proptest::collection::vec(
        prop_oneof![
            Just("KERNEL==\"sd*\", ".to_string()),
            Just("ATTRS{model}==\"*\", ".to_string()),
            Just("KERNELS==\"0:0*|host?\", ".to_string()),
            Just("SYMLINK+=\"%k/%s{model}/%c{2+}/$links\" ".to_string()),
            Just("PROGRAM==\"/bin/echo one two\", ".to_string()),
            Just("GOTO=\"l\"\n".to_string()),
            Just("LABEL=\"l\"\n".to_string()),
            Just("IMPORT{parent}=\"*\"\n".to_string()),
            Just("TEST{0644}==\"%S%p/../..\"\n".to_string()),
            Just("NAME=\"%E{X}\", ENV{X}+=\"%c\"\n".to_string()),
            Just("OPTIONS+=\"string_escape=replace\", ".to_string()),
            Just("ATTR{[block/sda]size}=\"$attr{[net/x]y}\"\n".to_string()),
            "[ -~\n]{0,40}",
        ],
        0..12,
    )) {
        let sys = FakeSys::disk();
        let rules = text.concat();
        let dev = sys.tree().device(FakeSys::SDA1).unwrap();
        let file = syntax::parse("p.rules", rules.as_bytes());
        let out = apply_traced(&[file], &dev, &FakeHost::new(&sys));
        // Each rule line is evaluated at most once (GOTO only jumps forward).
        prop_assert!(out.trace.len() <= rules.lines().count() + 1);
    }
}

#[test]
fn trace_says_what_each_line_did() {
    let sys = FakeSys::disk();
    let out = run(
        &sys,
        FakeSys::SDA1,
        r#"KERNEL=="sda1", ATTRS{vendor}=="ACME", ENV{X}="1"
KERNEL=="nope", ENV{Y}="1"
PROGRAM=="/bin/false", ENV{Z}="1"
TEST{0444}=="size", SYMLINK+="s""#,
    );
    let scsi = FakeSys::SDA1.trim_end_matches("/block/sda/sda1");
    assert_eq!(
        out.trace,
        [
            TraceLine {
                file: "test.rules".into(),
                line: 1,
                matched: true,
                notes: vec![
                    "KERNEL==\"sda1\"".into(),
                    format!("ATTRS{{vendor}}==\"ACME\" (on {scsi})"),
                    "ENV{X}=\"1\"".into(),
                ],
            },
            TraceLine {
                file: "test.rules".into(),
                line: 3,
                matched: false,
                notes: vec!["PROGRAM '/bin/false' failed: exit status 1".into()],
            },
            TraceLine {
                file: "test.rules".into(),
                line: 4,
                matched: true,
                notes: vec!["TEST{444}==\"size\"".into(), "SYMLINK+=\"/dev/s\"".into()],
            },
        ]
    );
}
