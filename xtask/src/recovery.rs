//! `cargo xtask bench-recovery [--units N] [--kills K] [--musl]`: the self-healing figures
//! of issue 4. Our PID 1 runs the release manager in a fresh PID + mount namespace with N
//! generated units started; the manager is SIGKILLed K times, and each time the clock runs
//! from the kill until a `list-units` request over the control socket is answered by the
//! next manager (with its full state). Also reports PID 1's and the manager's RSS.

use crate::{bench_build, bench_write_units, median, rss_mib, step, Libc, Result};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn is_manager(pid: u32, manager: &Path) -> bool {
    std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| p == manager)
        && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

/// One `list-units` call; true once a whole answer came back.
fn list_units(control: &Path) -> bool {
    let Ok(mut s) = UnixStream::connect(control) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    if s.write_all(b"{\"version\":1,\"method\":\"list-units\",\"params\":{}}\0")
        .is_err()
    {
        return false;
    }
    let mut reply = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => reply.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
        if reply.last() == Some(&0) {
            return reply.windows(6).any(|w| w == b"\"ok\":{");
        }
    }
}

fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + limit;
    while !cond() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

pub fn bench_recovery(args: &[String]) -> Result<()> {
    let (mut units, mut kills, mut libc) = (300usize, 30usize, Libc::Glibc);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = |what: &str| -> Result<usize> {
            it.next()
                .and_then(|v| v.parse().ok())
                .filter(|&n: &usize| n > 0)
                .ok_or_else(|| format!("{what} needs a positive number"))
        };
        match a.as_str() {
            "--units" => units = number("--units")?,
            "--kills" => kills = number("--kills")?,
            "--musl" => libc = Libc::Musl,
            other => return Err(format!("bench-recovery: unknown argument {other}")),
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target"));
    let bins = bench_build(libc, &target)?;
    let manager =
        std::fs::canonicalize(bins.join("sysmaster")).map_err(|e| format!("sysmaster: {e}"))?;
    let base = std::env::temp_dir().join(format!("sysmaster-recovery-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let unit_dir = base.join("units");
    std::fs::create_dir_all(&unit_dir).map_err(|e| format!("{}: {e}", unit_dir.display()))?;
    bench_write_units(&unit_dir, units)?;
    let control = base.join("run/control");
    let log = std::fs::File::create(base.join("log")).map_err(|e| e.to_string())?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    step(&format!(
        "{units} units under our PID 1 ({}), {kills} manager kills",
        libc.name()
    ));
    let mut container = Command::new("unshare")
        .args(["--pid", "--fork", "--mount", "--mount-proc", "--kill-child"])
        .arg(bins.join("sysmaster-init"))
        .args(["--container", "--config", "/dev/null", "--manager"])
        .arg(&manager)
        .arg("--")
        .arg("--unit-path")
        .arg(&unit_dir)
        .arg("--runtime-dir")
        .arg(base.join("run"))
        .args(["--start", "bench.target"])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| format!("cannot run unshare: {e}"))?;
    let result = (|| -> Result<(Vec<f64>, f64, f64)> {
        wait_for("the manager", Duration::from_secs(60), || {
            list_units(&control)
        })?;
        // Let the start job finish so that the state holds every unit.
        std::thread::sleep(Duration::from_secs(3));
        let init = *children(container.id())
            .first()
            .ok_or("no PID 1 in the namespace")?;
        let mut times = Vec::new();
        for _ in 0..kills {
            let old = children(init)
                .into_iter()
                .find(|&p| is_manager(p, &manager))
                .ok_or("no manager process")?;
            let t0 = Instant::now();
            crate::run("kill", &["-KILL", &old.to_string()])?;
            wait_for("the next manager", Duration::from_secs(30), || {
                children(init)
                    .into_iter()
                    .any(|p| p != old && is_manager(p, &manager))
                    && list_units(&control)
            })?;
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
            std::thread::sleep(Duration::from_millis(200));
        }
        let manager_pid = children(init)
            .into_iter()
            .find(|&p| is_manager(p, &manager))
            .ok_or("no manager process")?;
        Ok((times, rss_mib(init)?, rss_mib(manager_pid)?))
    })();
    let _ = container.kill();
    let _ = container.wait();
    let (times, init_rss, manager_rss) =
        result.map_err(|e| format!("{e}; log in {}", base.join("log").display()))?;
    let max = times.iter().copied().fold(0.0, f64::max);
    let min = times.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "recovery (SIGKILL → list-units answered), {} kills: median {:.1} ms, min {:.1} ms, max {:.1} ms",
        times.len(),
        median(times),
        min,
        max
    );
    println!("RSS after the last recovery: PID 1 {init_rss:.2} MiB, manager {manager_rss:.2} MiB");
    let _ = std::fs::remove_dir_all(&base);
    Ok(())
}
