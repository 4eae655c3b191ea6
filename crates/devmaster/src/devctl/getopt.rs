//! Command-line parsing as glibc's `getopt_long(3)` does it for udevadm, so `devctl` takes
//! the same spellings and refuses the same mistakes with the same words: clustered short
//! options (`-xq path`), attached or separate arguments (`-qpath`, `-q path`, `--query=path`,
//! `--query path`), optional arguments only when attached (`-w5`, `--wait-daemon=5`), long
//! options abbreviated to any unambiguous prefix (an abbreviation is ambiguous only when
//! the candidates differ in what they do), non-options moved after the options (unless
//! parsing stops at the first one, `+` in getopt's terms), and `--` ending the options.
//!
//! Parsing never fails as a whole: the caller gets the options in command-line order, the
//! first mistake as the last item (udevadm acts on each option as it comes and stops at the
//! first error, so an earlier `--help` still wins), and the non-options.

/// Whether an option takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// Never.
    No,
    /// Always (attached or the next word).
    Required,
    /// Only attached (`-w5`, `--wait=5`).
    Optional,
}

/// A long option: its name, its argument, and the id it reports (a short option's
/// character, or a number of 0x100 and up for long-only options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Long {
    /// The name without `--`.
    pub name: &'static str,
    /// Its argument.
    pub arg: Arg,
    /// What parsing reports for it.
    pub id: u32,
}

/// Shorthand for a table entry.
pub const fn long(name: &'static str, arg: Arg, id: u32) -> Long {
    Long { name, arg, id }
}

/// One item of the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An option (its id) with its argument.
    Opt(u32, Option<String>),
    /// A mistake, in glibc's words (`info: unrecognized option '--x'`); nothing follows it.
    Error(String),
}

/// What a command line holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Options in order, at most one [`Item::Error`] at the end.
    pub items: Vec<Item>,
    /// The non-option words, in order.
    pub args: Vec<String>,
}

/// The argument kind of short option `c` in getopt's `optstring` (`"ab:c::"`).
fn short_arg(optstring: &str, c: char) -> Option<Arg> {
    if c == ':' || c == '+' || c == '-' {
        return None;
    }
    let at = optstring.find(c)?;
    let rest = optstring.get(at + c.len_utf8()..).unwrap_or_default();
    Some(if rest.starts_with("::") {
        Arg::Optional
    } else if rest.starts_with(':') {
        Arg::Required
    } else {
        Arg::No
    })
}

/// Finds a long option by exact name or unambiguous prefix.
fn find_long<'a>(longs: &'a [Long], name: &str) -> Result<&'a Long, Vec<&'a Long>> {
    if let Some(l) = longs.iter().find(|l| l.name == name) {
        return Ok(l);
    }
    let candidates: Vec<&Long> = longs.iter().filter(|l| l.name.starts_with(name)).collect();
    let Some(first) = candidates.first() else {
        return Err(Vec::new());
    };
    // glibc calls it ambiguous only when a later candidate would act differently from the
    // first; it then lists the first and every such one, in table order.
    let differing: Vec<&Long> = candidates
        .iter()
        .copied()
        .filter(|l| l.arg != first.arg || l.id != first.id)
        .collect();
    if differing.is_empty() {
        return Ok(first);
    }
    let mut listed = vec![*first];
    listed.extend(differing);
    Err(listed)
}

/// Parses `args` (without the program or verb name; `prog` is that name, for messages).
/// `stop_at_nonoption`: stop at the first non-option word, as a `+` optstring does.
pub fn parse(
    prog: &str,
    args: &[String],
    optstring: &str,
    longs: &[Long],
    stop_at_nonoption: bool,
) -> Parsed {
    let mut p = Parsed::default();
    let mut i = 0;
    while let Some(word) = args.get(i) {
        i += 1;
        if word == "--" {
            p.args.extend(args.iter().skip(i).cloned());
            return p;
        }
        if let Some(body) = word.strip_prefix("--") {
            let (name, attached) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let l = match find_long(longs, name) {
                Ok(l) => l,
                Err(listed) if listed.is_empty() => {
                    p.items.push(Item::Error(format!(
                        "{prog}: unrecognized option '--{body}'"
                    )));
                    return p;
                }
                Err(listed) => {
                    let names: String = listed.iter().map(|l| format!(" '--{}'", l.name)).collect();
                    p.items.push(Item::Error(format!(
                        "{prog}: option '--{body}' is ambiguous; possibilities:{names}"
                    )));
                    return p;
                }
            };
            let value = match (l.arg, attached) {
                (Arg::No, Some(_)) => {
                    p.items.push(Item::Error(format!(
                        "{prog}: option '--{}' doesn't allow an argument",
                        l.name
                    )));
                    return p;
                }
                (Arg::No, None) => None,
                (Arg::Optional, v) => v,
                (Arg::Required, Some(v)) => Some(v),
                (Arg::Required, None) => match args.get(i) {
                    Some(v) => {
                        i += 1;
                        Some(v.clone())
                    }
                    None => {
                        p.items.push(Item::Error(format!(
                            "{prog}: option '--{}' requires an argument",
                            l.name
                        )));
                        return p;
                    }
                },
            };
            p.items.push(Item::Opt(l.id, value));
            continue;
        }
        let Some(cluster) = word.strip_prefix('-').filter(|c| !c.is_empty()) else {
            if stop_at_nonoption {
                p.args.extend(args.iter().skip(i - 1).cloned());
                return p;
            }
            p.args.push(word.clone());
            continue;
        };
        for (at, c) in cluster.char_indices() {
            let rest = cluster.get(at + c.len_utf8()..).unwrap_or_default();
            match short_arg(optstring, c) {
                None => {
                    p.items
                        .push(Item::Error(format!("{prog}: invalid option -- '{c}'")));
                    return p;
                }
                Some(Arg::No) => p.items.push(Item::Opt(u32::from(c), None)),
                Some(Arg::Optional) => {
                    let v = (!rest.is_empty()).then(|| rest.to_string());
                    p.items.push(Item::Opt(u32::from(c), v));
                    break;
                }
                Some(Arg::Required) => {
                    let v = if !rest.is_empty() {
                        rest.to_string()
                    } else if let Some(v) = args.get(i) {
                        i += 1;
                        v.clone()
                    } else {
                        p.items.push(Item::Error(format!(
                            "{prog}: option requires an argument -- '{c}'"
                        )));
                        return p;
                    };
                    p.items.push(Item::Opt(u32::from(c), Some(v)));
                    break;
                }
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &[Long] = &[
        long("attribute-walk", Arg::No, 'a' as u32),
        long("export", Arg::No, 'x' as u32),
        long("export-db", Arg::No, 'e' as u32),
        long("export-prefix", Arg::Required, 'P' as u32),
        long("query", Arg::Required, 'q' as u32),
        long("wait-for-initialization", Arg::Optional, 'w' as u32),
        long("reload", Arg::No, 'R' as u32),
        long("reload-rules", Arg::No, 'R' as u32),
    ];
    const SHORT: &str = "axeP:q:w::R";

    fn check(args: &[&str], items: &[Item], rest: &[&str]) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let p = parse("info", &args, SHORT, INFO, false);
        assert_eq!(p.items, items, "{args:?}");
        assert_eq!(p.args, rest, "{args:?}");
    }

    fn opt(c: char, v: Option<&str>) -> Item {
        Item::Opt(c as u32, v.map(str::to_string))
    }

    fn err(s: &str) -> Item {
        Item::Error(s.to_string())
    }

    #[test]
    fn getopt_long_table() {
        // Expected messages: glibc 2.36 as Debian 12's udevadm prints them.
        check(
            &["-xq", "path", "dev"],
            &[opt('x', None), opt('q', Some("path"))],
            &["dev"],
        );
        check(&["-qpath"], &[opt('q', Some("path"))], &[]);
        check(
            &["dev", "--query=name", "--", "-x"],
            &[opt('q', Some("name"))],
            &["dev", "-x"],
        );
        check(&["--qu", "path"], &[opt('q', Some("path"))], &[]);
        check(&["--query="], &[opt('q', Some(""))], &[]);
        check(&["-q", "-x"], &[opt('q', Some("-x"))], &[]);
        check(&["-w", "5"], &[opt('w', None)], &["5"]);
        check(
            &["-w5", "--wait-for-initialization=3"],
            &[opt('w', Some("5")), opt('w', Some("3"))],
            &[],
        );
        check(&["--rel"], &[opt('R', None)], &[]);
        check(&["-", "-a"], &[opt('a', None)], &["-"]);
        check(
            &["--bogus=1", "-a"],
            &[err("info: unrecognized option '--bogus=1'")],
            &[],
        );
        check(&["-z"], &[err("info: invalid option -- 'z'")], &[]);
        check(
            &["-q"],
            &[err("info: option requires an argument -- 'q'")],
            &[],
        );
        check(
            &["--query"],
            &[err("info: option '--query' requires an argument")],
            &[],
        );
        check(
            &["--export=1"],
            &[err("info: option '--export' doesn't allow an argument")],
            &[],
        );
        check(
            &["--e"],
            &[err("info: option '--e' is ambiguous; possibilities: '--export' '--export-db' '--export-prefix'")],
            &[],
        );
        check(
            &["-a", "--q"],
            &[
                opt('a', None),
                err("info: option '--query' requires an argument"),
            ],
            &[],
        );
    }

    #[test]
    fn stops_at_the_first_nonoption_when_asked() {
        let args: Vec<String> = ["-d", "info", "-x"].iter().map(|s| s.to_string()).collect();
        let p = parse(
            "devctl",
            &args,
            "dhV",
            &[long("debug", Arg::No, 'd' as u32)],
            true,
        );
        assert_eq!(p.items, vec![Item::Opt('d' as u32, None)]);
        assert_eq!(p.args, vec!["info", "-x"]);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(args in proptest::collection::vec(".{0,12}", 0..8)) {
            let p = parse("x", &args, SHORT, INFO, false);
            let errors = p.items.iter().filter(|i| matches!(i, Item::Error(_))).count();
            proptest::prop_assert!(errors <= 1);
        }
    }
}
