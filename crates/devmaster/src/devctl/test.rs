//! `devctl test` and `devctl test-builtin` (udevadm 252's `test`, `test-builtin`).
//!
//! `test` runs the rules for one device as a dry run: the device is read from sysfs with
//! `--action` (default `add`), the rules from udev's directories, and [`crate::engine`]
//! applies them with a [`DryRun`] host. Like udevadm test it runs `PROGRAM` and
//! `IMPORT{program}` commands and builtins (whose requested system changes, module loads
//! and link settings, stay data), but unlike Debian's udevadm test it changes nothing:
//! no interface rename, no database, no node, no `ATTR`/`SYSCTL` write, no `RUN`. Standard
//! output has udevadm's header, the resulting properties and one `run: '...'` line per
//! `RUN` entry; standard error has what each rule line did, `DEVICE: FILE:LINE WHAT`, as
//! udevadm's debug log shows it. Properties come in sd-device's order for those the device
//! had, then the ones the rules added, by name (the engine keeps no insertion order).
//! Programs see the device's properties before the rules as their environment.
//!
//! `test-builtin` runs one builtin and prints the properties it sets, `KEY=VALUE`, as the
//! builtin's test mode does.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::getopt::{long, Arg, Item, Long};
use super::sdev::Dev;
use super::util::{find_device, parse_action, strerror};
use super::{Env, Io};
use crate::builtins::real::RealSystem;
use crate::device::{Device, SysfsTree};
use crate::engine::{Host, PropertyChanges};
use crate::rules::subst::{self, Sysfs};
use crate::rules::syntax::{Builtin, ConstKey};

/// How long a program may run (udevadm test's 60 s).
const PROGRAM_TIMEOUT: Duration = Duration::from_secs(60);

/// The host of a dry run: reads anything, runs programs and builtins, writes nothing.
pub struct DryRun {
    tree: SysfsTree,
    root: PathBuf,
    system: RealSystem,
    env: Env,
    /// The environment of programs.
    program_env: BTreeMap<String, String>,
    host: crate::builtins::link::Host,
}

impl DryRun {
    /// A dry-run host on `env`'s trees; programs get `program_env`.
    pub fn new(env: &Env, program_env: BTreeMap<String, String>) -> DryRun {
        let system = RealSystem::new(&env.root);
        DryRun {
            tree: SysfsTree::new(&env.sys),
            root: env.root.clone(),
            host: crate::builtins::link::Host::read(&system),
            system,
            env: env.clone(),
            program_env,
        }
    }

    fn host_path(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }

    fn id_of(&self, path: &str, file: &str, name: &str) -> Option<u32> {
        let text = std::fs::read_to_string(self.host_path(file)).ok()?;
        let _ = path;
        text.lines().find_map(|l| {
            let mut f = l.split(':');
            (f.next()? == name).then_some(())?;
            f.nth(1)?.parse().ok()
        })
    }
}

/// Runs `command` as udev runs programs: split into words, a relative program looked up in
/// udev's directory, properties as the environment, standard output captured, killed after
/// `timeout`.
fn run_command(
    root: &std::path::Path,
    command: &str,
    env: &BTreeMap<String, String>,
    timeout: Duration,
) -> Result<String, String> {
    let words = crate::builtins::words(command);
    let Some((prog, args)) = words.split_first() else {
        return Err("empty command".into());
    };
    let prog = if prog.starts_with('/') {
        prog.clone()
    } else {
        ["/usr/lib/udev", "/lib/udev"]
            .iter()
            .map(|d| format!("{d}/{prog}"))
            .find(|p| root.join(p.trim_start_matches('/')).exists())
            .unwrap_or_else(|| format!("/usr/lib/udev/{prog}"))
    };
    let mut child = std::process::Command::new(&prog)
        .args(args)
        .env_clear()
        .envs(env)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .map_err(|e| format!("Failed to execute '{prog}': {e}"))?;
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(o) = stdout.as_mut() {
            let _ = o.take(16 * 1024 * 1024).read_to_end(&mut s);
        }
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("Spawned process '{command}' timed out, killing"));
            }
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("Process '{command}' failed with {status}"));
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

impl Host for DryRun {
    fn sysfs(&self) -> &dyn Sysfs {
        &self.tree
    }
    fn syspath_of(&self, subsystem: &str, sysname: &str) -> Option<String> {
        self.tree.find(subsystem, sysname).map(|d| d.syspath())
    }
    fn run_program(&self, command: &str) -> Result<String, String> {
        run_command(&self.root, command, &self.program_env, PROGRAM_TIMEOUT)
    }
    fn read_file(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.host_path(path)).ok()
    }
    fn db_property(&self, key: &str) -> Option<String> {
        let devpath = self.program_env.get("DEVPATH")?;
        let mut d = Dev::from_syspath(&self.env, &format!("/sys{devpath}")).ok()?;
        d.property(key)
    }
    fn cmdline(&self) -> Option<String> {
        std::fs::read_to_string(self.host_path("/proc/cmdline")).ok()
    }
    fn builtin(
        &self,
        builtin: Builtin,
        command: &str,
        device: &dyn subst::Device,
    ) -> Result<PropertyChanges, String> {
        crate::builtins::run(builtin, command, device, &self.system).map(|o| o.properties)
    }
    fn sysctl(&self, name: &str) -> Option<String> {
        let v = std::fs::read_to_string(self.host_path(&format!("/proc/sys/{name}"))).ok()?;
        Some(v.trim_end_matches('\n').to_string())
    }
    fn file_mode(&self, path: &str) -> Option<u32> {
        let p = match path.strip_prefix("/sys/") {
            Some(rest) => self.env.sys.join(rest),
            None => self.host_path(path),
        };
        std::fs::metadata(p).ok().map(|m| m.mode())
    }
    fn read_dir(&self, path: &str) -> Option<Vec<String>> {
        let p = match path.strip_prefix("/sys/") {
            Some(rest) => self.env.sys.join(rest),
            None => self.host_path(path),
        };
        let mut v: Vec<String> = std::fs::read_dir(p)
            .ok()?
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        v.sort();
        Some(v)
    }
    fn const_value(&self, key: ConstKey) -> String {
        match key {
            ConstKey::Arch => self.host.architecture.clone(),
            ConstKey::Virt => self
                .host
                .virtualization
                .clone()
                .unwrap_or_else(|| "none".into()),
        }
    }
    fn user(&self, name: &str) -> Option<u32> {
        self.id_of(name, "/etc/passwd", name)
    }
    fn group(&self, name: &str) -> Option<u32> {
        self.id_of(name, "/etc/group", name)
    }
}

/// The event device: `arg` found as udevadm finds it (`/sys` put in front when needed),
/// read with `action`; with the sd-device record of its properties.
fn event_device(env: &Env, arg: &str, action: &str) -> Result<(Dev, Device), i32> {
    let mut d = find_device(env, arg, Some("/sys")).map_err(|e| e.max(1))?;
    d.read_uevent();
    d.set_action(action);
    let tree = SysfsTree::new(&env.sys);
    let dev = tree
        .device(&d.devpath)
        .ok_or(super::sdev::ENODEV)?
        .with_event_properties([("ACTION", action)]);
    Ok((d, dev))
}

const TEST_LONGS: [Long; 4] = [
    long("action", Arg::Required, 'a' as u32),
    long("resolve-names", Arg::Required, 'N' as u32),
    long("version", Arg::No, 'V' as u32),
    long("help", Arg::No, 'h' as u32),
];

const TEST_HELP: &str = "devctl test [OPTIONS] DEVPATH

Test an event run.

  -h --help                            Show this help
  -V --version                         Show package version
  -a --action=ACTION|help              Set action string
  -N --resolve-names=early|late|never  When to resolve names
";

/// The properties to print after the rules: `base` in its order with the rules' values
/// (removed ones dropped), then new ones by name, then links and tags as sd-device adds them.
pub fn result_properties(
    base: &[(String, String)],
    out: &crate::engine::Outcome,
) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = base
        .iter()
        .filter_map(|(k, _)| out.properties.get(k).map(|val| (k.clone(), val.clone())))
        .collect();
    for (k, val) in &out.properties {
        if !base.iter().any(|(b, _)| b == k)
            && !matches!(k.as_str(), "DEVLINKS" | "TAGS" | "CURRENT_TAGS")
        {
            v.push((k.clone(), val.clone()));
        }
    }
    if !out.devlinks.is_empty() {
        v.push((
            "DEVLINKS".into(),
            out.devlinks.iter().cloned().collect::<Vec<_>>().join(" "),
        ));
    }
    if !out.tags.is_empty() {
        let t = out.tags.iter().cloned().collect::<Vec<_>>().join(":");
        v.push(("TAGS".into(), format!(":{t}:")));
        v.push(("CURRENT_TAGS".into(), format!(":{t}:")));
    }
    v
}

/// Whether a trace note only says that a match token held (`KEY=="..."`, `KEY!="..."`):
/// shown for lines that matched, left out for lines that did not (whose actions and
/// failures are still shown).
fn is_match_note(note: &str) -> bool {
    let key_end = note.find(['=', '!', ' ', '\'']).unwrap_or(note.len());
    let rest = note.get(key_end..).unwrap_or_default();
    key_end > 0 && (rest.starts_with("==\"") || rest.starts_with("!=\""))
}

/// Entry point of `devctl test`.
pub fn main(env: &Env, args: &[String], io: &mut Io) -> i32 {
    let p = super::getopt::parse("test", args, "a:N:Vh", &TEST_LONGS, false);
    let mut action = "add";
    for item in p.items {
        let (c, a) = match item {
            Item::Opt(c, a) => (c, a.unwrap_or_default()),
            Item::Error(e) => return io.fail(e),
        };
        match char::from_u32(c).unwrap_or('?') {
            'a' => match parse_action(&a, io.out) {
                Ok(Some(act)) => action = act,
                Ok(None) => return 0,
                Err(_) => return io.fail(format!("Invalid action '{a}'")),
            },
            'N' => {
                if !matches!(a.as_str(), "early" | "late" | "never") {
                    return io.fail("--resolve-names= must be early, late or never");
                }
            }
            'V' => {
                let _ = writeln!(io.out, "{}", super::VERSION);
                return 0;
            }
            _ => {
                let _ = io.out.write_all(TEST_HELP.as_bytes());
                return 0;
            }
        }
    }
    let Some(syspath) = p.args.first() else {
        return io.fail("syspath parameter missing.");
    };
    let _ = io.out.write_all(
        b"This program is for debugging only, it does not run any program\n\
          specified by a RUN key. It may show incorrect results, because\n\
          some values may be different, or not available at a simulation run.\n\n",
    );
    let dirs: Vec<PathBuf> = crate::rules::load::RULES_DIRS
        .iter()
        .map(|d| env.root.join(d.trim_start_matches('/')))
        .collect();
    let rules = crate::rules::load::read(&dirs);
    for f in &rules.files {
        io.log(format!("Reading rules file: {}", f.path));
    }
    for d in rules.all_diagnostics() {
        io.log(d);
    }
    let (mut sd, dev) = match event_device(env, syspath, action) {
        Ok(x) => x,
        Err(e) => {
            return io.fail(format!(
                "Failed to open device '{syspath}': {}",
                strerror(e)
            ))
        }
    };
    sd.seal();
    sd.subsystem();
    let usec = sys::event::monotonic_usec().to_string();
    sd.set_property("USEC_INITIALIZED", Some(&usec));
    let base = sd.properties();
    let dev = dev.with_event_properties([("USEC_INITIALIZED", usec.as_str())]);
    let program_env: BTreeMap<String, String> = base.iter().cloned().collect();
    let host = DryRun::new(env, program_env);
    let outcome = crate::engine::apply_traced(&rules.files, &dev, &host);
    let sysname = sd.sysname();
    for t in &outcome.trace {
        for n in t.notes.iter().filter(|n| t.matched || !is_match_note(n)) {
            io.log(format!("{sysname}: {}:{} {n}", t.file, t.line));
        }
        let goto = rules
            .files
            .iter()
            .find(|f| f.path == t.file)
            .and_then(|f| f.lines.iter().find(|l| l.line == t.line))
            .and_then(|l| l.goto.as_ref());
        if let (true, Some(g)) = (t.matched, goto) {
            io.log(format!(
                "{sysname}: {}:{} GOTO=\"{}\"",
                t.file, t.line, g.label
            ));
        }
    }
    let mut s = String::new();
    for (k, v) in result_properties(&base, &outcome) {
        s.push_str(&format!("{k}={v}\n"));
    }
    for r in &outcome.run {
        s.push_str(&format!("run: '{}'\n", r.command));
    }
    let _ = io.out.write_all(s.as_bytes());
    0
}

const BUILTIN_LONGS: [Long; 3] = [
    long("action", Arg::Required, 'a' as u32),
    long("version", Arg::No, 'V' as u32),
    long("help", Arg::No, 'h' as u32),
];

/// Entry point of `devctl test-builtin`.
pub fn builtin_main(env: &Env, args: &[String], io: &mut Io) -> i32 {
    let p = super::getopt::parse("test-builtin", args, "a:Vh", &BUILTIN_LONGS, false);
    let mut action = "add";
    for item in p.items {
        let (c, a) = match item {
            Item::Opt(c, a) => (c, a.unwrap_or_default()),
            Item::Error(e) => return io.fail(e),
        };
        match char::from_u32(c).unwrap_or('?') {
            'a' => match parse_action(&a, io.out) {
                Ok(Some(act)) => action = act,
                Ok(None) => return 0,
                Err(_) => return io.fail(format!("Invalid action '{a}'")),
            },
            'V' => {
                let _ = writeln!(io.out, "{}", super::VERSION);
                return 0;
            }
            _ => {
                let mut s = String::from(
                    "devctl test-builtin [OPTIONS] COMMAND DEVPATH\n\n\
                     Test a built-in command.\n\n  \
                     -h --help               Print this message\n  \
                     -V --version            Print version of the program\n\n  \
                     -a --action=ACTION|help Set action string\nCommands:\n",
                );
                for b in Builtin::ALL {
                    s.push_str(&format!("  {:<14}  {}\n", b.name(), describe(b)));
                }
                let _ = io.out.write_all(s.as_bytes());
                return 0;
            }
        }
    }
    // Debian's 252.39 asks for exactly two (252.31 said "Command missing." and "device is
    // missing." and ignored extra words).
    let [command, syspath] = p.args.as_slice() else {
        return io.fail("Expected two arguments: command string and device path.");
    };
    let Some(builtin) = Builtin::lookup(command) else {
        return io.fail(format!("Unknown command '{command}'"));
    };
    let (_, dev) = match event_device(env, syspath, action) {
        Ok(x) => x,
        Err(e) => {
            return io.fail(format!(
                "Failed to open device '{syspath}': {}",
                strerror(e)
            ))
        }
    };
    let system = RealSystem::new(&env.root);
    match crate::builtins::run(builtin, command, &dev, &system) {
        Ok(o) => {
            let mut s = String::new();
            for (k, v) in o.properties {
                s.push_str(&format!("{k}={}\n", v.unwrap_or_default()));
            }
            let _ = io.out.write_all(s.as_bytes());
            0
        }
        Err(e) => io.fail(format!("Builtin command '{command}' fails: {e}")),
    }
}

/// udev's one-line description of each builtin (`udevadm test-builtin --help`).
fn describe(b: Builtin) -> &'static str {
    match b {
        Builtin::Blkid => "Filesystem and partition probing",
        Builtin::Btrfs => "btrfs volume management",
        Builtin::Hwdb => "Hardware database",
        Builtin::InputId => "Input device properties",
        Builtin::Keyboard => "Keyboard scan code to key mapping",
        Builtin::Kmod => "Kernel module loader",
        Builtin::NetId => "Network device properties",
        Builtin::NetSetupLink => "Configure network link",
        Builtin::PathId => "Compose persistent device path",
        Builtin::UsbId => "USB device properties",
        Builtin::Uaccess => "Manage device node user ACL",
    }
}
