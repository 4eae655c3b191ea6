use super::*;
use crate::rules::pattern::Kind;
use proptest::prelude::*;

fn file(text: &str) -> RulesFile {
    parse("t.rules", text.as_bytes())
}

fn diags(f: &RulesFile) -> Vec<String> {
    f.diagnostics.iter().map(ToString::to_string).collect()
}

/// The tokens of a one-line file that must parse without diagnostics.
fn tokens(line: &str) -> Vec<Token> {
    let f = file(line);
    assert_eq!(diags(&f), Vec::<String>::new(), "{line}");
    assert_eq!(f.lines.len(), 1, "{line}");
    f.lines
        .into_iter()
        .next()
        .map(|l| l.tokens)
        .unwrap_or_default()
}

fn pat(v: &str) -> Pattern {
    Pattern::new(v, true, false, false)
}

fn m(key: MatchKey, op: MatchOp, v: &str) -> Token {
    let subsystem = key == MatchKey::Subsystem;
    Token::Match {
        key,
        op,
        pattern: Pattern::new(v, true, subsystem, false),
    }
}

const A: AssignOp = AssignOp::Assign;
const ADD: AssignOp = AssignOp::Add;
const FIN: AssignOp = AssignOp::AssignFinal;
const REM: AssignOp = AssignOp::Remove;
const EQ: MatchOp = MatchOp::Match;
const NE: MatchOp = MatchOp::NoMatch;

fn s(v: &str) -> String {
    v.to_string()
}

#[test]
fn every_key() {
    let attr = |n: &str, v: &str| AttrName::new(n, v);
    let cases: Vec<(&str, Vec<Token>)> = vec![
        ("ACTION==\"add\", TAG+=\"x\"", vec![m(MatchKey::Action, EQ, "add"), Token::Tag { op: ADD, value: s("x") }]),
        ("DEVPATH!=\"/devices/*\", TAG+=\"x\"", vec![m(MatchKey::Devpath, NE, "/devices/*"), Token::Tag { op: ADD, value: s("x") }]),
        ("KERNEL==\"sd*\", NAME=\"n\"", vec![m(MatchKey::Kernel, EQ, "sd*"), Token::Name { op: A, value: s("n") }]),
        ("NAME==\"eth0\", NAME:=\"lan0\"", vec![m(MatchKey::Name, EQ, "eth0"), Token::Name { op: FIN, value: s("lan0") }]),
        ("SYMLINK==\"disk/*\", SYMLINK+=\"a b\"", vec![m(MatchKey::Symlink, EQ, "disk/*"), Token::Symlink { op: ADD, value: s("a b") }]),
        ("SYMLINK=\"x\"", vec![Token::Symlink { op: A, value: s("x") }]),
        ("SYMLINK:=\"x\"", vec![Token::Symlink { op: FIN, value: s("x") }]),
        ("SUBSYSTEM==\"block\", DRIVER==\"sd\", GROUP=\"disk\"", vec![
            m(MatchKey::Subsystem, EQ, "block"),
            m(MatchKey::Driver, EQ, "sd"),
            Token::Group { op: A, value: Id::Name(s("disk")) },
        ]),
        ("ATTR{size}==\"0\", ATTR{queue/scheduler}=\"none\"", vec![
            m(MatchKey::Attr(attr("size", "0")), EQ, "0"),
            Token::Attr { attr: s("queue/scheduler"), op: A, value: s("none") },
        ]),
        ("SYSCTL{net.ipv4.ip_forward}==\"1\", SYSCTL{kernel.x}=\"2\"", vec![
            m(MatchKey::Sysctl(s("net.ipv4.ip_forward")), EQ, "1"),
            Token::Sysctl { attr: s("kernel.x"), op: A, value: s("2") },
        ]),
        ("KERNELS==\"0:0:0:0\", SUBSYSTEMS==\"scsi\", DRIVERS==\"sd\", ATTRS{vendor}==\"ATA \", TAGS==\"seat\", MODE=\"0660\"", vec![
            m(MatchKey::Kernels, EQ, "0:0:0:0"),
            m(MatchKey::Subsystems, EQ, "scsi"),
            m(MatchKey::Drivers, EQ, "sd"),
            m(MatchKey::Attrs(attr("vendor", "ATA ")), EQ, "ATA "),
            m(MatchKey::Tags, EQ, "seat"),
            Token::Mode { op: A, value: Mode::Number(0o660) },
        ]),
        ("TAG==\"systemd\", TAG-=\"uaccess\"", vec![m(MatchKey::Tag, EQ, "systemd"), Token::Tag { op: REM, value: s("uaccess") }]),
        ("ENV{ID_BUS}==\"usb\", ENV{X}+=\"y\", ENV{.tmp}=\"1\"", vec![
            m(MatchKey::Env(s("ID_BUS")), EQ, "usb"),
            Token::Env { key: s("X"), op: ADD, value: s("y") },
            Token::Env { key: s(".tmp"), op: A, value: s("1") },
        ]),
        ("CONST{arch}==\"x86-64\", CONST{virt}!=\"none\", RUN+=\"/bin/x\"", vec![
            m(MatchKey::Const(ConstKey::Arch), EQ, "x86-64"),
            m(MatchKey::Const(ConstKey::Virt), NE, "none"),
            Token::Run { kind: RunKind::Program, op: ADD, value: s("/bin/x") },
        ]),
        ("TEST{0644}==\"/sys/x\", TEST!=\"y\", RUN{program}=\"z\"", vec![
            Token::Test { mode: Some(0o644), op: EQ, path: s("/sys/x") },
            Token::Test { mode: None, op: NE, path: s("y") },
            Token::Run { kind: RunKind::Program, op: A, value: s("z") },
        ]),
        ("PROGRAM==\"/bin/a\", PROGRAM=\"/bin/b\", PROGRAM+=\"c\", PROGRAM:=\"d\", PROGRAM!=\"e\", RESULT==\"ok|fine\"", vec![
            Token::Program { op: EQ, command: s("/bin/a") },
            Token::Program { op: EQ, command: s("/bin/b") },
            Token::Program { op: EQ, command: s("c") },
            Token::Program { op: EQ, command: s("d") },
            Token::Program { op: NE, command: s("e") },
            m(MatchKey::Result, EQ, "ok|fine"),
        ]),
        ("IMPORT{program}=\"/bin/prog x\", IMPORT{program}=\"path_id %p\", IMPORT{builtin}==\"usb_id\", IMPORT{file}!=\"/f\", IMPORT{db}=\"ID_X\", IMPORT{cmdline}=\"quiet\", IMPORT{parent}=\"ID_*\"", vec![
            Token::Import { kind: ImportKind::File, op: NE, value: s("/f") },
            Token::Import { kind: ImportKind::Program, op: EQ, value: s("/bin/prog x") },
            Token::Import { kind: ImportKind::Builtin(Builtin::PathId), op: EQ, value: s("path_id %p") },
            Token::Import { kind: ImportKind::Builtin(Builtin::UsbId), op: EQ, value: s("usb_id") },
            Token::Import { kind: ImportKind::Db, op: EQ, value: s("ID_X") },
            Token::Import { kind: ImportKind::Cmdline, op: EQ, value: s("quiet") },
            Token::Import { kind: ImportKind::Parent, op: EQ, value: s("ID_*") },
        ]),
        ("OWNER=\"root\", OWNER:=\"0\", GROUP=\"%E{G}\", GROUP=\"6\", MODE=\"%E{M}\"", vec![
            Token::Owner { op: A, value: Id::Name(s("root")) },
            Token::Group { op: A, value: Id::Name(s("%E{G}")) },
            Token::Mode { op: A, value: Mode::Template(s("%E{M}")) },
            Token::Owner { op: FIN, value: Id::Number(0) },
            Token::Group { op: A, value: Id::Number(6) },
        ]),
        ("SECLABEL{selinux}=\"system_u:object_r:x\", SECLABEL{smack}+=\"_\"", vec![
            Token::Seclabel { module: s("selinux"), op: A, value: s("system_u:object_r:x") },
            Token::Seclabel { module: s("smack"), op: ADD, value: s("_") },
        ]),
        ("RUN{builtin}+=\"kmod load $env{MODALIAS}\", RUN:=\"/bin/y\"", vec![
            Token::Run { kind: RunKind::Builtin(Builtin::Kmod), op: ADD, value: s("kmod load $env{MODALIAS}") },
            Token::Run { kind: RunKind::Program, op: FIN, value: s("/bin/y") },
        ]),
        ("OPTIONS+=\"link_priority=-100\", OPTIONS=\"string_escape=none\", OPTIONS=\"string_escape=replace\", OPTIONS+=\"db_persist\", OPTIONS+=\"watch\", OPTIONS+=\"nowatch\", OPTIONS:=\"static_node=tun\", OPTIONS=\"log_level=debug\", OPTIONS=\"log_level=reset\", OPTIONS=\"log_level=3\", OPTIONS=\"link_priority=0x10\"", vec![
            Token::Options { op: A, option: RuleOption::StringEscapeNone },
            Token::Options { op: A, option: RuleOption::StringEscapeReplace },
            Token::Options { op: A, option: RuleOption::DbPersist },
            Token::Options { op: A, option: RuleOption::Watch(true) },
            Token::Options { op: A, option: RuleOption::Watch(false) },
            Token::Options { op: A, option: RuleOption::LinkPriority(-100) },
            Token::Options { op: A, option: RuleOption::LinkPriority(16) },
            Token::Options { op: A, option: RuleOption::LogLevel(Some(7)) },
            Token::Options { op: A, option: RuleOption::LogLevel(None) },
            Token::Options { op: A, option: RuleOption::LogLevel(Some(3)) },
            Token::Options { op: FIN, option: RuleOption::StaticNode(s("tun")) },
        ]),
    ];
    for (line, want) in cases {
        assert_eq!(tokens(line), want, "{line}");
    }
}

#[test]
fn label_and_goto() {
    let f = file("ACTION!=\"add\", GOTO=\"end\"\nKERNEL==\"x\", TAG+=\"t\"\nLABEL=\"end\"\n");
    assert_eq!(diags(&f), Vec::<String>::new());
    assert_eq!(f.lines.len(), 3);
    assert_eq!(
        f.lines.first().and_then(|l| l.goto.clone()),
        Some(Goto {
            label: s("end"),
            target: 2
        })
    );
    assert_eq!(f.lines.get(2).and_then(|l| l.label.clone()), Some(s("end")));
    // The first later LABEL wins; an earlier one does not count.
    let f = file("LABEL=\"a\"\nGOTO=\"a\"\nLABEL=\"a\"\nLABEL=\"a\"\n");
    assert_eq!(
        f.lines
            .get(1)
            .and_then(|l| l.goto.clone())
            .map(|g| g.target),
        Some(2)
    );
}

#[test]
fn goto_without_label() {
    let f = file("LABEL=\"x\"\nKERNEL==\"a\", GOTO=\"nowhere\"\nKERNEL==\"b\", GOTO=\"nowhere\", TAG+=\"t\"\nLABEL=\"y\", GOTO=\"gone\"\n");
    assert_eq!(
        diags(&f),
        vec![
            "t.rules:2: error: GOTO=\"nowhere\" has no matching label, ignoring",
            "t.rules:2: warning: The line takes no effect any more, dropping",
            "t.rules:3: error: GOTO=\"nowhere\" has no matching label, ignoring",
            "t.rules:4: error: GOTO=\"gone\" has no matching label, ignoring",
            "t.rules:4: warning: The line takes no effect any more, dropping",
        ]
    );
    let lines: Vec<(usize, usize, bool, Option<String>)> = f
        .lines
        .iter()
        .map(|l| (l.line, l.tokens.len(), l.goto.is_some(), l.label.clone()))
        .collect();
    // Line 2 is dropped; line 3 keeps its tokens without the GOTO; line 4 stays as a label.
    assert_eq!(
        lines,
        vec![
            (1, 0, false, Some(s("x"))),
            (3, 2, false, None),
            (4, 0, false, Some(s("y")))
        ]
    );
    // GOTO targets are indices after the drop.
    let f = file("GOTO=\"none\"\nGOTO=\"l\"\nLABEL=\"l\"\n");
    assert_eq!(f.lines.len(), 2);
    assert_eq!(
        f.lines
            .first()
            .and_then(|l| l.goto.clone())
            .map(|g| g.target),
        Some(1)
    );
}

#[test]
fn operators_per_key() {
    // (line, Some(message)) for refused or tolerated forms, None when accepted silently.
    let cases: &[(&str, Option<&str>)] = &[
        (
            "ACTION=\"add\"",
            Some("error: Invalid operator for ACTION."),
        ),
        (
            "ACTION+=\"add\"",
            Some("error: Invalid operator for ACTION."),
        ),
        (
            "DEVPATH:=\"x\"",
            Some("error: Invalid operator for DEVPATH."),
        ),
        ("KERNEL-=\"x\"", Some("error: Invalid operator for KERNEL.")),
        (
            "SUBSYSTEM=\"x\"",
            Some("error: Invalid operator for SUBSYSTEM."),
        ),
        ("DRIVER=\"x\"", Some("error: Invalid operator for DRIVER.")),
        (
            "KERNELS=\"x\"",
            Some("error: Invalid operator for KERNELS."),
        ),
        (
            "SUBSYSTEMS=\"x\"",
            Some("error: Invalid operator for SUBSYSTEMS."),
        ),
        (
            "DRIVERS=\"x\"",
            Some("error: Invalid operator for DRIVERS."),
        ),
        ("ATTRS{a}=\"x\"", Some("error: Invalid operator for ATTRS.")),
        ("TAGS=\"x\"", Some("error: Invalid operator for TAGS.")),
        ("RESULT=\"x\"", Some("error: Invalid operator for RESULT.")),
        (
            "CONST{arch}=\"x\"",
            Some("error: Invalid operator for CONST."),
        ),
        ("TEST=\"/x\"", Some("error: Invalid operator for TEST.")),
        (
            "SYMLINK-=\"x\"",
            Some("error: Invalid operator for SYMLINK."),
        ),
        ("NAME-=\"x\"", Some("error: Invalid operator for NAME.")),
        (
            "NAME+=\"x\"",
            Some("warning: NAME key takes '==', '!=', '=', or ':=' operator, assuming '='."),
        ),
        ("ENV{A}-=\"x\"", Some("error: Invalid operator for ENV.")),
        (
            "ENV{A}:=\"x\"",
            Some("warning: ENV key takes '==', '!=', '=', or '+=' operator, assuming '='."),
        ),
        (
            "TAG:=\"x\"",
            Some("warning: TAG key takes '==', '!=', '=', or '+=' operator, assuming '='."),
        ),
        ("ATTR{a}-=\"x\"", Some("error: Invalid operator for ATTR.")),
        (
            "ATTR{a}+=\"x\"",
            Some("warning: ATTR key takes '==', '!=', or '=' operator, assuming '='."),
        ),
        (
            "ATTR{a}:=\"x\"",
            Some("warning: ATTR key takes '==', '!=', or '=' operator, assuming '='."),
        ),
        (
            "SYSCTL{a}-=\"x\"",
            Some("error: Invalid operator for SYSCTL."),
        ),
        (
            "SYSCTL{a}+=\"x\"",
            Some("warning: SYSCTL key takes '==', '!=', or '=' operator, assuming '='."),
        ),
        (
            "PROGRAM-=\"x\"",
            Some("error: Invalid operator for PROGRAM."),
        ),
        (
            "IMPORT{file}-=\"x\"",
            Some("error: Invalid operator for IMPORT."),
        ),
        (
            "OPTIONS==\"watch\"",
            Some("error: Invalid operator for OPTIONS."),
        ),
        (
            "OPTIONS-=\"watch\"",
            Some("error: Invalid operator for OPTIONS."),
        ),
        (
            "OWNER==\"root\"",
            Some("error: Invalid operator for OWNER."),
        ),
        (
            "OWNER-=\"root\"",
            Some("error: Invalid operator for OWNER."),
        ),
        (
            "OWNER+=\"root\"",
            Some("warning: OWNER key takes '=' or ':=' operator, assuming '='."),
        ),
        (
            "GROUP!=\"disk\"",
            Some("error: Invalid operator for GROUP."),
        ),
        (
            "GROUP+=\"disk\"",
            Some("warning: GROUP key takes '=' or ':=' operator, assuming '='."),
        ),
        ("MODE==\"0600\"", Some("error: Invalid operator for MODE.")),
        (
            "MODE+=\"0600\"",
            Some("warning: MODE key takes '=' or ':=' operator, assuming '='."),
        ),
        (
            "SECLABEL{selinux}==\"x\"",
            Some("error: Invalid operator for SECLABEL."),
        ),
        (
            "SECLABEL{selinux}:=\"x\"",
            Some("warning: SECLABEL key takes '=' or '+=' operator, assuming '='."),
        ),
        ("RUN==\"x\"", Some("error: Invalid operator for RUN.")),
        ("RUN-=\"x\"", Some("error: Invalid operator for RUN.")),
        ("GOTO+=\"x\"", Some("error: Invalid operator for GOTO.")),
        ("GOTO:=\"x\"", Some("error: Invalid operator for GOTO.")),
        ("LABEL==\"x\"", Some("error: Invalid operator for LABEL.")),
        ("LABEL=\"x\"", None),
        ("TAG-=\"x\"", None),
        ("OPTIONS:=\"watch\"", None),
        ("RUN:=\"x\"", None),
        ("SECLABEL{smack}+=\"x\"", None),
    ];
    for (line, want) in cases {
        let f = file(line);
        let got = diags(&f);
        match want {
            None => assert_eq!(got, Vec::<String>::new(), "{line}"),
            Some(w) => assert_eq!(got, vec![format!("t.rules:1: {w}")], "{line}"),
        }
        // A refused operator drops the line; a tolerated one keeps it.
        let dropped = want.is_some_and(|w| w.starts_with("error"));
        assert_eq!(f.lines.is_empty(), dropped, "{line}");
    }
    // The tolerated operators are stored as '='.
    assert_eq!(
        tokens_lenient("NAME+=\"x\""),
        vec![Token::Name {
            op: A,
            value: s("x")
        }]
    );
    assert_eq!(
        tokens_lenient("ENV{A}:=\"x\""),
        vec![Token::Env {
            key: s("A"),
            op: A,
            value: s("x")
        }]
    );
    assert_eq!(
        tokens_lenient("ATTR{a}+=\"x\""),
        vec![Token::Attr {
            attr: s("a"),
            op: A,
            value: s("x")
        }]
    );
}

fn tokens_lenient(line: &str) -> Vec<Token> {
    file(line)
        .lines
        .into_iter()
        .next()
        .map(|l| l.tokens)
        .unwrap_or_default()
}

#[test]
fn attributes_per_key() {
    let cases: &[(&str, &str)] = &[
        ("KERNEL{x}==\"a\"", "error: Invalid attribute for KERNEL."),
        ("KERNEL{}==\"a\"", "error: Invalid attribute for KERNEL."),
        ("ACTION{x}==\"a\"", "error: Invalid attribute for ACTION."),
        ("NAME{x}=\"a\"", "error: Invalid attribute for NAME."),
        ("SYMLINK{x}+=\"a\"", "error: Invalid attribute for SYMLINK."),
        ("TAG{x}+=\"a\"", "error: Invalid attribute for TAG."),
        ("ENV==\"a\"", "error: Invalid attribute for ENV."),
        ("ENV{}==\"a\"", "error: Invalid attribute for ENV."),
        ("ATTR==\"a\"", "error: Invalid attribute for ATTR."),
        ("ATTRS{}==\"a\"", "error: Invalid attribute for ATTRS."),
        ("SYSCTL=\"a\"", "error: Invalid attribute for SYSCTL."),
        ("CONST{os}==\"a\"", "error: Invalid attribute for CONST."),
        ("CONST==\"a\"", "error: Invalid attribute for CONST."),
        ("IMPORT=\"a\"", "error: Invalid attribute for IMPORT."),
        ("IMPORT{nope}=\"a\"", "error: Invalid attribute for IMPORT."),
        ("RUN{nope}+=\"a\"", "error: Invalid attribute for RUN."),
        ("RUN{}+=\"a\"", "error: Invalid attribute for RUN."),
        ("SECLABEL=\"a\"", "error: Invalid attribute for SECLABEL."),
        ("PROGRAM{x}==\"a\"", "error: Invalid attribute for PROGRAM."),
        (
            "OPTIONS{x}=\"watch\"",
            "error: Invalid attribute for OPTIONS.",
        ),
        ("OWNER{x}=\"a\"", "error: Invalid attribute for OWNER."),
        ("GOTO{x}=\"a\"", "error: Invalid attribute for GOTO."),
        ("LABEL{x}=\"a\"", "error: Invalid attribute for LABEL."),
        ("TEST{0999}==\"/x\"", "error: Failed to parse mode '0999'."),
        (
            "TEST{17777}==\"/x\"",
            "error: Failed to parse mode '17777'.",
        ),
    ];
    for (line, want) in cases {
        let f = file(line);
        assert_eq!(diags(&f), vec![format!("t.rules:1: {want}")], "{line}");
        assert!(f.lines.is_empty(), "{line}");
    }
}

#[test]
fn value_checks_and_special_values() {
    let cases: &[(&str, &str, bool)] = &[
        // (line, diagnostic, line kept)
        ("NAME=\"%k\"", "error: Ignoring NAME=\"%k\", as it will take no effect.", false),
        ("NAME=\"\"", "error: Ignoring NAME=\"\", as udev will not delete any network interfaces.", false),
        ("ENV{DEVNAME}=\"x\"", "error: Invalid ENV attribute. 'DEVNAME' cannot be set.", false),
        ("ENV{SUBSYSTEM}+=\"x\"", "error: Invalid ENV attribute. 'SUBSYSTEM' cannot be set.", false),
        ("IMPORT{builtin}=\"nope\"", "error: Unknown builtin command: nope", false),
        ("RUN{builtin}+=\"nope\"", "error: Unknown builtin command 'nope', ignoring", false),
        ("OPTIONS+=\"link_priority=high\"", "error: Failed to parse link priority 'high'.", false),
        ("OPTIONS+=\"log_level=loud\"", "error: Failed to parse log level 'loud'.", false),
        ("OPTIONS+=\"log_level=8\"", "error: Failed to parse log level '8'.", false),
        ("FOO==\"x\"", "error: Invalid key 'FOO'", false),
        ("kernel==\"x\"", "error: Invalid key 'kernel'", false),
        // udev logs bad values but keeps the token.
        ("SYMLINK+=\"%q\"", "error: Invalid value \"%q\" for SYMLINK (char 1: invalid substitution type), ignoring.", true),
        ("RUN+=\"\"", "error: Invalid value \"\" for RUN (char 0: empty value), ignoring.", true),
        ("TAG+=\"\"", "error: Invalid value \"\" for TAG (char 0: empty value), ignoring.", true),
        ("ENV{A}=\"$env\"", "error: Invalid value \"$env\" for ENV (char 5: attribute value missing), ignoring.", true),
        ("PROGRAM==\"x %c{a}\"", "error: Invalid value \"x %c{a}\" for PROGRAM (char 8: attribute value not a valid number), ignoring.", true),
        ("ATTR{%q}=\"1\"", "error: Invalid attribute \"%q\" for ATTR (char 1: invalid substitution type), ignoring.", true),
        ("OWNER=\"\"", "error: Invalid value \"\" for OWNER (char 0: empty value), ignoring.", true),
        ("MODE=\"rw\"", "", true),
        // Warnings.
        ("SUBSYSTEM==\"bus\", TAG+=\"x\"", "warning: \"bus\" must be specified as \"subsystem\".", true),
        ("ATTRS{device/x}==\"1\", TAG+=\"x\"", "warning: 'device' link may not be available in future kernels.", true),
        ("ATTRS{../x}==\"1\", TAG+=\"x\"", "warning: Direct reference to parent sysfs directory, may break in future kernels.", true),
        ("OPTIONS+=\"last_rule\"", "warning: Invalid value for OPTIONS key, ignoring: 'last_rule'", false),
        ("GOTO=\"a\", GOTO=\"b\"\nLABEL=\"a\"", "warning: Contains multiple GOTO keys, ignoring GOTO=\"b\".", true),
        ("KERNEL==\"sda\"", "warning: The line takes no effect, ignoring.", false),
    ];
    for (line, want, kept) in cases {
        let f = file(line);
        let got = diags(&f);
        let got: Vec<&String> = got
            .iter()
            .filter(|d| {
                !d.ends_with("The line takes no effect, ignoring.")
                    || want.contains("takes no effect")
            })
            .collect();
        if want.is_empty() {
            assert!(got.is_empty(), "{line}: {got:?}");
        } else {
            assert_eq!(got, vec![&format!("t.rules:1: {want}")], "{line}");
        }
        assert_eq!(!f.lines.is_empty(), *kept, "{line}");
    }
}

#[test]
fn quoting_and_escapes() {
    let value = |line: &str| match tokens(line).first() {
        Some(Token::Env { value, .. }) => value.clone(),
        other => panic!("{line}: {other:?}"),
    };
    let cases: &[(&str, &str)] = &[
        (r#"ENV{A}="plain""#, "plain"),
        (r#"ENV{A}="""#, ""),
        (r#"ENV{A}="say \"hi\"""#, "say \"hi\""),
        // Other backslashes stay: "\t\n" is four characters.
        (r#"ENV{A}="\t\n""#, "\\t\\n"),
        (r#"ENV{A}="a\\b""#, "a\\\\b"),
        (r#"ENV{A}=e"a\tb\nc""#, "a\tb\nc"),
        (
            r#"ENV{A}=e"\\ \" \' \s \a\b\f\v\r""#,
            "\\ \" '   \x07\x08\x0c\x0b\r",
        ),
        (r#"ENV{A}=e"\x41\101\u00e9\U0001F600""#, "AAé😀"),
        (r#"ENV{A}="x,y""#, "x,y"),
        (r#"ENV{A}="a # not a comment""#, "a # not a comment"),
        ("ENV{A} = \"spaced\"", "spaced"),
        ("ENV{A}\t+=\t\"tabs\"", "tabs"),
        ("ENV{a b}=\"in attr\"", "in attr"),
    ];
    for (line, want) in cases {
        assert_eq!(value(line), *want, "{line}");
    }
    // Bad escapes and unterminated values make the pair invalid.
    for line in [
        r#"ENV{A}=e"\q""#,
        r#"ENV{A}=e"\x00""#,
        r#"ENV{A}=e"\000""#,
        r#"ENV{A}=e"\777""#,
        r#"ENV{A}=e"\xZZ""#,
        r#"ENV{A}=e"\u00""#,
        r#"ENV{A}=e"\uD800""#,
        r#"ENV{A}="open"#,
        r#"ENV{A}="ends with \""#,
        r#"ENV{A}=e"x\""#,
        r#"ENV{A}=noquotes"#,
        r#"ENV{A}='single'"#,
        r#"ENV{A}=E"x""#,
        r#"ENV{A"="x""#,
        r#"ENV{A}=="x"junk"#,
        r#"KERNEL=="a"  GOTO"#,
        r#"KERNEL<"a""#,
        r#"="x""#,
    ] {
        let f = file(line);
        let want = if line.starts_with('=') {
            "t.rules:1: error: Invalid key ''"
        } else {
            "t.rules:1: error: Invalid key/value pair, ignoring."
        };
        assert_eq!(diags(&f), vec![want.to_string()], "{line}");
        assert!(f.lines.is_empty(), "{line}");
    }
}

#[test]
fn separators_and_trailing_commas() {
    let want = vec![
        m(MatchKey::Kernel, EQ, "a"),
        Token::Tag {
            op: ADD,
            value: s("t"),
        },
    ];
    for line in [
        "KERNEL==\"a\", TAG+=\"t\"",
        "KERNEL==\"a\",TAG+=\"t\",",
        "KERNEL==\"a\" TAG+=\"t\"",
        "KERNEL==\"a\"TAG+=\"t\"",
        "  ,KERNEL==\"a\",,, TAG+=\"t\" , ,",
        "KERNEL==\"a\", TAG+=\"t\"\r",
    ] {
        assert_eq!(tokens(line), want, "{line:?}");
    }
}

#[test]
fn case_insensitive_values() {
    let t = tokens("KERNEL==i\"SD*\", ATTR{vendor}==i\"ata|nvme\", TAG+=\"x\"");
    let pats: Vec<(bool, bool)> = t
        .iter()
        .filter_map(|t| match t {
            Token::Match { pattern, .. } => Some((
                pattern.case_insensitive,
                pattern.matches(if pattern.kind == Kind::Glob {
                    "sda"
                } else {
                    "NVMe"
                }),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(pats, vec![(true, true), (true, true)]);
    for line in ["TAG+=i\"x\"", "PROGRAM==i\"x\"", "NAME=i\"x\""] {
        let key = line.split(['=', '+']).next().unwrap_or("");
        assert_eq!(
            diags(&file(line)),
            vec![format!("t.rules:1: error: Invalid prefix 'i' for {key}: only match values can be case-insensitive.")],
            "{line}"
        );
    }
}

#[test]
fn match_values() {
    // KEY=="?*" is stored as KEY!="" (and != flips the other way).
    assert_eq!(
        tokens("ENV{X}==\"?*\", ENV{Y}!=\"?*\", TAG+=\"t\"")
            .into_iter()
            .take(2)
            .collect::<Vec<_>>(),
        vec![
            Token::Match {
                key: MatchKey::Env(s("X")),
                op: NE,
                pattern: pat("")
            },
            Token::Match {
                key: MatchKey::Env(s("Y")),
                op: EQ,
                pattern: pat("")
            },
        ]
    );
    let t = tokens("SUBSYSTEM==\"subsystem\", TAG+=\"t\"");
    assert!(
        matches!(t.first(), Some(Token::Match { pattern, .. }) if pattern.kind == Kind::Subsystem)
    );
    let t = tokens("KERNEL==\"sd*|nvme*|\", TAG+=\"t\"");
    match t.first() {
        Some(Token::Match { pattern, .. }) => {
            assert_eq!(pattern.alternatives, vec![s("sd*"), s("nvme*")]);
            assert!(pattern.matches_empty && pattern.matches("nvme0n1") && pattern.matches(""));
        }
        other => panic!("{other:?}"),
    }
    // ATTR values ending in whitespace compare the attribute untrimmed.
    let t = tokens(
        "ATTR{a}==\"x \", ATTRS{b}==\"y\", ATTR{%k}==\"1\", ATTR{[dmi/id]x}==\"2\", TAG+=\"t\"",
    );
    let names: Vec<(String, NameKind, bool)> = t
        .iter()
        .filter_map(|t| match t {
            Token::Match {
                key: MatchKey::Attr(a) | MatchKey::Attrs(a),
                ..
            } => Some((a.name.clone(), a.kind, a.trim_value)),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        vec![
            (s("a"), NameKind::Plain, false),
            (s("%k"), NameKind::Format, true),
            (s("[dmi/id]x"), NameKind::SubsystemKernel, true),
            (s("b"), NameKind::Plain, true),
        ]
    );
}

#[test]
fn owner_group_mode_values() {
    let cases: Vec<(&str, Token)> = vec![
        (
            "OWNER=\"1000\"",
            Token::Owner {
                op: A,
                value: Id::Number(1000),
            },
        ),
        (
            "OWNER=\"65535\"",
            Token::Owner {
                op: A,
                value: Id::Name(s("65535")),
            },
        ),
        (
            "OWNER=\"4294967295\"",
            Token::Owner {
                op: A,
                value: Id::Name(s("4294967295")),
            },
        ),
        (
            "OWNER=\"-1\"",
            Token::Owner {
                op: A,
                value: Id::Name(s("-1")),
            },
        ),
        (
            "GROUP=\"0\"",
            Token::Group {
                op: A,
                value: Id::Number(0),
            },
        ),
        (
            "MODE=\"0600\"",
            Token::Mode {
                op: A,
                value: Mode::Number(0o600),
            },
        ),
        (
            "MODE=\"600\"",
            Token::Mode {
                op: A,
                value: Mode::Number(0o600),
            },
        ),
        (
            "MODE=\"07777\"",
            Token::Mode {
                op: A,
                value: Mode::Number(0o7777),
            },
        ),
        (
            "MODE=\"0888\"",
            Token::Mode {
                op: A,
                value: Mode::Template(s("0888")),
            },
        ),
        (
            "MODE=\"+0600\"",
            Token::Mode {
                op: A,
                value: Mode::Template(s("+0600")),
            },
        ),
    ];
    for (line, want) in cases {
        assert_eq!(tokens(line), vec![want], "{line}");
    }
}

#[test]
fn builtin_lookup() {
    assert_eq!(Builtin::lookup("  net_id --x"), Some(Builtin::NetId));
    assert_eq!(
        Builtin::lookup("net_setup_link"),
        Some(Builtin::NetSetupLink)
    );
    assert_eq!(Builtin::lookup("hwdb --subsystem=usb"), Some(Builtin::Hwdb));
    // udev compares only the command word's length: a prefix finds a builtin.
    assert_eq!(Builtin::lookup("path"), Some(Builtin::PathId));
    assert_eq!(Builtin::lookup(""), Some(Builtin::Blkid));
    assert_eq!(Builtin::lookup("/usr/bin/path_id"), None);
    assert_eq!(Builtin::lookup("path_idx"), None);
    for b in Builtin::ALL {
        assert_eq!(Builtin::lookup(b.name()), Some(b));
    }
}

#[test]
fn token_order_is_udevs() {
    let t = tokens("RUN+=\"r\", NAME=\"n\", TAG+=\"t\", IMPORT{program}=\"p\", PROGRAM=\"q\", ATTRS{a}==\"1\", KERNEL==\"k\", ACTION==\"add\", RESULT==\"x\", TEST==\"/t\", ENV{A}=\"1\", SYMLINK+=\"l\"");
    let ranks: Vec<u8> = t.iter().map(Token::rank).collect();
    let mut sorted = ranks.clone();
    sorted.sort_unstable();
    assert_eq!(ranks, sorted);
    assert!(matches!(
        t.first(),
        Some(Token::Match {
            key: MatchKey::Action,
            ..
        })
    ));
    assert!(matches!(t.last(), Some(Token::Run { .. })));
    // Equal ranks keep their written order.
    let t = tokens("TAG+=\"b\", TAG+=\"a\"");
    assert_eq!(
        t,
        vec![
            Token::Tag {
                op: ADD,
                value: s("b")
            },
            Token::Tag {
                op: ADD,
                value: s("a")
            }
        ]
    );
}

#[test]
fn comments_blank_lines_continuations() {
    let text = "# comment\n\n   # indented comment\n\t\nKERNEL==\"a\", \\\n  TAG+=\"one\"\nKERNEL==\"b\", \\\n# a comment inside is skipped\n  TAG+=\"two\", \\\n  TAG+=\"three\"\nKERNEL==\"c\", TAG+=\"four\" \\ \n";
    let f = file(text);
    let got: Vec<(usize, usize)> = f.lines.iter().map(|l| (l.line, l.tokens.len())).collect();
    // A continued line is numbered by its last physical line.
    assert_eq!(got, vec![(6, 2), (10, 3)]);
    // A backslash followed by a space does not continue: the pair is invalid.
    assert_eq!(
        diags(&f),
        vec!["t.rules:11: error: Invalid key/value pair, ignoring.".to_string()]
    );
    // An empty line ends a continuation; a continuation left open at the end is dropped.
    let f = file("KERNEL==\"a\", \\\n\nTAG+=\"x\"\nTAG+=\"y\" \\");
    assert_eq!(
        diags(&f),
        vec!["t.rules:2: warning: The line takes no effect, ignoring.".to_string()]
    );
    assert_eq!(f.lines.iter().map(|l| l.line).collect::<Vec<_>>(), vec![3]);
    // The backslash is removed and the next line joined without its leading whitespace.
    let f = file("ENV{A}=\"x\\\n    y\"");
    assert_eq!(
        f.lines.first().map(|l| l.tokens.clone()),
        Some(vec![Token::Env {
            key: s("A"),
            op: A,
            value: s("xy")
        }])
    );
}

#[test]
fn line_endings() {
    // \r\n, \n\r, \r and NUL end lines like systemd's read_line.
    let f = file("TAG+=\"a\"\r\nTAG+=\"b\"\rTAG+=\"c\"\n\rTAG+=\"d\"\0TAG+=\"e\"\n\nBAD\n");
    assert_eq!(
        f.lines.iter().map(|l| l.line).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(
        diags(&f),
        vec!["t.rules:7: error: Invalid key/value pair, ignoring.".to_string()]
    );
}

#[test]
fn bad_lines_are_skipped_and_the_rest_applies() {
    let text = "KERNEL==\"a\", TAG+=\"ok1\"\nKERNEL=\"a\", TAG+=\"bad\"\nKERNEL==\"b\" TAG+\"bad\"\nBOGUS==\"x\", TAG+=\"bad\"\nKERNEL==\"c\", TAG+=\"ok2\"\n";
    let f = file(text);
    assert_eq!(
        diags(&f),
        vec![
            "t.rules:2: error: Invalid operator for KERNEL.",
            "t.rules:3: error: Invalid key/value pair, ignoring.",
            "t.rules:4: error: Invalid key 'BOGUS'",
        ]
    );
    let tags: Vec<String> = f
        .lines
        .iter()
        .flat_map(|l| l.tokens.iter())
        .filter_map(|t| match t {
            Token::Tag { value, .. } => Some(value.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(tags, vec![s("ok1"), s("ok2")]);
}

#[test]
fn long_lines() {
    // A logical line of LINE_MAX bytes or more (joined from continuations) is refused.
    let part = format!("ENV{{A}}+=\"{}\", \\\n", "x".repeat(6000));
    let text = format!("{part}{part}{part}TAG+=\"t\"\nTAG+=\"after\"\n");
    let f = file(&text);
    assert_eq!(
        diags(&f),
        vec!["t.rules:4: error: Line is too long, ignored".to_string()]
    );
    assert_eq!(f.lines.iter().map(|l| l.line).collect::<Vec<_>>(), vec![5]);
    // A physical line that long stops the file, as udev's read_line fails there.
    let text = format!(
        "TAG+=\"first\"\nTAG+=\"{}\"\nTAG+=\"never\"\n",
        "y".repeat(LINE_MAX)
    );
    let f = file(&text);
    assert_eq!(f.lines.len(), 1);
    assert_eq!(
        diags(&f),
        vec![format!("t.rules:2: error: Line is longer than {LINE_MAX} bytes, the rest of the file is ignored")]
    );
}

#[test]
fn utf8_and_binary_garbage() {
    let f = parse(
        "t.rules",
        b"ENV{A}=\"gr\xc3\xbc\xc3\x9fe\", TAG+=\"t\"\nENV{B}=\"\xff\"\n",
    );
    assert_eq!(f.lines.len(), 2);
    assert!(f
        .lines
        .first()
        .is_some_and(|l| l.tokens.contains(&Token::Env {
            key: s("A"),
            op: A,
            value: s("grüße")
        })));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let f = parse("fuzz.rules", &bytes);
        for l in &f.lines {
            prop_assert!(l.line >= 1);
            if let Some(g) = &l.goto {
                prop_assert!(g.target < f.lines.len());
            }
        }
    }

    #[test]
    fn rule_like_text_never_panics(text in "([A-Z]{1,8}(\\{[a-z%$\\[\\]/]{0,6}\\})?(==|!=|=|\\+=|-=|:=)[ei]?\"([a-z*?|%$\\\\\"{}\\[\\] ]{0,10})\"[, ]{0,2}(\\\\\n)?(\n)?){0,8}") {
        let f = parse("fuzz.rules", text.as_bytes());
        for d in &f.diagnostics {
            prop_assert!(d.line >= 1);
        }
    }
}
